/**
 * A claim's cost with tasks in flight (issue 17): the messages of running tasks stay in the queue,
 * invisible, until their tasks end. With 100, 1,000 and 10,000 tasks of a one-step flow claimed and
 * running (visible again only after their 600 s timeout), the server time of what a worker sends
 * meanwhile: a poll that finds nothing, a claim of 4 tasks started since, a start whose task is
 * claimed by the starting process's worker, and the stalled-task sweep of every heartbeat. Each is timed in a transaction that is rolled back, so
 * every sample sees the same queue; the table gives the median.
 */
import { pgflowMigrations } from '../../migrations/index.ts';
import { median } from '../support/figures.ts';
import { formatNumber, table } from '../support/results.ts';
import type { BenchContext, BenchSuite } from '../support/suite.ts';
import { WORKER_ID } from './engine.driver.ts';

const FLOW = 'bench_in_flight';

const LOOKS = [
  {
    name: 'a poll that finds nothing',
    setup: undefined,
    sql: `select count(*) from pgflow._report_and_claim('[]', '[]', $1, 10, 30, $2)`,
    values: [FLOW, WORKER_ID],
  },
  {
    name: 'a claim of 4 tasks started since',
    setup: `select count(*) from pgflow.start_flows('${FLOW}', '[1, 2, 3, 4]'::jsonb)`,
    sql: `select count(*) from pgflow._report_and_claim('[]', '[]', $1, 10, 30, $2)`,
    values: [FLOW, WORKER_ID],
  },
  {
    name: 'a start with its task claimed',
    setup: undefined,
    sql: `select count(*) from pgflow._start_and_claim($1, '{}'::jsonb, null, null, null, null, null, null, 1, 30, $2)`,
    values: [FLOW, WORKER_ID],
  },
  {
    name: "a stalled-task sweep (every worker's, at each heartbeat)",
    setup: undefined,
    sql: 'select pgflow.requeue_stalled_tasks()',
    values: [],
  },
] satisfies ReadonlyArray<{ name: string; setup: string | undefined; sql: string; values: string[] }>;

export const inFlightSuite: BenchSuite = {
  name: 'in-flight',
  summary: 'server time of a poll, a claim, a claimed start and a sweep with 100 to 10,000 tasks in flight',
  async run(context: BenchContext): Promise<string> {
    const counts = context.quick ? [100, 1_000] : [100, 1_000, 10_000];
    const samples = context.quick ? 5 : 41;
    const medians = new Map<string, number[]>();
    for (const inFlight of counts) {
      const database = await context.server.freshDatabase(pgflowMigrations);
      const client = await database.connect('bench in flight');
      try {
        await client.query(`select pgflow.create_flow('${FLOW}', timeout => 600)`);
        await client.query(`select pgflow.add_step('${FLOW}', 'only')`);
        await client.query('select pgflow._write_queue_statements()');
        await client.query(
          `insert into pgflow.workers (worker_id, queue_name, function_name) values ($1, $2, 'bench')`,
          [WORKER_ID, FLOW],
        );
        await client.query(
          `select count(*) from pgflow.start_flows($1, (select jsonb_agg(i) from generate_series(1, $2::int) i))`,
          [FLOW, inFlight],
        );
        await client.query(`select count(*) from pgflow._report_and_claim('[]', '[]', $1, $2, 30, $3)`, [
          FLOW,
          inFlight,
          WORKER_ID,
        ]);
        await client.query('vacuum analyze');
        for (const look of LOOKS) {
          const times: number[] = [];
          for (let n = 0; n < samples; n++) {
            await client.query('begin');
            if (look.setup !== undefined) await client.query(look.setup);
            const started = performance.now();
            await client.query(look.sql, look.values);
            times.push(performance.now() - started);
            await client.query('rollback');
          }
          medians.set(look.name, [...(medians.get(look.name) ?? []), median(times)]);
        }
        context.log(`in-flight: ${formatNumber(inFlight)} tasks measured`);
      } finally {
        await client.end();
        await context.server.dropDatabase(database);
      }
    }
    return [
      `A one-step flow with its tasks claimed and running (timeout 600 s); the median of ${samples} samples, each in a`,
      'transaction rolled back (ms, from the client, one connection):',
      '',
      table(
        [
          'statement',
          ...counts.map((count) => `${formatNumber(count)} in flight`),
          `${formatNumber(counts.at(-1) ?? 0)} ÷ ${formatNumber(counts[0] ?? 0)}`,
        ],
        LOOKS.map((look) => {
          const values = medians.get(look.name) ?? [];
          return [
            look.name,
            ...values.map((value) => formatNumber(value, 2)),
            formatNumber((values.at(-1) ?? 0) / (values[0] ?? 1), 2),
          ];
        }),
      ),
    ].join('\n');
  },
};
