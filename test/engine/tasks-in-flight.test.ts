/**
 * A report's work does not grow with the tasks in flight: completing, failing or handing back a few
 * tasks reads about as many rows whether 20 tasks are started or 400. The statistics are taken
 * while no task is started (as after a deployment, or a quiet hour), which is when the planner
 * believed the partial index of started tasks empty and chose it to find the reported tasks: every
 * started task was read and its address compared with each reported one, O(tasks in flight × batch)
 * per report (until migration CompletionsByAddress). The work is counted, not timed
 * (support/explained-rows.ts).
 */
import { useTestDatabase } from '../support/test-database.ts';
import { completeTasks, defineFlow, registerWorker } from './support/engine-driver.ts';
import { explainingSession } from './support/explained-rows.ts';

const db = useTestDatabase();

interface Claimed {
  readonly run_id: string;
  readonly step_slug: string;
  readonly task_index: number;
  readonly msg_id: string;
}

type Report = 'complete' | 'fail' | 'hand back';

/** The statement that reports `tasks` of `flow`'s worker. */
function reportStatement(report: Report, flow: string, worker: string, tasks: readonly Claimed[]) {
  const keys = tasks.map(({ run_id, step_slug, task_index }) => ({ run_id, step_slug, task_index }));
  switch (report) {
    case 'complete':
      return {
        text: 'select pgflow.complete_tasks($1::jsonb)',
        values: [JSON.stringify(keys.map((key) => ({ ...key, output: 1 })))],
      };
    case 'fail':
      return {
        text: 'select pgflow.fail_tasks($1::jsonb)',
        values: [JSON.stringify(keys.map((key) => ({ ...key, error_message: 'boom' })))],
      };
    case 'hand back':
      return {
        text: 'select pgflow._release_tasks($1, $2::bigint[], $3::uuid)',
        values: [flow, tasks.map((task) => task.msg_id), worker],
      };
  }
}

/**
 * Starts `inFlight` runs of a one-step flow with statistics taken before any task started, claims
 * all their tasks, then reports 4 of them: the rows that report read and compared.
 */
async function rowsOfReport(report: Report, flow: string, inFlight: number): Promise<number> {
  const worker = await registerWorker(db, flow);
  await db.query('select count(*) from pgflow.start_flows($1, $2::jsonb)', [
    flow,
    JSON.stringify(Array.from({ length: inFlight }, (_, n) => ({ n }))),
  ]);
  await db.query('analyze pgflow.step_tasks');
  const claimed = await db.query<Claimed>(
    `select run_id, step_slug, task_index, msg_id
       from pgflow._report_and_claim('[]'::jsonb, '[]'::jsonb, $1, $2, 30, $3::uuid) where run_id is not null`,
    [flow, inFlight, worker],
  );
  expect(claimed).toHaveLength(inFlight);
  const { client, rowsSince } = await explainingSession(db, 'tasks in flight');
  try {
    const { text, values } = reportStatement(report, flow, worker, claimed.slice(0, 4));
    rowsSince();
    await client.query(text, values);
    return rowsSince();
  } finally {
    await client.end();
    // The others complete, so that the next measurement starts with none in flight.
    await completeTasks(
      db,
      claimed.map(({ run_id, step_slug, task_index }) => ({ run_id, step_slug, task_index, output: 1 })),
    );
  }
}

describe('the work of a report', () => {
  it.each<Report>(['complete', 'fail', 'hand back'])(
    'does not grow with the tasks in flight, to %s 4 tasks with 20 or 400 started',
    async (report) => {
      const flow = `in_flight_${report.replace(' ', '_')}`;
      await defineFlow(db, flow, [{ slug: 'only' }], { maxAttempts: 1 });
      const few = await rowsOfReport(report, flow, 20);
      const many = await rowsOfReport(report, flow, 400);
      expect(few).toBeGreaterThan(0);
      // The same work gives the same count. Reading every started task adds 380 rows here.
      expect(many - few).toBeLessThan(100);
    },
  );
});
