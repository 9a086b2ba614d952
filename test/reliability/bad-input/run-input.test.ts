/**
 * Bad values at run time: inputs that are not JSON, a non-array input to a flow with a root map
 * step, handler outputs that are not JSON, a run id that exists or is not a UUID, negative waits,
 * and completions or failures of runs and tasks that do not exist. Each gets a clear error naming
 * the value (and the fix), with nothing written; an output that is not JSON fails the attempt.
 */
import { randomUUID } from 'node:crypto';
import {
  Flow,
  InvalidOptionsError,
  InvalidRunInputError,
  type MapStepContext,
  RunAlreadyExistsError,
  RunFailedError,
  Step,
} from 'nestjs-pgflow';
import { type TestApp, TestApps } from '../../library/fixtures/pgflow-app.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { refusedWithoutWrites, sqlErrorOf } from '../support/no-writes.ts';

@Flow({ slug: 'rel_echo' })
class EchoFlow {
  @Step()
  echo(input: unknown) {
    return input;
  }
}

@Flow({ slug: 'rel_root_map' })
class RootMapFlow {
  @Step({ map: true })
  double(item: number, _ctx: MapStepContext) {
    return item * 2;
  }
}

const circular: Record<string, unknown> = { name: 'loop' };
circular.self = circular;

/** What the `produce` handler returns, by input kind. */
const OUTPUTS: Record<string, () => unknown> = {
  function: () => () => 1,
  bigint: () => ({ total: 10n }),
  cycle: () => circular,
  nan: () => ({ ratio: Number.NaN }),
  undefined: () => undefined,
};

@Flow({ slug: 'rel_outputs', maxAttempts: 1 })
class OutputsFlow {
  @Step()
  produce(input: { kind: string }) {
    return OUTPUTS[input.kind]?.();
  }
}

const db = useTestDatabase();
// One application for the whole file: none of these tests changes it.
const apps = new TestApps();
let app: TestApp;

beforeAll(async () => {
  app = await apps.start({ url: db.url, providers: [EchoFlow, RootMapFlow, OutputsFlow] });
});
afterAll(() => apps.closeAll());

// The worker ends the runs of earlier tests before a refusal is checked against the table counts.
beforeEach(() =>
  waitFor(
    async () =>
      (await db.query("select 1 from pgflow.runs where status = 'started' and flow_slug <> 'rel_sql_only'")).length ===
      0,
    { description: 'the runs of earlier tests to end' },
  ),
);

describe('a run input that is not JSON', () => {
  const INPUTS: ReadonlyArray<readonly [string, unknown, string, string]> = [
    ['undefined', undefined, 'input', 'is undefined'],
    ['a function', () => 1, 'input', 'is a function'],
    ['a BigInt', { amount: 12n }, 'input.amount', 'is a BigInt (12n)'],
    ['a circular reference', circular, 'input.self', 'refers back to input (a circular reference)'],
    ['NaN', { items: [1, Number.NaN] }, 'input.items[1]', 'is NaN'],
    ['Infinity', { limit: Number.POSITIVE_INFINITY }, 'input.limit', 'is Infinity'],
    ['a symbol', { tag: Symbol('t') }, 'input.tag', 'is a symbol'],
    ['a Map', { lookup: new Map([['a', 1]]) }, 'input.lookup', 'is a Map'],
  ];

  it.each(INPUTS)(
    '%s: InvalidRunInputError naming the path and the problem, nothing started',
    async (_label, input, path, problem) => {
      const error = await refusedWithoutWrites(db, () => app.client.start(EchoFlow, input as never));

      expect(error).toBeInstanceOf(InvalidRunInputError);
      expect(error).toMatchObject({ flowSlug: 'rel_echo', path });
      expect(error.message).toContain(`${path} ${problem}`);
      expect(error.message).toContain('No run was started');
    },
  );
});

describe('a non-array input to a flow with a root map step', () => {
  const INPUTS: ReadonlyArray<readonly [string, unknown]> = [
    ['an object', { items: [1, 2] }],
    ['a string', '1,2'],
    ['null', null],
    ['a number', 3],
  ];

  it.each(INPUTS)(
    '%s through FlowClient.start: InvalidRunInputError naming the map step, nothing started',
    async (_label, input) => {
      const error = await refusedWithoutWrites(db, () => app.client.start(RootMapFlow, input as never));

      expect(error).toBeInstanceOf(InvalidRunInputError);
      expect(error.message).toContain("root map step 'double'");
      expect(error.message).toContain('must be an array');
    },
  );

  it.each(INPUTS)('%s through pgflow.start_flow: PF006, nothing started', async (_label, input) => {
    const error = await refusedWithoutWrites(db, () =>
      db.query("select pgflow.start_flow('rel_root_map', $1::jsonb)", [JSON.stringify(input)]),
    );

    expect(sqlErrorOf(error)).toEqual({ code: 'PF006', message: expect.any(String), hint: expect.any(String) });
  });
});

describe('a handler output that is not JSON', () => {
  it.each([
    ['function', 'output is a function'],
    ['bigint', 'output.total is a BigInt (10n)'],
    ['cycle', 'output.self refers back to output'],
    ['nan', 'output.ratio is NaN'],
  ])('%s: fails the attempt with a message naming the path', async (kind, message) => {
    const run = await app.client.start(OutputsFlow, { kind });

    const failure = await run.wait({ timeoutMs: 10_000 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RunFailedError);
    expect((failure as RunFailedError).errorMessage).toContain("Step 'produce' returned a value that is not JSON");
    expect((failure as RunFailedError).errorMessage).toContain(message);
  });

  it('undefined is stored as null', async () => {
    const run = await app.client.start(OutputsFlow, { kind: 'undefined' });

    expect((await run.wait({ timeoutMs: 10_000 })).output).toEqual({ produce: null });
  });
});

describe('run ids and waits', () => {
  it('a run id that already exists: RunAlreadyExistsError, the first run untouched, nothing written', async () => {
    const runId = randomUUID();
    // Let a worker finish the first run, so that nothing else writes while the refusal is checked.
    await (await app.client.start(EchoFlow, { first: true }, { runId })).wait({ timeoutMs: 10_000 });

    const error = await refusedWithoutWrites(db, () => app.client.start(EchoFlow, { second: true }, { runId }));
    expect(error).toBeInstanceOf(RunAlreadyExistsError);
    expect(error.message).toContain(runId);
    expect(await db.query('select input from pgflow.runs where run_id = $1', [runId])).toEqual([
      { input: { first: true } },
    ]);
  });

  it.each([
    ['not a UUID', 'run-1'],
    ['empty', ''],
    ['an injection attempt', "00000000-0000-0000-0000-000000000000'; drop table pgflow.runs; --"],
  ])('a run id that is %s: InvalidOptionsError, nothing written', async (_label, runId) => {
    const error = await refusedWithoutWrites(db, () => app.client.start(EchoFlow, {}, { runId }));
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect(error.message).toContain(JSON.stringify(runId));
  });

  it('a negative wait timeout: InvalidOptionsError naming it', async () => {
    const run = await app.client.start(EchoFlow, {});
    await expect(run.wait({ timeoutMs: -1 })).rejects.toMatchObject({
      name: 'InvalidOptionsError',
      option: 'timeoutMs',
    });
  });
});

describe('completing or failing what does not exist', () => {
  // A flow no worker serves, so that nothing else writes while a refusal is checked.
  let runId: string;
  beforeAll(async () => {
    await db.query("select pgflow.create_flow('rel_sql_only')");
    await db.query("select pgflow.add_step('rel_sql_only', 'echo')");
    runId = (await db.query<{ run_id: string }>("select run_id from pgflow.start_flow('rel_sql_only', '{}')"))[0]
      ?.run_id as string;
  });

  const COMPLETE = "select pgflow.complete_task($1, $2, $3, '1')";
  const FAIL = "select pgflow.fail_task($1, $2, $3, 'boom')";
  const CALLS: ReadonlyArray<readonly [string, 'an unknown run' | 'a known run', string, number, string, string]> = [
    ['complete_task', 'an unknown run', 'echo', 0, 'PF009', COMPLETE],
    ['fail_task', 'an unknown run', 'echo', 0, 'PF009', FAIL],
    ['complete_task', 'a known run', 'nope', 0, 'PF010', COMPLETE],
    ['fail_task', 'a known run', 'nope', 0, 'PF010', FAIL],
    ['complete_task', 'a known run', 'echo', 7, 'PF010', COMPLETE],
    ['fail_task', 'a known run', 'echo', 7, 'PF010', FAIL],
  ];

  it.each(CALLS)(
    '%s for %s, step %s, task %d: %s naming it, nothing written',
    async (_name, which, step, index, code, statement) => {
      const id = which === 'an unknown run' ? randomUUID() : runId;
      const error = await refusedWithoutWrites(db, () => db.query(statement, [id, step, index]));

      expect(sqlErrorOf(error)).toEqual({ code, message: expect.stringContaining(id), hint: expect.any(String) });
    },
  );

  it('complete_tasks with a malformed entry: PF007 naming the entry, nothing written', async () => {
    const error = await refusedWithoutWrites(db, () =>
      db.query('select pgflow.complete_tasks($1::jsonb)', [JSON.stringify([{ run_id: runId, step_slug: 'echo' }])]),
    );
    expect(sqlErrorOf(error)).toEqual({
      code: 'PF007',
      message: expect.stringContaining('Invalid entry'),
      hint: expect.any(String),
    });
  });
});
