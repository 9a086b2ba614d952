/**
 * The dashboard's runs page with many runs (issue 14): 1,000,000 runs of two flows spread over 30
 * days (generate_series), then HTTP GETs of the runs page, the way a browser asks for it, through a
 * real Nest application: the first page, a later page (its cursor), and pages filtered by flow and
 * status, and by a time range. p50 / p95 over 50 requests each (target: p95 < 300 ms), with the
 * query plans of pgflow.list_runs's statements. The flows page (an aggregate over every run) is
 * measured too, for the record.
 */
import { pgflowMigrations } from '../../migrations/index.ts';
import { percentile } from '../support/figures.ts';
import { formatNumber, table } from '../support/results.ts';
import type { BenchDatabase } from '../support/server.ts';
import type { BenchContext, BenchSuite } from '../support/suite.ts';
import { startDashboardBenchApp } from './dashboard-app.ts';

const TARGET_P95_MS = 300;
const DAY_SECONDS = 86_400;

/** The runs: flow a or b, 90% completed, 5% failed, 3% cancelled, 2% started, over 30 days. */
const FILL = `
  insert into pgflow.runs (flow_slug, status, input, output, started_at, completed_at, failed_at, cancelled_at)
  select case when i % 2 = 0 then 'bench_dash_a' else 'bench_dash_b' end, s.status,
         jsonb_build_object('n', i), case when s.status = 'completed' then jsonb_build_object('ok', i) end,
         t.started_at,
         case when s.status = 'completed' then t.started_at + interval '2 seconds' end,
         case when s.status = 'failed' then t.started_at + interval '1 second' end,
         case when s.status = 'cancelled' then t.started_at + interval '3 seconds' end
    from generate_series(1, $1::int) i
    cross join lateral (select case when i % 100 < 90 then 'completed' when i % 100 < 95 then 'failed'
                                    when i % 100 < 98 then 'cancelled' else 'started' end as status) s
    cross join lateral (select now() - make_interval(secs => ($2::float8 * i) / $1::int) as started_at) t`;

interface Probe {
  readonly name: string;
  /** The query string of the runs page (or a path for the flows page). */
  readonly path: (base: string) => Promise<string>;
}

async function timedGet(url: string): Promise<{ ms: number; body: string }> {
  const started = process.hrtime.bigint();
  const response = await fetch(url);
  const body = await response.text();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}: ${body.slice(0, 300)}`);
  return { ms, body };
}

/** The next-page link of a runs page. */
function nextLink(body: string): string {
  const match = /<a href="([^"]+)" rel="next">/.exec(body);
  if (match?.[1] === undefined) throw new Error('The runs page has no next-page link.');
  return match[1].replaceAll('&amp;', '&');
}

async function explain(database: BenchDatabase, label: string, args: string): Promise<string> {
  const client = await database.connect('pgflow bench explain');
  try {
    const flags = args.split(',').map((arg) => arg.trim() !== 'null');
    const flagsSql = `pgflow._list_runs_query(${flags[0]}, ${flags[1]}, ${flags[2]}, ${flags[3]}, ${flags[5]})`;
    const [{ text }] = (await client.query<{ text: string }>(`select ${flagsSql} as text`)).rows as [{ text: string }];
    await client.query(`prepare list_page(text, text, timestamptz, timestamptz, int, timestamptz, uuid) as ${text}`);
    const plan = await client.query<{ 'QUERY PLAN': string }>(
      `explain (analyze, buffers, costs off) execute list_page(${args})`,
    );
    return [`${label}:`, '', '```', ...plan.rows.map((row) => row['QUERY PLAN']), '```'].join('\n');
  } finally {
    await client.end();
  }
}

export const dashboardSuite: BenchSuite = {
  name: 'dashboard',
  summary: 'the dashboard runs page (HTTP GET, p50/p95) with 1,000,000 runs, and its query plans',
  async run(context: BenchContext): Promise<string> {
    const runs = context.quick ? 2_000 : 1_000_000;
    const requests = context.quick ? 5 : 50;
    const database = await context.server.freshDatabase(pgflowMigrations);
    const setup = await database.connect('bench dashboard setup');
    try {
      for (const flow of ['bench_dash_a', 'bench_dash_b']) {
        await setup.query('select pgflow.create_flow($1)', [flow]);
        await setup.query(`select pgflow.add_step($1, 'a')`, [flow]);
        await setup.query(`select pgflow.add_step($1, 'b', array['a'])`, [flow]);
      }
      const filling = process.hrtime.bigint();
      await setup.query(FILL, [runs, 30 * DAY_SECONDS]);
      await setup.query('analyze pgflow.runs');
      context.log(
        `dashboard: ${formatNumber(runs)} runs in ${formatNumber(Number(process.hrtime.bigint() - filling) / 1e9, 1)} s`,
      );
    } finally {
      await setup.end();
    }

    const app = await startDashboardBenchApp(database);
    const now = new Date();
    const day = (daysAgo: number) => new Date(now.getTime() - daysAgo * DAY_SECONDS * 1000).toISOString().slice(0, 19);
    const probes: Probe[] = [
      { name: 'runs page, first page', path: async (base) => `${base}/runs` },
      {
        name: 'runs page, 20th page (cursor)',
        path: async (base) => {
          let url = `${base}/runs`;
          for (let page = 1; page < 20; page++)
            url = `http://${new URL(base).host}${nextLink((await timedGet(url)).body)}`;
          return url;
        },
      },
      { name: 'runs page, flow + status failed', path: async (base) => `${base}/runs?flow=bench_dash_a&status=failed` },
      { name: 'runs page, status started (2%)', path: async (base) => `${base}/runs?status=started` },
      {
        name: 'runs page, flow + time range (10 to 9 days ago)',
        path: async (base) => `${base}/runs?flow=bench_dash_b&after=${day(10)}&before=${day(9)}`,
      },
      { name: 'flows page (run counts of every flow)', path: async (base) => base },
    ];
    const rows: string[][] = [];
    try {
      for (const probe of probes) {
        const url = await probe.path(app.url);
        await timedGet(url); // warm-up: the connection and the plan cache
        const times: number[] = [];
        for (let i = 0; i < requests; i++) times.push((await timedGet(url)).ms);
        const [p50, p95] = [percentile(times, 0.5), percentile(times, 0.95)];
        context.log(`dashboard: ${probe.name}: p50 ${formatNumber(p50, 1)} ms, p95 ${formatNumber(p95, 1)} ms`);
        const isRunsPage = probe.name.startsWith('runs page');
        rows.push([
          probe.name,
          formatNumber(p50, 1),
          formatNumber(p95, 1),
          isRunsPage ? (p95 < TARGET_P95_MS ? 'met' : 'MISSED') : '(no target)',
        ]);
      }
    } finally {
      await app.close();
    }

    const cursorTime = new Date(now.getTime() - 5 * DAY_SECONDS * 1000).toISOString();
    const plans = [
      await explain(database, 'First page, no filter', 'null, null, null, null, 51, null, null'),
      await explain(
        database,
        'A later page (cursor 5 days back)',
        `null, null, null, null, 51, '${cursorTime}', 'ffffffff-ffff-4fff-bfff-ffffffffffff'`,
      ),
      await explain(database, 'Flow and status failed', `'bench_dash_a', 'failed', null, null, 51, null, null`),
      await explain(
        database,
        'Flow and time range',
        `'bench_dash_b', null, '${day(10)}Z', '${day(9)}Z', 51, null, null`,
      ),
    ];
    await context.server.dropDatabase(database);
    return [
      `${formatNumber(runs)} runs (2 flows; 90% completed, 5% failed, 3% cancelled, 2% started; over 30 days).`,
      `HTTP GET of each page through a Nest application (dashboard at /pgflow, pool of 10), ${requests}`,
      `sequential requests after one warm-up, timed to the last byte of the body. Target: p95 < ${TARGET_P95_MS} ms on the runs page.`,
      '',
      table(['page', 'p50 ms', 'p95 ms', 'target'], rows),
      '',
      "Query plans of pgflow.list_runs's statement (EXPLAIN ANALYZE of the prepared statement, 50 runs + 1):",
      '',
      plans.join('\n\n'),
    ].join('\n');
  },
};
