/**
 * Reading `@Flow({ concurrency, concurrencyKey })` and `@Step({ concurrency })` into checked values,
 * recording a problem for each invalid one.
 */
import { describeValue } from '../errors/invalid-options.error.ts';
import { PG_INT_MAX } from '../pgflow.constants.ts';
import type { FlowConcurrency } from './flow-definition.ts';
import type { ProblemList } from './problem-list.ts';

/** Whether a concurrency limit is valid: a whole number the engine's int column holds, at least 1. */
function isLimit(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= PG_INT_MAX;
}

/** The flow's concurrency limit, or null when it has none or it is invalid (then `problems` says why). */
export function readFlowConcurrency(
  concurrency: unknown,
  concurrencyKey: unknown,
  problems: ProblemList,
): FlowConcurrency | null {
  const before = problems.size;
  if (concurrency !== undefined && !isLimit(concurrency)) {
    problems.add(
      'INVALID_OPTION',
      `@Flow({ concurrency }) is ${describeValue(concurrency)}; expected an integer from 1 to ${PG_INT_MAX} (at ` +
        'most that many tasks of the flow started at once, or with concurrencyKey runs in progress per key), ' +
        'e.g. concurrency: 5, or no concurrency for no limit.',
    );
  }
  if (concurrencyKey !== undefined && typeof concurrencyKey !== 'function') {
    problems.add(
      'INVALID_OPTION',
      '@Flow({ concurrencyKey }) must be a function of the run input returning a string, like ' +
        `(input) => input.tenantId, got ${describeValue(concurrencyKey)}; or no concurrencyKey for a limit on ` +
        "the flow's tasks.",
    );
  } else if (concurrencyKey !== undefined && concurrency === undefined) {
    problems.add(
      'INVALID_OPTION',
      '@Flow({ concurrencyKey }) has no concurrency: the key says which runs share a limit, and concurrency is ' +
        'that limit (runs in progress per key). Add concurrency, e.g. @Flow({ concurrency: 1, concurrencyKey }) ' +
        'for one run at a time per key, or remove concurrencyKey.',
    );
  }
  if (problems.size > before || concurrency === undefined) return null;
  return {
    limit: concurrency as number,
    key: (concurrencyKey as ((input: unknown) => unknown) | undefined) ?? null,
  };
}

/** A step's concurrency limit, or null when it has none or it is invalid (then `problems` says why). */
export function readStepConcurrency(value: unknown, methodName: string, problems: ProblemList): number | null {
  if (value === undefined) return null;
  if (isLimit(value)) return value;
  problems.add(
    'INVALID_OPTION',
    `@Step({ concurrency }) is ${describeValue(value)}; expected an integer from 1 to ${PG_INT_MAX} (at most ` +
      'that many tasks of the step started at once), e.g. concurrency: 2, or no concurrency for no limit.',
    methodName,
  );
  return null;
}
