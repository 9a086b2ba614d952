/**
 * start_flows: many runs in one statement. The runs are exactly what start_flow makes, one per
 * input, returned in input order; a batch is refused whole (nothing written) on any bad input or
 * existing id; an empty batch writes nothing.
 */
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '../support/test-database.ts';
import { defineFlow, json, queueMessages, type RunRow, stepStates, stepTasks } from './support/engine-driver.ts';
import { expectEngineError } from './support/engine-errors.ts';

const db = useTestDatabase();

async function startFlows(flowSlug: string, inputs: unknown, runIds: (string | null)[] | null = null) {
  return db.query<RunRow>('select * from pgflow.start_flows($1, $2::jsonb, $3::uuid[])', [
    flowSlug,
    json(inputs),
    runIds,
  ]);
}

async function counts(flowSlug: string) {
  const [row] = await db.query<{ runs: number; states: number; tasks: number }>(
    `select (select count(*)::int from pgflow.runs where flow_slug = $1) as runs,
            (select count(*)::int from pgflow.step_states where flow_slug = $1) as states,
            (select count(*)::int from pgflow.step_tasks where flow_slug = $1) as tasks`,
    [flowSlug],
  );
  return row;
}

beforeAll(async () => {
  await defineFlow(db, 'many_chain', [{ slug: 'a' }, { slug: 'b', deps: ['a'] }]);
  await defineFlow(db, 'many_map', [{ slug: 'each', type: 'map' }]);
});

describe('start_flows', () => {
  it('starts one run per input, in input order, each like start_flow would', async () => {
    const inputs = Array.from({ length: 25 }, (_, i) => ({ n: i }));
    const runs = await startFlows('many_chain', inputs);
    expect(runs.map((run) => run.input)).toEqual(inputs);
    expect(new Set(runs.map((run) => run.run_id)).size).toBe(25);
    for (const run of runs) expect(run).toMatchObject({ status: 'started', remaining_steps: 2 });

    const [first] = runs;
    const states = await stepStates(db, first?.run_id as string);
    expect({ a: states.a?.status, b: states.b?.status }).toEqual({ a: 'started', b: 'created' });
    expect(await stepTasks(db, first?.run_id as string, 'a')).toHaveLength(1);
    // One queue message per run's first task.
    for (const run of runs) expect(await queueMessages(db, 'many_chain', run.run_id)).toHaveLength(1);
  });

  it('uses the given run ids, a null element letting the engine choose', async () => {
    const chosen = randomUUID();
    const runs = await startFlows('many_chain', [{ x: 1 }, { x: 2 }], [chosen, null]);
    expect(runs[0]?.run_id).toBe(chosen);
    expect(runs[1]?.run_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('chooses time-ordered ids (UUID version 7 layout): a later start sorts after an earlier one', async () => {
    const before = Date.now();
    const [early] = await startFlows('many_chain', [{}]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const later = await startFlows('many_chain', [{}, {}, {}]);
    const after = Date.now();
    const ids = [early, ...later].map((run) => run?.run_id as string);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const ms = Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);
      expect(ms).toBeGreaterThanOrEqual(before - 1000); // the database's clock, close to this one's
      expect(ms).toBeLessThanOrEqual(after + 1000);
    }
    for (const id of ids.slice(1)) expect(id > (ids[0] as string)).toBe(true);
    expect(new Set(ids).size).toBe(4);
    // In the database's own order (uuid comparison), too: what the indexes keyed by run id follow.
    const [ordered] = await db.query<{ sorted: boolean }>('select $1::uuid < all($2::uuid[]) as sorted', [
      ids[0],
      ids.slice(1),
    ]);
    expect(ordered?.sorted).toBe(true);
  });

  it('maps each run over its own array, an empty array completing its run at once', async () => {
    const runs = await startFlows('many_map', [[1, 2, 3], [], ['x']]);
    expect(runs.map((run) => run.status)).toEqual(['started', 'completed', 'started']);
    expect(await stepTasks(db, runs[0]?.run_id as string, 'each')).toHaveLength(3);
    expect(await stepTasks(db, runs[2]?.run_id as string, 'each')).toHaveLength(1);
  });

  it('an empty batch writes nothing', async () => {
    const before = await counts('many_chain');
    expect(await startFlows('many_chain', [])).toEqual([]);
    expect(await counts('many_chain')).toEqual(before);
  });

  describe('refuses the whole batch, writing nothing', () => {
    it('when a root map step gets an input that is not an array (naming which)', async () => {
      const before = await counts('many_map');
      await expectEngineError(startFlows('many_map', [[1], { not: 'an array' }, [2]]), {
        code: 'PF006',
        naming: ['input 2 of 3'],
      });
      expect(await counts('many_map')).toEqual(before);
    });

    it('when a run id exists already (naming it)', async () => {
      const [existing] = await startFlows('many_chain', [{}]);
      const before = await counts('many_chain');
      const id = existing?.run_id as string;
      await expectEngineError(startFlows('many_chain', [{}, {}], [randomUUID(), id]), { code: 'PF008', naming: [id] });
      expect(await counts('many_chain')).toEqual(before);
    });

    it('when the same run id comes twice', async () => {
      const before = await counts('many_chain');
      const id = randomUUID();
      await expectEngineError(startFlows('many_chain', [{}, {}], [id, id]), { code: 'PF008', naming: [id] });
      expect(await counts('many_chain')).toEqual(before);
    });

    it.each([
      ['inputs that are not an array', { a: 1 }, null, 'not object'],
      ['more run ids than inputs', [{}], [randomUUID(), randomUUID()], '1 inputs but 2 run ids'],
    ])('for %s', async (_label, inputs, runIds, naming) => {
      const before = await counts('many_chain');
      await expectEngineError(startFlows('many_chain', inputs, runIds), { code: 'PF007', naming: [naming] });
      expect(await counts('many_chain')).toEqual(before);
    });

    it('for a flow that does not exist', async () => {
      await expectEngineError(startFlows('no_such_flow', [{}]), { code: 'PF002', naming: ['no_such_flow'] });
    });
  });
});
