/**
 * The `retention` option of PgflowModule: its type, its defaults and its validation (called by
 * resolvePgflowOptions).
 */
import { InvalidOptionsError } from '../errors/invalid-options.error.ts';
import { MAX_TIMER_DELAY_MS } from '../support/long-timeout.ts';

/**
 * How long ended runs are kept. A run older than its limit is deleted with its step states, tasks
 * and queue messages, and archived queue messages older than the shorter limit go too. Cancelled
 * runs are kept as long as failed ones (both may be inspected and retried). Applied by the
 * processes that run a worker, one at a time, in small batches (see {@link PgflowRetention}).
 */
export interface PgflowRetentionOptions {
  /** Days a completed run is kept after it completed [forever]. */
  readonly completedRuns?: number;
  /** Days a failed or cancelled run is kept after it ended [forever]. */
  readonly failedRuns?: number;
  /** Milliseconds between two passes of the retention policy [600000: ten minutes]. */
  readonly intervalMs?: number;
  /**
   * Runs (and archived messages) deleted per transaction, at most [200]: a transaction holds the
   * locks of the rows it deletes until it ends, and 200 runs of a few steps take tens of milliseconds.
   */
  readonly batchSize?: number;
}

/** The retention options with every default applied; undefined days: kept forever. */
export interface ResolvedPgflowRetention {
  readonly completedRuns: number | undefined;
  readonly failedRuns: number | undefined;
  readonly intervalMs: number;
  readonly batchSize: number;
}

export const RETENTION_DEFAULTS = Object.freeze({ intervalMs: 600_000, batchSize: 200 });

/** A hundred years: beyond that a limit means "forever", and leave it out. */
const MAX_DAYS = 36_500;
const KEYS = ['completedRuns', 'failedRuns', 'intervalMs', 'batchSize'];

/** Checks the `retention` option and applies its defaults; undefined when it is not given. */
export function resolveRetention(value: unknown): ResolvedPgflowRetention | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionsError('retention', value, 'an object like { completedRuns: 30, failedRuns: 90 } (days)');
  }
  const raw = value as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!KEYS.includes(key)) {
      throw new InvalidOptionsError(
        `retention.${key}`,
        raw[key],
        `one of the known options: ${KEYS.map((k) => `retention.${k}`).join(', ')}`,
      );
    }
  }
  const completedRuns = days(raw.completedRuns, 'completedRuns');
  const failedRuns = days(raw.failedRuns, 'failedRuns');
  if (completedRuns === undefined && failedRuns === undefined) {
    throw new InvalidOptionsError(
      'retention',
      value,
      'retention.completedRuns, retention.failedRuns or both, in days (e.g. { completedRuns: 30 }), ' +
        'or no retention option to keep every run',
    );
  }
  return Object.freeze({
    completedRuns,
    failedRuns,
    intervalMs: integer(raw.intervalMs, 'intervalMs', 1, MAX_TIMER_DELAY_MS, 'milliseconds'),
    batchSize: integer(raw.batchSize, 'batchSize', 1, 10_000, 'runs'),
  });
}

function days(value: unknown, name: 'completedRuns' | 'failedRuns'): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_DAYS) {
    throw new InvalidOptionsError(
      `retention.${name}`,
      value,
      `a positive number of days, at most ${MAX_DAYS} (e.g. 30; 0.5 is twelve hours), or no ${name} option to keep ` +
        'those runs forever',
    );
  }
  return value;
}

function integer(value: unknown, name: 'intervalMs' | 'batchSize', min: number, max: number, unit: string): number {
  const fallback = RETENTION_DEFAULTS[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionsError(
      `retention.${name}`,
      value,
      `an integer number of ${unit} from ${min} to ${max} (default ${fallback})`,
    );
  }
  return value;
}
