/**
 * Per-process payload limits (`PgflowModule.forRoot({ limits })`): stricter than the engine's own,
 * which hold for every caller of the database (pgflow.limits), and checked before the database is
 * asked, so that a process refuses what it should not send with an error of its own.
 */
import { InvalidOptionsError } from '../errors/invalid-options.error.ts';
import { PG_INT_MAX } from '../pgflow.constants.ts';

export interface PgflowLimitsOptions {
  /** Bytes of a run's input as JSON, at most: a larger start() is refused [no limit but the engine's]. */
  readonly maxInputBytes?: number;
  /** Bytes of a step's output as JSON, at most: a larger output fails the attempt [the engine's only]. */
  readonly maxOutputBytes?: number;
}

export interface ResolvedPgflowLimits {
  readonly maxInputBytes: number | undefined;
  readonly maxOutputBytes: number | undefined;
}

export const NO_PROCESS_LIMITS: ResolvedPgflowLimits = Object.freeze({
  maxInputBytes: undefined,
  maxOutputBytes: undefined,
});

const KEYS = ['maxInputBytes', 'maxOutputBytes'] as const;

export function resolveLimits(value: unknown): ResolvedPgflowLimits {
  if (value === undefined) return NO_PROCESS_LIMITS;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionsError('limits', value, 'an object like { maxInputBytes: 1048576 }');
  }
  const raw = value as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new InvalidOptionsError(
        `limits.${key}`,
        raw[key],
        `one of the known options: limits.${KEYS.join(', limits.')}`,
      );
    }
  }
  const resolved: Record<string, number | undefined> = {};
  for (const key of KEYS) {
    const option = raw[key];
    if (
      option !== undefined &&
      (typeof option !== 'number' || !Number.isInteger(option) || option < 1 || option > PG_INT_MAX)
    ) {
      throw new InvalidOptionsError(
        `limits.${key}`,
        option,
        `an integer number of bytes from 1 to ${PG_INT_MAX}, or no ${key}`,
      );
    }
    resolved[key] = option as number | undefined;
  }
  return Object.freeze(resolved as unknown as ResolvedPgflowLimits);
}

/** Bytes of a JSON value's text (UTF-8), as it is sent to the database. */
export function jsonBytes(json: unknown): number {
  return Buffer.byteLength(JSON.stringify(json) ?? 'null');
}

/** The failure message of an attempt whose output is over the process's limit (the engine's wording). */
export function outputTooLargeMessage(stepSlug: string, bytes: number, limit: number): string {
  return (
    `[OUTPUT_TOO_LARGE] The output of step '${stepSlug}' is ${bytes} bytes of JSON; this process's limit is ${limit} ` +
    '(PgflowModule limits.maxOutputBytes). Return less (store large data elsewhere and return a reference), or raise the limit.'
  );
}
