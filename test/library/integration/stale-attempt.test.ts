/**
 * A worker reports each result with its attempt, so a result that arrives after the task was taken
 * back (stall sweep, timeout) and started again changes nothing: the attempt running now decides.
 */
import { jest } from '@jest/globals';
import { Flow, Step, type StepContext } from 'nestjs-pgflow';
import { PgflowDatabase } from '../../../libs/pgflow/src/db/pgflow-database.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

function latch(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

@Flow({ slug: 'stale_attempt', maxAttempts: 2, baseDelay: 0, timeout: 60 })
class StaleAttemptFlow {
  readonly started: number[] = [];
  readonly release = new Map([
    [1, latch()],
    [2, latch()],
  ]);

  @Step()
  async only(_input: unknown, ctx: StepContext) {
    this.started.push(ctx.attempt);
    await this.release.get(ctx.attempt)?.promise;
    if (ctx.attempt === 1) throw new Error('attempt 1 failed, long after it lost its task');
    return `done by attempt ${ctx.attempt}`;
  }
}

const db = useTestDatabase();
const apps = useApps();

afterEach(() => jest.restoreAllMocks());

it('a failure reported by an attempt that lost its task does not fail the attempt running now, nor the run', async () => {
  const reportedFailures: unknown[] = [];
  const query = PgflowDatabase.prototype.query;
  jest.spyOn(PgflowDatabase.prototype, 'query').mockImplementation(async function (this: PgflowDatabase, ...args) {
    const result = await query.apply(this, args);
    if (args[0].includes('_report_and_claim')) {
      reportedFailures.push(...(JSON.parse(String(args[1]?.[1] ?? '[]')) as unknown[]));
    }
    return result;
  } as typeof query);

  const { app, client } = await apps.start({ url: db.url, providers: [StaleAttemptFlow] });
  const flow = app.get(StaleAttemptFlow);
  const run = await client.start(StaleAttemptFlow, {});
  await waitFor(() => flow.started.includes(1), { description: 'attempt 1 running' });

  // Attempt 1 looks stalled (its worker silent for an hour): the sweep takes the task back, and the
  // worker starts attempt 2 while attempt 1's handler is still running.
  await db.query(
    `update pgflow.step_tasks set queued_at = queued_at - interval '1 hour', started_at = started_at - interval '1 hour'
      where run_id = $1`,
    [run.runId],
  );
  await db.query('select pgflow.requeue_stalled_tasks()');
  await waitFor(() => flow.started.includes(2), { description: 'attempt 2 running' });

  // Attempt 1 fails now. Were it counted, it would be the task's 2nd and last failure: the run would fail.
  flow.release.get(1)?.open();
  await waitFor(() => reportedFailures.length > 0, { description: "attempt 1's failure reported" });
  expect(reportedFailures).toEqual([expect.objectContaining({ step_slug: 'only', attempt: 1 })]);
  const [task] = await db.query('select status, attempts_count from pgflow.step_tasks where run_id = $1', [run.runId]);
  expect(task).toEqual({ status: 'started', attempts_count: 2 });

  flow.release.get(2)?.open();
  const done = await run.wait({ timeoutMs: 20_000 });
  expect(done.output).toEqual({ only: 'done by attempt 2' });
});
