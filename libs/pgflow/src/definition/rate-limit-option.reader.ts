/** Reading `@Flow({ rateLimit })` into a checked {@link FlowRateLimit}, recording a problem for each invalid part. */
import { describeValue } from '../errors/invalid-options.error.ts';
import { PG_INT_MAX } from '../pgflow.constants.ts';
import type { FlowRateLimit } from './flow-definition.ts';
import { unknownKeyProblems } from './option-rules.ts';
import type { ProblemList } from './problem-list.ts';

const RATE_LIMIT_KEYS = ['limit', 'periodSeconds', 'key'];
const EXAMPLE = '{ limit: 5, periodSeconds: 1 }';

/** The flow's rate limit, or null when it has none or it is invalid (then `problems` says why). */
export function readRateLimit(value: unknown, problems: ProblemList): FlowRateLimit | null {
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.add(
      'INVALID_OPTION',
      `@Flow({ rateLimit }) must be an object like ${EXAMPLE} (at most 5 task starts per second), got ` +
        `${describeValue(value)}.`,
    );
    return null;
  }
  const raw = value as Record<string, unknown>;
  const before = problems.size;
  for (const text of unknownKeyProblems(raw, RATE_LIMIT_KEYS))
    problems.add('UNKNOWN_OPTION', `@Flow({ rateLimit }): ${text}.`);
  for (const [name, meaning] of [
    ['limit', 'task starts allowed per window'],
    ['periodSeconds', 'the window, in seconds'],
  ] as const) {
    const n = raw[name];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > PG_INT_MAX) {
      problems.add(
        'INVALID_OPTION',
        `@Flow({ rateLimit: { ${name} } }) is ${describeValue(n)}; expected an integer from 1 to ${PG_INT_MAX} ` +
          `(${meaning}), e.g. rateLimit: ${EXAMPLE}, or no rateLimit for no limit.`,
      );
    }
  }
  if (raw.key !== undefined && typeof raw.key !== 'function') {
    problems.add(
      'INVALID_OPTION',
      `@Flow({ rateLimit: { key } }) must be a function of the run input returning a string, like ` +
        `(input) => input.tenantId, got ${describeValue(raw.key)}; or no key for one budget for the whole flow.`,
    );
  }
  if (problems.size > before) return null;
  return {
    limit: raw.limit as number,
    periodSeconds: raw.periodSeconds as number,
    key: (raw.key as ((input: unknown) => unknown) | undefined) ?? null,
  };
}
