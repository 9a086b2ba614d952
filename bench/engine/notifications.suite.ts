/**
 * The engine's notifications and the server's notification queue (issue "Hardening", item 6): every
 * engine commit notifies, and a session that LISTENs and then sits in an open transaction keeps
 * every later notification of the server in the queue. This measures what the engine adds to that
 * queue per task and per run (3-step chains, driven like the engine suite, with such a stuck
 * listener open), from pg_notification_queue_usage(), and so how long a stuck listener takes to
 * bring the queue to the share at which the engine stops notifying (pgflow.limits).
 */
import { pgflowMigrations } from '../../migrations/index.ts';
import { formatNumber, table } from '../support/results.ts';
import type { BenchContext, BenchSuite } from '../support/suite.ts';
import { EngineDriver, WORKER_ID } from './engine.driver.ts';

/** PostgreSQL's queue: max_notify_queue_pages (17+, default 1,048,576) pages of 8 kB; 8 GB before 17. */
const QUEUE_PAGES_BEFORE_17 = 1_048_576;

export const notificationsSuite: BenchSuite = {
  name: 'notifications',
  summary: 'bytes of the server notification queue per task, with a listener stuck in a transaction',
  async run(context: BenchContext): Promise<string> {
    const runs = context.quick ? 300 : 3_000;
    const database = await context.server.freshDatabase(pgflowMigrations);
    const setup = await database.connect('bench notifications setup');
    const stuck = await database.connect('bench stuck listener');
    const driverClient = await database.connect('bench notifications driver');
    try {
      await setup.query(`select pgflow.create_flow('bench_notify', timeout => 120)`);
      await setup.query(`select pgflow.add_step('bench_notify', 'a')`);
      await setup.query(`select pgflow.add_step('bench_notify', 'b', array['a'])`);
      await setup.query(`select pgflow.add_step('bench_notify', 'c', array['b'])`);
      await setup.query(
        `insert into pgflow.workers (worker_id, queue_name, function_name) values ($1, 'bench_notify', 'bench')`,
        [WORKER_ID],
      );
      const [{ pages, shed }] = (
        await setup.query<{ pages: number; shed: number }>(
          `select coalesce(current_setting('max_notify_queue_pages', true)::int, $1) as pages,
                  (select notify_queue_shed_at from pgflow.limits) as shed`,
          [QUEUE_PAGES_BEFORE_17],
        )
      ).rows as [{ pages: number; shed: number }];
      const queueBytes = pages * 8192;

      // A listener that stops reading: it LISTENs, then holds a transaction open.
      await stuck.query('listen bench_stuck_listener');
      await stuck.query('begin');
      await stuck.query('select 1');
      const usage = async () => Number((await setup.query('select pg_notification_queue_usage() as u')).rows[0]?.u);
      const before = await usage();
      const started = process.hrtime.bigint();
      await setup.query(
        `select pgflow.start_flows('bench_notify', (select jsonb_agg(jsonb_build_object('n', i)) from generate_series(1, $1::int) i))`,
        [runs],
      );
      const driver = new EngineDriver(driverClient, 'bench_notify', 'report_and_claim');
      let done = 0;
      while (done < runs * 3) {
        const completed = await driver.work(runs * 3 - done);
        if (completed === 0) break;
        done += completed;
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const after = await usage();
      await stuck.query('rollback');
      const bytes = (after - before) * queueBytes;
      const perTask = bytes / done;
      const tasksPerSecond = done / seconds;
      const secondsToShed = (shed * queueBytes) / (perTask * tasksPerSecond);
      context.log(`notifications: ${formatNumber(perTask)} bytes per task, ${formatNumber(done)} tasks`);
      return [
        `${formatNumber(runs)} runs of a 3-step chain (${formatNumber(done)} tasks), driven in batches of 100 by`,
        '`pgflow._report_and_claim`, with one session LISTENing inside an open transaction:',
        '',
        table(
          ['figure', 'value'],
          [
            ['queue bytes per task', formatNumber(perTask)],
            ['queue bytes per run', formatNumber(bytes / runs)],
            ['tasks/s while measured', formatNumber(tasksPerSecond)],
            ['queue size (max_notify_queue_pages × 8 kB)', `${formatNumber(queueBytes / 2 ** 30, 1)} GiB`],
            [
              `time for a stuck listener to fill ${Math.round(shed * 100)} % at that rate (then the engine stops notifying)`,
              `${formatNumber(secondsToShed / 60)} min`,
            ],
          ],
        ),
      ].join('\n');
    } finally {
      await stuck.end().catch(() => {});
      await driverClient.end();
      await setup.end();
    }
  },
};
