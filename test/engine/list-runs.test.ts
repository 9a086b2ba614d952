/**
 * pgflow.list_runs: newest first, filtered, in keyset pages that neither repeat nor skip a run when
 * runs start meanwhile; each page is an index scan in the index's order (no sort of the table).
 */
import { useTestDatabase } from '../support/test-database.ts';
import { defineFlow, startRun } from './support/engine-driver.ts';
import { expectEngineError } from './support/engine-errors.ts';

const db = useTestDatabase();

interface Listed {
  run_id: string;
  flow_slug: string;
  status: string;
  started_at: Date;
  /** started_at to the microsecond (a Date keeps milliseconds): what a cursor must carry. */
  started_at_text: string;
}

async function page(
  options: { flow?: string; status?: string; after?: Listed; size?: number; startedAfter?: Date } = {},
): Promise<Listed[]> {
  return db.query<Listed>(
    `select run_id, flow_slug, status, started_at, started_at::text as started_at_text
       from pgflow.list_runs(flow_slug => $1, status => $2, started_after => $3, page_size => $4,
                             after_started_at => $5, after_run_id => $6::uuid)`,
    [
      options.flow ?? null,
      options.status ?? null,
      options.startedAfter ?? null,
      options.size ?? 50,
      options.after?.started_at_text ?? null,
      options.after?.run_id ?? null,
    ],
  );
}

beforeAll(async () => {
  await defineFlow(db, 'list_a', [{ slug: 'only' }]);
  await defineFlow(db, 'list_b', [{ slug: 'only' }]);
  // Same started_at for several runs (one transaction): the run id breaks the tie.
  await db.query(`select pgflow.start_flows('list_a', $1::jsonb)`, [JSON.stringify([1, 2, 3, 4, 5])]);
  for (let i = 0; i < 7; i++) await startRun(db, i % 2 === 0 ? 'list_a' : 'list_b', i);
});

/** A slug as an SQL literal (EXPLAIN EXECUTE takes no bind parameters; the slugs here are the test's own). */
function pgLiteral(slug: string): string {
  return `'${slug.replaceAll("'", "''")}'`;
}

function newestFirst(a: Listed, b: Listed): number {
  return b.started_at.getTime() - a.started_at.getTime() || (b.run_id < a.run_id ? -1 : b.run_id > a.run_id ? 1 : 0);
}

it('pages through every run once, newest first, also when runs start meanwhile', async () => {
  const all = await page({ size: 1000 });
  expect(all).toHaveLength(12);
  expect(all.map((r) => r.run_id)).toEqual([...all].sort(newestFirst).map((r) => r.run_id));
  const seen: Listed[] = [];
  let after: Listed | undefined;
  for (;;) {
    const rows = await page({ size: 5, ...(after ? { after } : {}) });
    seen.push(...rows);
    if (rows.length < 5) break;
    after = rows[rows.length - 1];
    await startRun(db, 'list_b', 'meanwhile');
  }
  expect(seen.map((r) => r.run_id)).toEqual(all.map((r) => r.run_id));
});

it('filters by flow and status', async () => {
  const a = await page({ flow: 'list_a', size: 1000 });
  expect(a.length).toBeGreaterThanOrEqual(9);
  expect(new Set(a.map((r) => r.flow_slug))).toEqual(new Set(['list_a']));
  expect(await page({ status: 'completed' })).toEqual([]);
  expect((await page({ status: 'started', size: 3 })).map((r) => r.status)).toEqual(['started', 'started', 'started']);
});

describe('with 100,000 runs', () => {
  beforeAll(async () => {
    await defineFlow(db, 'list_many', [{ slug: 'only' }]);
    await db.query(`insert into pgflow.runs (flow_slug, input, started_at)
                    select 'list_many', '{}', now() - make_interval(secs => n) from generate_series(1, 100000) n`);
    await db.query('analyze pgflow.runs');
  });

  it.each([
    ['all flows', [false, false, false, false, true], 'list_many', 'runs_started_at_idx'],
    // A flow with few of the runs: its own index, not a filter over everyone's.
    ['one flow', [true, false, false, false, true], 'list_a', 'runs_flow_started_at_idx'],
  ])('a page of %s is an index scan in index order, no sort', async (_name, flags, flow, index) => {
    const [row] = await db.query<{ q: string }>('select pgflow._list_runs_query($1, $2, $3, $4, $5) as q', flags);
    const client = await db.connect();
    try {
      await client.query(
        `prepare listing(text, text, timestamptz, timestamptz, int, timestamptz, uuid) as ${row?.q as string}`,
      );
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(
        `explain execute listing(${pgLiteral(flow)}, null, null, null, 50, now() - interval '1 hour',
                               '00000000-0000-4000-8000-000000000000')`,
      );
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toContain(`Index Scan using ${index}`);
      expect(plan).not.toMatch(/Sort|Bitmap/);
    } finally {
      await client.end();
    }
  });
});

it('bad input is PF007 or PF002, naming the value', async () => {
  await expectEngineError(page({ size: 0 }), { code: 'PF007', naming: ['0'] });
  await expectEngineError(page({ status: 'done' }), { code: 'PF007', naming: ['done'] });
  await expectEngineError(page({ flow: 'nope' }), { code: 'PF002', naming: ['nope'] });
  await expectEngineError(db.query(`select * from pgflow.list_runs(after_started_at => now())`), {
    code: 'PF007',
    naming: ['after_run_id'],
  });
});
