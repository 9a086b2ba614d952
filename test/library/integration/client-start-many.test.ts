/**
 * FlowClient.startMany: many runs in one statement, handles in input order, every run handled by
 * the worker; all or nothing when an input or an id is refused; inside the caller's transaction.
 */
import { randomUUID } from 'node:crypto';
import {
  Flow,
  InvalidOptionsError,
  InvalidRunInputError,
  type MapStepContext,
  RunAlreadyExistsError,
  Step,
  type StepContext,
} from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { useApps } from '../fixtures/pgflow-app.ts';
import { CallLog } from '../fixtures/recorders.ts';

@Flow({ slug: 'many_echo', maxAttempts: 1 })
class EchoFlow {
  constructor(private readonly log: CallLog) {}

  @Step()
  echo(input: { n: number }, ctx: StepContext) {
    this.log.record(input, ctx);
    return input.n * 2;
  }
}

@Flow({ slug: 'many_map', maxAttempts: 1 })
class MapFlow {
  @Step({ map: true })
  each(item: number, _ctx: MapStepContext) {
    return item + 1;
  }
}

class Rollback extends Error {}

/** Three run ids, the last repeating the first (in capitals: the same UUID to PostgreSQL). */
function twice(): string[] {
  const id = randomUUID();
  return [id, randomUUID(), id.toUpperCase()];
}

const db = useTestDatabase();
const apps = useApps();

function startApp() {
  return apps.start({ url: db.url, providers: [CallLog, EchoFlow, MapFlow] });
}

async function runCount(flowSlug: string): Promise<number> {
  const [row] = await db.query<{ n: number }>('select count(*)::int as n from pgflow.runs where flow_slug = $1', [
    flowSlug,
  ]);
  return row?.n ?? 0;
}

describe('FlowClient.startMany', () => {
  it('starts one run per input in one statement; the handles follow the inputs and every run completes', async () => {
    const { client } = await startApp();
    const inputs = Array.from({ length: 200 }, (_, n) => ({ n }));
    const runs = await client.startMany(EchoFlow, inputs);

    expect(runs).toHaveLength(200);
    expect(new Set(runs.map((run) => run.runId)).size).toBe(200);
    const done = await Promise.all(runs.map((run) => run.wait({ timeoutMs: 20_000 })));
    expect(done.map((run) => run.input)).toEqual(inputs);
    expect(done.map((run) => run.output)).toEqual(inputs.map(({ n }) => ({ echo: n * 2 })));
  });

  it('takes the flow by slug, and an empty list starts nothing', async () => {
    const { client } = await startApp();
    const before = await runCount('many_echo');
    expect(await client.startMany('many_echo', [])).toEqual([]);
    expect(await runCount('many_echo')).toBe(before);
    const [run] = await client.startMany('many_echo', [{ n: 21 }]);
    await expect(run?.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { echo: 42 } });
  });

  it('uses the run ids the caller chose', async () => {
    const { client } = await startApp();
    const runIds = [randomUUID(), randomUUID()];
    const runs = await client.startMany(EchoFlow, [{ n: 1 }, { n: 2 }], { runIds });
    expect(runs.map((run) => run.runId)).toEqual(runIds);
  });

  it('refuses the whole batch when one input cannot be a root map input, naming which', async () => {
    const { client } = await startApp();
    const before = await runCount('many_map');
    const error = await client.startMany(MapFlow, [[1], 'not an array' as never, [2]]).catch((caught) => caught);
    expect(error).toBeInstanceOf(InvalidRunInputError);
    expect(error).toMatchObject({ path: 'inputs[1]' });
    expect(await runCount('many_map')).toBe(before);
  });

  it('refuses the whole batch when one run id exists, naming it', async () => {
    const { client } = await startApp();
    const existing = randomUUID();
    await (await client.start(EchoFlow, { n: 0 }, { runId: existing })).wait({ timeoutMs: 10_000 });
    const before = await runCount('many_echo');

    const error = await client
      .startMany(EchoFlow, [{ n: 1 }, { n: 2 }], { runIds: [randomUUID(), existing] })
      .catch((caught) => caught);
    expect(error).toBeInstanceOf(RunAlreadyExistsError);
    expect(error).toMatchObject({ runId: existing });
    expect(await runCount('many_echo')).toBe(before);
  });

  it('names the existing run from the ids it was given, whatever the engine message says', async () => {
    const { client } = await startApp();
    const existing = randomUUID();
    await (await client.start(EchoFlow, { n: 0 }, { runId: existing })).wait({ timeoutMs: 10_000 });
    // A refusal with the engine's SQLSTATE whose message names another id: the client must not read it.
    const decoy = randomUUID();
    await db.query(`
      create function public.refuse_with_decoy() returns trigger language plpgsql as $$
      begin
        raise exception using errcode = 'PF008', message = format('Run %s already exists.', '${decoy}');
      end $$;
      create trigger refuse_with_decoy before insert on pgflow.runs for each row
        when (new.input = '{"decoy": true}') execute function public.refuse_with_decoy();`);
    try {
      const error = await client
        .startMany(EchoFlow, [{ decoy: true } as never, { n: 2 }], { runIds: [randomUUID(), existing] })
        .catch((caught) => caught);
      expect(error).toBeInstanceOf(RunAlreadyExistsError);
      expect(error).toMatchObject({ runId: existing });
    } finally {
      await db.query('drop trigger refuse_with_decoy on pgflow.runs; drop function public.refuse_with_decoy()');
    }
  });

  it('inside a transaction that started one of the ids earlier: RunAlreadyExistsError naming it (from the engine)', async () => {
    const { client, dataSource } = await startApp();
    const runId = randomUUID();
    const before = await runCount('many_echo');
    const outcome = await dataSource()
      .transaction(async (manager) => {
        await client.start(EchoFlow, { n: 1 }, { runId, manager });
        return client.startMany(EchoFlow, [{ n: 2 }, { n: 3 }], { runIds: [randomUUID(), runId], manager });
      })
      .catch((caught: unknown) => caught);
    // No other connection can see the run of the same transaction; the engine names it (in its detail).
    expect(outcome).toBeInstanceOf(RunAlreadyExistsError);
    expect(outcome).toMatchObject({ runId });
    expect(await runCount('many_echo')).toBe(before);
  });

  it.each([
    ['inputs that are not an array', { n: 1 }, undefined, 'inputs'],
    ['fewer run ids than inputs', [{ n: 1 }, { n: 2 }], { runIds: [randomUUID()] }, 'runIds'],
    ['a run id that is not a UUID', [{ n: 1 }], { runIds: ['run-1'] }, 'runIds[0]'],
    ['a run id given twice', [{ n: 1 }, { n: 2 }, { n: 3 }], { runIds: twice() }, 'runIds[2]'],
  ])('refuses %s with InvalidOptionsError before touching the database', async (_label, inputs, options, option) => {
    const { client } = await startApp();
    const before = await runCount('many_echo');
    const error = await client.startMany(EchoFlow, inputs as never, options).catch((caught) => caught);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect(error).toMatchObject({ option });
    expect(await runCount('many_echo')).toBe(before);
  });

  it('says which earlier entry a repeated run id repeats', async () => {
    const { client } = await startApp();
    const error = await client
      .startMany(EchoFlow, [{ n: 1 }, { n: 2 }, { n: 3 }], { runIds: twice() })
      .catch((caught) => caught);
    expect((error as Error).message).toMatch(
      /runIds\[2\]: "[0-9A-F-]{36}"\. Expected a run id that no other entry has \(runIds\[0\] has it\)/,
    );
  });

  it('starts the runs inside the caller transaction: a rollback leaves none', async () => {
    const { client, dataSource } = await startApp();
    const before = await runCount('many_echo');
    const outcome = await dataSource()
      .transaction(async (manager) => {
        const runs = await client.startMany(EchoFlow, [{ n: 1 }, { n: 2 }, { n: 3 }], { manager });
        expect(runs).toHaveLength(3);
        throw new Rollback('undo');
      })
      .catch((caught: unknown) => caught);
    expect(outcome).toBeInstanceOf(Rollback);
    expect(await runCount('many_echo')).toBe(before);
  });
});
