/**
 * Whatever a handler throws or returns, the task ends in complete or fail with a readable message,
 * and the worker goes on: non-Error throws, rejected promises, and outputs that are not JSON.
 */
import { Flow, RunFailedError, Step } from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

type Throwable = 'string' | 'number' | 'undefined' | 'null' | 'object' | 'error' | 'rejection' | 'custom';

class QuotaError extends Error {
  override readonly name = 'QuotaError';
}

const thrown: Record<Throwable, () => unknown> = {
  string: () => 'plain string failure',
  number: () => 42,
  undefined: () => undefined,
  null: () => null,
  object: () => ({ code: 'E_LIMIT', detail: 'quota exceeded' }),
  error: () => new Error('a real Error'),
  rejection: () => new Error('an async rejection'),
  custom: () => new QuotaError('over quota by 3'),
};

@Flow({ slug: 'values_throw', maxAttempts: 1 })
class ThrowingFlow {
  @Step()
  async boom(input: { kind: Throwable }): Promise<string> {
    if (input.kind === 'rejection') {
      await Promise.resolve();
      return Promise.reject(thrown.rejection());
    }
    throw thrown[input.kind]();
  }
}

type Returnable = 'bigint' | 'function' | 'cycle' | 'nan' | 'nested_bigint' | 'symbol' | 'map' | 'promise' | 'date';

function cyclic(): unknown {
  const node: { name: string; self?: unknown } = { name: 'loop' };
  node.self = node;
  return node;
}

const returned: Record<Returnable, () => unknown> = {
  bigint: () => 10n,
  function: () => () => 'a function',
  cycle: cyclic,
  nan: () => Number.NaN,
  nested_bigint: () => ({ order: { total: 12n } }),
  symbol: () => Symbol('s'),
  map: () => ({ totals: new Map([['a', 1]]) }),
  // A promise nested in the output (a missing await), not the handler's own returned promise.
  promise: () => ({ pending: Promise.resolve(1) }),
  date: () => ({ at: new Date('2024-01-02T03:04:05.000Z') }),
};

@Flow({ slug: 'values_return', maxAttempts: 1 })
class ReturningFlow {
  @Step()
  produce(input: { kind: Returnable }): unknown {
    return returned[input.kind]();
  }
}

@Flow({ slug: 'values_retry_output', maxAttempts: 2, baseDelay: 0 })
class RetriedOutputFlow {
  @Step()
  produce(): unknown {
    return 1n;
  }
}

@Flow({ slug: 'values_ok', maxAttempts: 1 })
class HealthyFlow {
  @Step()
  ok() {
    return 'still working';
  }
}

const db = useTestDatabase();
const apps = useApps();

function startApp() {
  return apps.start({ url: db.url, providers: [ThrowingFlow, ReturningFlow, RetriedOutputFlow, HealthyFlow] });
}

async function failureOf(run: { wait(options: { timeoutMs: number }): Promise<unknown> }): Promise<RunFailedError> {
  const error = await run.wait({ timeoutMs: 10_000 }).catch((caught: unknown) => caught);
  if (!(error instanceof RunFailedError)) throw new Error(`expected a RunFailedError, got ${String(error)}`);
  return error;
}

async function taskError(runId: string, stepSlug: string): Promise<string | null> {
  const [row] = await db.query<{ error_message: string | null }>(
    'select error_message from pgflow.step_tasks where run_id = $1 and step_slug = $2',
    [runId, stepSlug],
  );
  return row?.error_message ?? null;
}

describe('what a handler throws', () => {
  const cases: Array<[Throwable, RegExp]> = [
    ['string', /plain string failure/],
    ['number', /42/],
    ['undefined', /undefined/],
    ['null', /null/],
    ['object', /E_LIMIT/],
    ['error', /a real Error/],
    ['rejection', /an async rejection/],
    ['custom', /over quota by 3/],
  ];

  it.each(cases)('a thrown %s fails the attempt with a readable error_message', async (kind, expected) => {
    const { client } = await startApp();
    const run = await client.start(ThrowingFlow, { kind });

    const error = await failureOf(run);
    expect(error.stepSlug).toBe('boom');
    expect(error.errorMessage).toMatch(expected);
    expect(error.errorMessage).not.toMatch(/\[object Object\]/);
    const stored = await taskError(run.runId, 'boom');
    expect(stored).toMatch(expected);
    expect(stored?.trim().length).toBeGreaterThan(2);
  });

  it('keeps working after handlers throw: the next run completes', async () => {
    const { client } = await startApp();
    const failing = await Promise.all(
      (['string', 'number', 'undefined', 'object'] as const).map((kind) => client.start(ThrowingFlow, { kind })),
    );
    await Promise.all(failing.map((run) => failureOf(run)));

    const healthy = await client.start(HealthyFlow, {});
    await expect(healthy.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { ok: 'still working' } });
  });
});

describe('what a handler returns', () => {
  const cases: Array<[Returnable, RegExp]> = [
    ['bigint', /BigInt/i],
    ['function', /function/i],
    ['cycle', /circular|cycle|cyclic/i],
    ['nan', /NaN/],
    ['nested_bigint', /BigInt/i],
    ['symbol', /symbol/i],
    ['map', /Map/],
    ['promise', /Promise|await/],
  ];

  it.each(cases)('returning a %s fails the attempt with a clear message', async (kind, expected) => {
    const { client } = await startApp();
    const run = await client.start(ReturningFlow, { kind });

    const error = await failureOf(run);
    expect(error.stepSlug).toBe('produce');
    expect(error.errorMessage).toMatch(expected);
    expect(await taskError(run.runId, 'produce')).toMatch(expected);
  });

  it('names the path of a non-JSON value nested in the output', async () => {
    const { client } = await startApp();
    const run = await client.start(ReturningFlow, { kind: 'nested_bigint' });
    expect((await failureOf(run)).errorMessage).toMatch(/order\.total/);
  });

  it('a non-JSON output is a failed attempt, so it is retried like a thrown error', async () => {
    const { client } = await startApp();
    const run = await client.start(RetriedOutputFlow, {});
    await failureOf(run);

    const [step] = (await client.getRun(run.runId)).steps;
    expect(step?.tasks).toEqual([
      expect.objectContaining({ status: 'failed', attemptsCount: 2, errorMessage: expect.stringMatching(/BigInt/i) }),
    ]);
  });

  it('stores a Date in the output as its ISO string, as JSON.stringify would', async () => {
    const { client } = await startApp();
    const run = await client.start(ReturningFlow, { kind: 'date' });
    await expect(run.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({
      output: { produce: { at: '2024-01-02T03:04:05.000Z' } },
    });
  });
});
