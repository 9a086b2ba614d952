import { InvalidOptionsError } from './errors/invalid-options.error.ts';
import { PgflowErrorCode } from './errors/pgflow.error.ts';
import {
  assertValidAsyncOptions,
  PGFLOW_DEFAULT_OPTIONS,
  type PgflowModuleAsyncOptions,
  type PgflowModuleOptions,
  type PgflowOptionsFactory,
  resolvePgflowOptions,
} from './pgflow-options.ts';

function optionsError(options: unknown): InvalidOptionsError {
  try {
    resolvePgflowOptions(options as PgflowModuleOptions);
  } catch (error) {
    if (error instanceof InvalidOptionsError) return error;
    throw error;
  }
  throw new Error('expected the options to be refused');
}

class SomeFlow {}

describe('resolvePgflowOptions', () => {
  it('applies every documented default', () => {
    expect(resolvePgflowOptions()).toEqual({
      dataSource: undefined,
      worker: {
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
      },
      compilation: 'verify',
      limits: { maxInputBytes: undefined, maxOutputBytes: undefined },
      forceRecompileInProduction: false,
      retention: undefined,
    });
    expect(resolvePgflowOptions({})).toEqual(PGFLOW_DEFAULT_OPTIONS);
    expect(resolvePgflowOptions({ worker: {} })).toEqual(PGFLOW_DEFAULT_OPTIONS);
  });

  it('declares a worker dead after 3 heartbeat intervals unless told otherwise, and refuses less than one', () => {
    expect(resolvePgflowOptions({ worker: { heartbeatIntervalMs: 1000 } }).worker.declareDeadAfterMs).toBe(3000);
    expect(resolvePgflowOptions({ worker: { declareDeadAfterMs: 60_000 } }).worker.declareDeadAfterMs).toBe(60_000);
    expect(() => resolvePgflowOptions({ worker: { heartbeatIntervalMs: 1000, declareDeadAfterMs: 1000 } })).toThrow(
      /worker\.declareDeadAfterMs.*above worker\.heartbeatIntervalMs \(1000\)/,
    );
  });

  it('keeps the values given, filling in the rest', () => {
    const resolved = resolvePgflowOptions({
      dataSource: 'analytics',
      worker: {
        enabled: false,
        flows: ['a_flow', SomeFlow],
        maxConcurrent: 50,
        shutdownTimeoutMs: 0,
        maxPollSeconds: 0,
      },
      compilation: 'recompile',
    });
    expect(resolved.dataSource).toBe('analytics');
    expect(resolved.compilation).toBe('recompile');
    expect(resolved.worker).toEqual({
      ...PGFLOW_DEFAULT_OPTIONS.worker,
      enabled: false,
      flows: ['a_flow', SomeFlow],
      maxConcurrent: 50,
      shutdownTimeoutMs: 0,
      maxPollSeconds: 0,
    });
  });

  it("keeps a registration's flows, frozen, apart from the flows its worker executes", () => {
    const resolved = resolvePgflowOptions({
      dataSource: 'billing',
      flows: [SomeFlow, 'b_flow'],
      worker: { flows: ['b_flow'] },
    });
    expect(resolved.flows).toEqual([SomeFlow, 'b_flow']);
    expect(Object.isFrozen(resolved.flows)).toBe(true);
    expect(resolved.worker.flows).toEqual(['b_flow']);
    expect(resolvePgflowOptions({}).flows).toBeUndefined();
  });

  it('accepts compilation: false', () => {
    expect(resolvePgflowOptions({ compilation: false }).compilation).toBe(false);
  });

  it('returns frozen options', () => {
    const resolved = resolvePgflowOptions({ worker: { flows: ['a'] } });
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(Object.isFrozen(resolved.worker)).toBe(true);
    expect(Object.isFrozen(resolved.worker.flows)).toBe(true);
  });

  it.each<[string, unknown, string, RegExp]>([
    ['options that are not an object', 'verify', 'options', /an options object/],
    [
      'an unknown top-level option',
      { workers: {} },
      'workers',
      /one of the known options: dataSource, flows, worker, compilation/,
    ],
    ['an empty dataSource name', { dataSource: '' }, 'dataSource', /name of a TypeORM DataSource/],
    ['a dataSource that is not a string', { dataSource: 42 }, 'dataSource', /name of a TypeORM DataSource/],
    ['compilation: true', { compilation: true }, 'compilation', /'verify' \(the default\), 'recompile' or false/],
    ['an unknown compilation mode', { compilation: 'auto' }, 'compilation', /'verify'/],
    ['compilation: null', { compilation: null }, 'compilation', /'verify'/],
    ['worker that is not an object', { worker: true }, 'worker', /an object of worker options/],
    ['an unknown worker option', { worker: { concurrency: 5 } }, 'worker.concurrency', /worker\.maxConcurrent/],
    ['worker.enabled that is not a boolean', { worker: { enabled: 'yes' } }, 'worker.enabled', /true or false/],
    ['flows that is not an array', { flows: SomeFlow }, 'flows', /non-empty array .* flows of this registration/],
    ['an empty flows', { flows: [] }, 'flows', /non-empty array/],
    ['a flows entry that is neither', { flows: [SomeFlow, {}] }, 'flows[1]', /a flow slug/],
    ['worker.flows that is not an array', { worker: { flows: 'a_flow' } }, 'worker.flows', /non-empty array/],
    ['an empty worker.flows', { worker: { flows: [] } }, 'worker.flows', /set worker\.enabled to false/],
    ['a worker.flows entry that is neither', { worker: { flows: ['a', 3] } }, 'worker.flows[1]', /a flow slug/],
    ['an empty slug in worker.flows', { worker: { flows: [''] } }, 'worker.flows[0]', /a flow slug/],
  ])('refuses %s', (_label, options, option, expected) => {
    const error = optionsError(options);
    expect(error.option).toBe(option);
    expect(error.expected).toMatch(expected);
    expect(error.code).toBe(PgflowErrorCode.InvalidOptions);
    expect(error.message).toContain(`Invalid PgflowModule option ${option}:`);
  });

  it.each<[string, unknown, string]>([
    ['maxConcurrent', 0, 'from 1 to 10000'],
    ['maxConcurrent', 2.5, 'from 1 to 10000'],
    ['maxConcurrent', '10', 'from 1 to 10000'],
    ['maxConcurrent', null, 'from 1 to 10000'],
    ['batchSize', 0, 'from 1 to 10000'],
    ['batchSize', 10_001, 'from 1 to 10000'],
    ['maxPollSeconds', -1, 'from 0 to 300'],
    ['maxPollSeconds', 1.5, 'from 0 to 300'],
    ['pollIntervalMs', 0, 'from 1 to 2147483647'],
    ['visibilityTimeout', 0, 'from 1 to 2147483647'],
    ['heartbeatIntervalMs', 0, 'from 1 to 2147483647'],
    ['heartbeatIntervalMs', Number.POSITIVE_INFINITY, 'from 1 to 2147483647'],
    ['shutdownTimeoutMs', -1, 'from 0 to 2147483647'],
    ['shutdownTimeoutMs', 2_147_483_648, 'from 0 to 2147483647'],
    ['shutdownTimeoutMs', Number.NaN, 'from 0 to 2147483647'],
  ])('refuses worker.%s = %p, naming the value and the range', (name, value, range) => {
    const error = optionsError({ worker: { [name]: value } });
    expect(error.option).toBe(`worker.${name}`);
    expect(error.value).toBe(value);
    expect(error.expected).toContain(range);
    expect(error.message).toMatch(
      new RegExp(`^Invalid PgflowModule option worker\\.${name}: .+\\. Expected an integer`),
    );
  });
});

describe('assertValidAsyncOptions', () => {
  class OptionsFactory implements PgflowOptionsFactory {
    createPgflowOptions(): PgflowModuleOptions {
      return {};
    }
  }

  it.each<[string, PgflowModuleAsyncOptions]>([
    ['useFactory', { useFactory: () => ({}), inject: [] }],
    ['useClass', { useClass: OptionsFactory }],
    ['useExisting', { useExisting: OptionsFactory, imports: [] }],
  ])('accepts %s', (_label, options) => {
    expect(() => assertValidAsyncOptions(options)).not.toThrow();
  });

  it('refuses none of useFactory, useClass and useExisting', () => {
    expect(() => assertValidAsyncOptions({ imports: [] })).toThrow(
      /exactly one of useFactory, useClass and useExisting/,
    );
  });

  it('refuses more than one', () => {
    const error = catchOptionsError(() =>
      assertValidAsyncOptions({ useFactory: () => ({}), useClass: OptionsFactory }),
    );
    expect(error.option).toBe('useFactory + useClass');
  });

  it('refuses a useFactory that is not a function, and an inject that is not an array', () => {
    expect(catchOptionsError(() => assertValidAsyncOptions({ useFactory: {} as never })).option).toBe('useFactory');
    expect(
      catchOptionsError(() => assertValidAsyncOptions({ useFactory: () => ({}), inject: 'X' as never })).option,
    ).toBe('inject');
  });
});

function catchOptionsError(action: () => void): InvalidOptionsError {
  try {
    action();
  } catch (error) {
    if (error instanceof InvalidOptionsError) return error;
    throw error;
  }
  throw new Error('expected an InvalidOptionsError');
}

describe('the retention option', () => {
  it('keeps the days given, each kind alone or both, with the default interval and batch size', () => {
    expect(resolvePgflowOptions({ retention: { completedRuns: 30, failedRuns: 90 } }).retention).toEqual({
      completedRuns: 30,
      failedRuns: 90,
      intervalMs: 600_000,
      batchSize: 200,
    });
    expect(resolvePgflowOptions({ retention: { completedRuns: 0.5 } }).retention).toMatchObject({
      completedRuns: 0.5,
      failedRuns: undefined,
    });
    expect(resolvePgflowOptions({ retention: { failedRuns: 7, intervalMs: 1000, batchSize: 100 } }).retention).toEqual({
      completedRuns: undefined,
      failedRuns: 7,
      intervalMs: 1000,
      batchSize: 100,
    });
  });

  it.each<[string, unknown, string, RegExp]>([
    ['retention that is not an object', 30, 'retention', /an object like \{ completedRuns: 30/],
    ['retention with neither limit', {}, 'retention', /retention\.completedRuns, retention\.failedRuns or both/],
    ['zero days', { completedRuns: 0 }, 'retention.completedRuns', /a positive number of days/],
    ['negative days', { failedRuns: -1 }, 'retention.failedRuns', /a positive number of days/],
    ['days as a string', { completedRuns: '30' }, 'retention.completedRuns', /a positive number of days/],
    ['infinite days', { failedRuns: Number.POSITIVE_INFINITY }, 'retention.failedRuns', /at most 36500/],
    ['a batch size of 0', { completedRuns: 1, batchSize: 0 }, 'retention.batchSize', /from 1 to 10000/],
    ['an interval of 1.5 ms', { completedRuns: 1, intervalMs: 1.5 }, 'retention.intervalMs', /an integer/],
    ['an unknown retention option', { completedRun: 30 }, 'retention.completedRun', /retention\.completedRuns/],
  ])('refuses %s, naming the option and the value', (_label, retention, option, expected) => {
    const error = optionsError({ retention });
    expect(error.option).toBe(option);
    expect(error.expected).toMatch(expected);
    expect(error.message).toContain(`Invalid PgflowModule option ${option}:`);
  });
});
