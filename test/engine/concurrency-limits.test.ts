/**
 * Concurrency limits, compiling and starting: a shape's options.concurrency,
 * options.concurrencyPerKey and a step's options.concurrency set flows.opt_concurrency,
 * flows.opt_concurrency_per_key and steps.opt_concurrency (absent clears them; a value that is not a
 * whole number from 1 to 2^31-1 is refused with PF080 and nothing changes); start_flow(s) store each
 * run's concurrency key (a bad one is refused with PF081 and nothing is started); runs without a key,
 * and flows without limits, are never held back.
 */
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '../support/test-database.ts';
import {
  admission,
  claim,
  compileLimited,
  type LimitedShape,
  limitsOf,
  startedSteps,
  startKeyed,
} from './support/concurrency.ts';
import { json, onClient, snapshotTables } from './support/engine-driver.ts';
import { expectEngineError } from './support/engine-errors.ts';

const db = useTestDatabase();

const ONE_STEP: LimitedShape = { steps: [{ slug: 'work' }] };

function uniqueSlug(prefix: string): string {
  return `${prefix}_${randomUUID().slice(0, 8)}`;
}

describe('compiling concurrency limits', () => {
  it('stores the flow and step limits of the shape, changes them on a later verify, and clears the absent ones', async () => {
    const shape: LimitedShape = {
      concurrency: 4,
      concurrencyPerKey: 2,
      steps: [{ slug: 'a', concurrency: 3 }, { slug: 'b' }],
    };
    expect(await compileLimited(db, 'cl_compile', shape)).toMatchObject({ status: 'compiled' });
    expect(await limitsOf(db, 'cl_compile')).toEqual({ concurrency: 4, perKey: 2, steps: { a: 3, b: null } });

    const changed = await compileLimited(db, 'cl_compile', {
      concurrency: 8,
      steps: [{ slug: 'a' }, { slug: 'b', concurrency: 1 }],
    });
    expect(changed).toMatchObject({ status: 'verified' });
    expect(changed.options_changed).toEqual(
      expect.arrayContaining([
        'concurrency 4 -> 8',
        'concurrency_per_key 2 -> null',
        "step 'a': concurrency 3 -> null",
        "step 'b': concurrency null -> 1",
      ]),
    );
    expect(await limitsOf(db, 'cl_compile')).toEqual({ concurrency: 8, perKey: null, steps: { a: null, b: 1 } });

    // pgflow's DSL has no limits: its shape still verifies, and the flow then has none.
    await compileLimited(db, 'cl_compile', { steps: [{ slug: 'a' }, { slug: 'b' }] });
    expect(await limitsOf(db, 'cl_compile')).toEqual({ concurrency: null, perKey: null, steps: { a: null, b: null } });
  });

  const BAD_VALUES: ReadonlyArray<readonly [string, unknown]> = [
    ['0', 0],
    ['-1', -1],
    ['1.5', 1.5],
    ['the string "3"', '3'],
    ['2^31', 2 ** 31],
  ];
  const PLACES: ReadonlyArray<readonly [string, (value: unknown) => LimitedShape, string]> = [
    ['concurrency', (value) => ({ ...ONE_STEP, concurrency: value }), 'concurrency'],
    ['concurrencyPerKey', (value) => ({ ...ONE_STEP, concurrencyPerKey: value }), 'concurrencyPerKey'],
    ["step's concurrency", (value) => ({ steps: [{ slug: 'work', concurrency: value }] }), "'work'"],
  ];

  describe.each(PLACES)('refuses a bad %s (PF080)', (_place, shapeWith, option) => {
    it.each(BAD_VALUES)('%s: naming the flow and the option, with nothing changed', async (_name, value) => {
      const slug = uniqueSlug('cl_bad');
      await expectEngineError(compileLimited(db, slug, shapeWith(value)), { code: 'PF080', naming: [slug, option] });
      expect(await db.query('select 1 from pgflow.flows where flow_slug = $1', [slug])).toEqual([]);

      await compileLimited(db, slug, {
        concurrency: 2,
        concurrencyPerKey: 2,
        steps: [{ slug: 'work', concurrency: 2 }],
      });
      const before = await snapshotTables(db);
      await expectEngineError(compileLimited(db, slug, shapeWith(value)), { code: 'PF080', naming: [slug, option] });
      expect(await limitsOf(db, slug)).toEqual({ concurrency: 2, perKey: 2, steps: { work: 2 } });
      expect(await snapshotTables(db)).toEqual(before);
    });
  });

  it('accepts the largest limit, 2^31-1', async () => {
    await compileLimited(db, 'cl_largest', { concurrency: 2 ** 31 - 1, steps: [{ slug: 'work' }] });
    expect(await limitsOf(db, 'cl_largest')).toMatchObject({ concurrency: 2 ** 31 - 1 });
  });
});

describe('concurrency keys at start', () => {
  it('stores the key on the run (start_flow and start_flows)', async () => {
    await compileLimited(db, 'cl_store', { ...ONE_STEP, concurrencyPerKey: 5 });
    const [one] = await db.query<{ concurrency_key: string; concurrency_state: string }>(
      "select concurrency_key, concurrency_state from pgflow.start_flow('cl_store', '{}'::jsonb, concurrency_key => 'tenant-1')",
    );
    expect(one).toEqual({ concurrency_key: 'tenant-1', concurrency_state: 'admitted' });
    const many = await startKeyed(db, 'cl_store', ['tenant-2', null]);
    expect(many.map((r) => [r.concurrency_key, r.concurrency_state])).toEqual([
      ['tenant-2', 'admitted'],
      [null, null],
    ]);
  });

  it.each([
    ['an empty key', [''], 1],
    ['a key over 255 characters', ['x'.repeat(256)], 1],
    ['one key for two inputs', ['a'], 2],
    ['three keys for two inputs', ['a', 'b', 'c'], 2],
  ])('refuses %s (PF081) and writes nothing', async (_name, keys, inputs) => {
    await compileLimited(db, 'cl_badkey', { ...ONE_STEP, concurrencyPerKey: 1 });
    const before = await snapshotTables(db);
    await expectEngineError(
      db.query('select 1 from pgflow.start_flows($1, $2::jsonb, concurrency_keys => $3::text[])', [
        'cl_badkey',
        json(Array.from({ length: inputs }, () => ({}))),
        keys,
      ]),
      { code: 'PF081' },
    );
    expect(await snapshotTables(db)).toEqual(before);
    expect(await db.query("select 1 from pgflow.concurrency_keys where flow_slug = 'cl_badkey'")).toEqual([]);
  });

  it('refuses a bad key given to start_flow (PF081)', async () => {
    await compileLimited(db, 'cl_badkey_one', { ...ONE_STEP, concurrencyPerKey: 1 });
    await expectEngineError(
      db.query("select 1 from pgflow.start_flow('cl_badkey_one', '{}'::jsonb, concurrency_key => '')"),
      { code: 'PF081' },
    );
    expect(await db.query("select 1 from pgflow.runs where flow_slug = 'cl_badkey_one'")).toEqual([]);
  });

  it('never limits runs without a key', async () => {
    await compileLimited(db, 'cl_nokey', { ...ONE_STEP, concurrencyPerKey: 1 });
    const runs = await startKeyed(db, 'cl_nokey', [null, null, null, null]);
    expect(
      await admission(
        db,
        runs.map((r) => r.run_id),
      ),
    ).toEqual([null, null, null, null]);
    for (const run of runs) expect(await startedSteps(db, run.run_id)).toBe(1);
    expect(await claim(db, 'cl_nokey')).toHaveLength(4);
    expect(await db.query("select 1 from pgflow.concurrency_keys where flow_slug = 'cl_nokey'")).toEqual([]);
  });

  it('does not limit keyed runs of a flow without a per-key limit', async () => {
    await compileLimited(db, 'cl_nolimit', ONE_STEP);
    const runs = await startKeyed(db, 'cl_nolimit', ['a', 'a', 'a']);
    expect(runs.map((r) => [r.concurrency_key, r.concurrency_state])).toEqual([
      ['a', null],
      ['a', null],
      ['a', null],
    ]);
    expect(await claim(db, 'cl_nolimit')).toHaveLength(3);
  });
});

describe('a flow without limits', () => {
  it('claims every ready task, and its claim reads no concurrency function', async () => {
    await compileLimited(db, 'cl_plain', { steps: [{ slug: 'items', type: 'map' }] });
    await compileLimited(db, 'cl_capped', { concurrency: 100, steps: [{ slug: 'items', type: 'map' }] });
    const elements = Array.from({ length: 10 }, (_, i) => i);
    for (const slug of ['cl_plain', 'cl_capped']) {
      await db.query('select 1 from pgflow.start_flow($1, $2::jsonb)', [slug, json(elements)]);
    }
    const client = await db.connect();
    const sql = onClient(client);
    await client.query("set track_functions = 'pl'");
    const calls = async (): Promise<number> => {
      const [row] = await sql.query<{ n: number }>(
        `select coalesce(sum(calls), 0)::int as n from pg_stat_xact_user_functions
          where schemaname = 'pgflow' and funcname in ('_read_within_concurrency', '_concurrency_grant_messages')`,
      );
      return row?.n ?? -1;
    };
    await client.query('begin');
    expect(await claim(sql, 'cl_plain')).toHaveLength(10);
    expect(await calls()).toBe(0);
    expect(await claim(sql, 'cl_capped')).toHaveLength(10);
    expect(await calls()).toBe(1);
    await client.query('commit');
  });
});
