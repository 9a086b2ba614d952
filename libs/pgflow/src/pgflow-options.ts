/**
 * PgflowModule options: their types, their defaults, and the one function that validates them
 * ({@link resolvePgflowOptions}), so that the module, the worker and the client read only
 * resolved values.
 */
import type { FactoryProvider, ModuleMetadata, Type } from '@nestjs/common';
import { InvalidOptionsError } from './errors/invalid-options.error.ts';
import {
  NO_PROCESS_LIMITS,
  type PgflowLimitsOptions,
  type ResolvedPgflowLimits,
  resolveLimits,
} from './limits/payload-limits.ts';
import { PG_INT_MAX } from './pgflow.constants.ts';
import {
  type PgflowRetentionOptions,
  type ResolvedPgflowRetention,
  resolveRetention,
} from './retention/retention-options.ts';
import { MAX_TIMER_DELAY_MS } from './support/long-timeout.ts';
import type { FlowReference } from './types/flow-class.ts';

/**
 * What to do at boot with each flow's definition in the database:
 * - `'verify'` (default): create a missing flow, accept an identical one, refuse to boot on a
 *   different one with an error listing the differences;
 * - `'recompile'`: replace a different one, **deleting its runs** (local development only);
 * - `false`: do nothing (the flows are managed some other way).
 */
export type CompilationMode = 'verify' | 'recompile' | false;

/** The worker: one per registration and process, serving the registration's flows (or `flows`). */
export interface PgflowWorkerOptions {
  /** Run a worker in this process [true]. An API-only process sets false and can still start and watch runs. */
  readonly enabled?: boolean;
  /** The flows this worker serves, by slug or class, among the registration's flows [all of them]. */
  readonly flows?: readonly FlowReference[];
  /** Tasks executing at once, at most [10]. */
  readonly maxConcurrent?: number;
  /** Messages read from a queue per poll, at most [10]. */
  readonly batchSize?: number;
  /** Seconds a poll waits for messages before returning empty [2]. */
  readonly maxPollSeconds?: number;
  /** Milliseconds between checks while a poll waits [100]. */
  readonly pollIntervalMs?: number;
  /** Seconds a read message stays invisible to other workers before its task starts [5]. */
  readonly visibilityTimeout?: number;
  /** Milliseconds between heartbeats in pgflow.workers [5000]. */
  readonly heartbeatIntervalMs?: number;
  /** Milliseconds running tasks get to finish at shutdown before they are handed back [30000]. */
  readonly shutdownTimeoutMs?: number;
  /**
   * Milliseconds of heartbeat silence after which any other worker declares this one dead and hands
   * its started tasks to others at once [3 × heartbeatIntervalMs]. Lower finds a crashed worker
   * sooner; too low declares a worker dead while a CPU-bound handler blocks its event loop (its
   * tasks then run twice; completion stays exactly once).
   */
  readonly declareDeadAfterMs?: number;
}

/** The options of `PgflowModule.forRoot()`. */
export interface PgflowModuleOptions {
  /** The name of the TypeORM DataSource to use (`TypeOrmModule.forRoot({ name })`) [the default one]. */
  readonly dataSource?: string;
  /**
   * The flows whose runs live in this registration's database, by slug or class [every discovered
   * flow]. Required when PgflowModule is registered once per DataSource (several databases): each
   * discovered flow then belongs to exactly one registration, and FlowClient routes to its database.
   */
  readonly flows?: readonly FlowReference[];
  readonly worker?: PgflowWorkerOptions;
  /** See {@link CompilationMode} ['verify']. */
  readonly compilation?: CompilationMode;
  /** Payload limits of this process, stricter than the engine's (pgflow.limits) [none]. */
  readonly limits?: PgflowLimitsOptions;
  /**
   * Allows compilation 'recompile' when NODE_ENV is 'production' [false]: it deletes the runs of every
   * flow whose definition changed, so production refuses it unless this says so too.
   */
  readonly forceRecompileInProduction?: boolean;
  /**
   * How long ended runs are kept, in days ({@link PgflowRetentionOptions}) [forever]: the processes
   * that run a worker delete older ones, one process at a time, in small batches.
   */
  readonly retention?: PgflowRetentionOptions;
}

/** A class that creates the options, for `forRootAsync({ useClass | useExisting })`. */
export interface PgflowOptionsFactory {
  createPgflowOptions(): PgflowModuleOptions | Promise<PgflowModuleOptions>;
}

/** The options of `PgflowModule.forRootAsync()`: exactly one of useFactory, useClass, useExisting. */
export interface PgflowModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** Providers to inject into `useFactory`. */
  readonly inject?: FactoryProvider['inject'];
  readonly useFactory?: (...args: never[]) => PgflowModuleOptions | Promise<PgflowModuleOptions>;
  readonly useClass?: Type<PgflowOptionsFactory>;
  readonly useExisting?: Type<PgflowOptionsFactory>;
}

/** The worker options with every default applied. */
export interface ResolvedPgflowWorkerOptions {
  readonly enabled: boolean;
  /** undefined: every discovered flow. */
  readonly flows: readonly FlowReference[] | undefined;
  readonly maxConcurrent: number;
  readonly batchSize: number;
  readonly maxPollSeconds: number;
  readonly pollIntervalMs: number;
  readonly visibilityTimeout: number;
  readonly heartbeatIntervalMs: number;
  readonly shutdownTimeoutMs: number;
  readonly declareDeadAfterMs: number;
}

/** The module options with every default applied and every value checked. Frozen. */
export interface ResolvedPgflowOptions {
  /** undefined: the default DataSource. */
  readonly dataSource: string | undefined;
  /** undefined: every discovered flow (allowed only when PgflowModule is registered once). */
  readonly flows: readonly FlowReference[] | undefined;
  readonly worker: ResolvedPgflowWorkerOptions;
  readonly compilation: CompilationMode;
  readonly limits: ResolvedPgflowLimits;
  readonly forceRecompileInProduction: boolean;
  /** undefined: every run is kept. */
  readonly retention: ResolvedPgflowRetention | undefined;
}

/** The defaults, as documented on each option. */
export const PGFLOW_DEFAULT_OPTIONS: ResolvedPgflowOptions = Object.freeze({
  dataSource: undefined,
  flows: undefined,
  worker: Object.freeze({
    enabled: true,
    flows: undefined,
    maxConcurrent: 10,
    batchSize: 10,
    maxPollSeconds: 2,
    pollIntervalMs: 100,
    visibilityTimeout: 5,
    heartbeatIntervalMs: 5000,
    shutdownTimeoutMs: 30_000,
    declareDeadAfterMs: 15_000,
  }),
  compilation: 'verify',
  limits: NO_PROCESS_LIMITS,
  forceRecompileInProduction: false,
  retention: undefined,
});

type IntegerOption = Exclude<keyof ResolvedPgflowWorkerOptions, 'enabled' | 'flows' | 'declareDeadAfterMs'>;

/**
 * Ranges of the worker's integer options, with the reason for each bound. The millisecond options
 * drive plain timers, which Node.js cannot make longer than MAX_TIMER_DELAY_MS.
 */
const INTEGER_RULES: Record<IntegerOption, { min: number; max: number; unit: string }> = {
  maxConcurrent: { min: 1, max: 10_000, unit: 'tasks' },
  // pgmq reads take `qty int`; more than 10,000 messages per read would hold that many invisible at once.
  batchSize: { min: 1, max: 10_000, unit: 'messages' },
  // A poll holds a pooled connection while it waits: longer waits starve the pool and delay shutdown.
  maxPollSeconds: { min: 0, max: 300, unit: 'seconds' },
  // 0 would make a waiting poll spin.
  pollIntervalMs: { min: 1, max: MAX_TIMER_DELAY_MS, unit: 'milliseconds' },
  // 0 would let another worker read the same message at once; the engine stores seconds as int.
  visibilityTimeout: { min: 1, max: PG_INT_MAX, unit: 'seconds' },
  heartbeatIntervalMs: { min: 1, max: MAX_TIMER_DELAY_MS, unit: 'milliseconds' },
  shutdownTimeoutMs: { min: 0, max: MAX_TIMER_DELAY_MS, unit: 'milliseconds' },
};

const TOP_LEVEL_KEYS = [
  'dataSource',
  'flows',
  'worker',
  'compilation',
  'limits',
  'forceRecompileInProduction',
  'retention',
];
const WORKER_KEYS = Object.keys(PGFLOW_DEFAULT_OPTIONS.worker);

/**
 * Applies the defaults to the options and checks every value, throwing an
 * {@link InvalidOptionsError} that names the option, the value given and what is allowed. Unknown
 * keys are errors too (a misspelled option would otherwise be silently ignored). Which flows
 * `flows` and `worker.flows` name can only be checked once the flows are discovered (see
 * PgflowRegistrations).
 */
export function resolvePgflowOptions(options: PgflowModuleOptions | undefined = {}): ResolvedPgflowOptions {
  const raw = expectObject(options, 'options', 'an options object, like { worker: { maxConcurrent: 10 } }');
  rejectUnknownKeys(raw, TOP_LEVEL_KEYS, '');

  const { dataSource } = raw;
  if (dataSource !== undefined && (typeof dataSource !== 'string' || dataSource.length === 0)) {
    throw new InvalidOptionsError(
      'dataSource',
      dataSource,
      'the name of a TypeORM DataSource (the `name` given to TypeOrmModule.forRoot), or no dataSource for the default one',
    );
  }

  const compilation = raw.compilation === undefined ? PGFLOW_DEFAULT_OPTIONS.compilation : raw.compilation;
  if (compilation !== 'verify' && compilation !== 'recompile' && compilation !== false) {
    throw new InvalidOptionsError('compilation', compilation, "'verify' (the default), 'recompile' or false");
  }

  return Object.freeze({
    dataSource: dataSource as string | undefined,
    flows: resolveFlows(raw.flows, 'flows'),
    worker: resolveWorker(raw.worker),
    compilation,
    limits: resolveLimits(raw.limits),
    forceRecompileInProduction: resolveForce(raw.forceRecompileInProduction),
    retention: resolveRetention(raw.retention),
  });
}

function resolveForce(value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new InvalidOptionsError('forceRecompileInProduction', value, 'true or false');
  return value;
}

function resolveWorker(value: unknown): ResolvedPgflowWorkerOptions {
  const defaults = PGFLOW_DEFAULT_OPTIONS.worker;
  if (value === undefined) return defaults;
  const raw = expectObject(value, 'worker', 'an object of worker options, like { maxConcurrent: 10 }');
  rejectUnknownKeys(raw, WORKER_KEYS, 'worker.');

  const enabled = raw.enabled === undefined ? defaults.enabled : raw.enabled;
  if (typeof enabled !== 'boolean') throw new InvalidOptionsError('worker.enabled', enabled, 'true or false');

  const resolved: Record<string, unknown> = { enabled, flows: resolveFlows(raw.flows, 'worker.flows') };
  for (const [name, rule] of Object.entries(INTEGER_RULES) as Array<
    [IntegerOption, (typeof INTEGER_RULES)[IntegerOption]]
  >) {
    const option = raw[name] === undefined ? defaults[name] : raw[name];
    if (typeof option !== 'number' || !Number.isInteger(option) || option < rule.min || option > rule.max) {
      throw new InvalidOptionsError(
        `worker.${name}`,
        option,
        `an integer number of ${rule.unit} from ${rule.min} to ${rule.max} (default ${defaults[name]})`,
      );
    }
    resolved[name] = option;
  }
  resolved.declareDeadAfterMs = resolveDeadAfter(raw.declareDeadAfterMs, resolved.heartbeatIntervalMs as number);
  return Object.freeze(resolved as unknown as ResolvedPgflowWorkerOptions);
}

/** More than one heartbeat interval (a live worker is silent that long between beats); 3 by default. */
function resolveDeadAfter(value: unknown, heartbeatIntervalMs: number): number {
  if (value === undefined) return Math.min(3 * heartbeatIntervalMs, MAX_TIMER_DELAY_MS);
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value <= heartbeatIntervalMs ||
    value > MAX_TIMER_DELAY_MS
  ) {
    throw new InvalidOptionsError(
      'worker.declareDeadAfterMs',
      value,
      `an integer number of milliseconds above worker.heartbeatIntervalMs (${heartbeatIntervalMs}) and at most ` +
        `${MAX_TIMER_DELAY_MS} (default 3 × heartbeatIntervalMs)`,
    );
  }
  return value;
}

/** A list of flows (`flows`, `worker.flows`): non-empty, each a slug or a class. */
function resolveFlows(value: unknown, option: 'flows' | 'worker.flows'): readonly FlowReference[] | undefined {
  if (value === undefined) return undefined;
  const expected =
    option === 'flows'
      ? "a non-empty array of flow slugs or @Flow() classes: the flows of this registration's database, or no flows option for every flow"
      : 'a non-empty array of flow slugs or @Flow() classes, or no flows option to serve every flow';
  if (!Array.isArray(value)) throw new InvalidOptionsError(option, value, expected);
  if (value.length === 0) {
    throw new InvalidOptionsError(
      option,
      value,
      option === 'flows' ? expected : `${expected} (to run no worker in this process, set worker.enabled to false)`,
    );
  }
  value.forEach((flow: unknown, index) => {
    if (!(typeof flow === 'string' && flow.length > 0) && typeof flow !== 'function') {
      throw new InvalidOptionsError(`${option}[${index}]`, flow, 'a flow slug (string) or a @Flow() class');
    }
  });
  return Object.freeze([...value]);
}

/**
 * Checks `forRootAsync()` options: exactly one of useFactory, useClass and useExisting, of the
 * right kind. Throws an {@link InvalidOptionsError}.
 */
export function assertValidAsyncOptions(options: PgflowModuleAsyncOptions): void {
  const raw = expectObject(options, 'forRootAsync options', 'an object with useFactory, useClass or useExisting');
  const given = (['useFactory', 'useClass', 'useExisting'] as const).filter((key) => raw[key] !== undefined);
  if (given.length !== 1) {
    throw new InvalidOptionsError(
      given.length === 0 ? 'forRootAsync' : given.join(' + '),
      given.length === 0 ? undefined : given.map((key) => raw[key]),
      'exactly one of useFactory, useClass and useExisting in PgflowModule.forRootAsync()',
    );
  }
  const key = given[0] as string;
  if (typeof raw[key] !== 'function') {
    throw new InvalidOptionsError(
      key,
      raw[key],
      key === 'useFactory' ? 'a function returning the options' : 'a class implementing PgflowOptionsFactory',
    );
  }
  if (raw.inject !== undefined && !Array.isArray(raw.inject)) {
    throw new InvalidOptionsError('inject', raw.inject, 'an array of injection tokens');
  }
}

function expectObject(value: unknown, option: string, expected: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionsError(option, value, expected);
  }
  return value as Record<string, unknown>;
}

function rejectUnknownKeys(raw: Record<string, unknown>, known: readonly string[], prefix: string): void {
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) {
      throw new InvalidOptionsError(
        `${prefix}${key}`,
        raw[key],
        `one of the known options: ${known.map((k) => `${prefix}${k}`).join(', ')}`,
      );
    }
  }
}
