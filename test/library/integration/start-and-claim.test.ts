/**
 * FlowClient.start() in a process whose worker serves the flow claims the run's first task in the
 * start's own statement (pgflow._start_and_claim): the task runs without a wake-up notification or a
 * poll. Only while that worker is idle (a busy one claims in batches), and never inside the caller's
 * transaction.
 */
import { jest } from '@jest/globals';
import { Flow, Step } from 'nestjs-pgflow';
import { DataSource } from 'typeorm';
import { PgflowDatabase } from '../../../libs/pgflow/src/db/pgflow-database.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

@Flow({ slug: 'local_claim' })
class LocalClaimFlow {
  readonly ran: string[] = [];
  release: () => void = () => {};
  hold = false;

  @Step()
  async only(input: { name: string }) {
    this.ran.push(input.name);
    if (this.hold) await new Promise<void>((resolve) => (this.release = resolve));
    return input.name;
  }
}

const db = useTestDatabase();
const apps = useApps();

/** The worker reads its queue at boot, then not for 5 minutes: only a start's own claim runs a task soon. */
const SLEEPY_WORKER = { maxPollSeconds: 300, pollIntervalMs: 300_000 };

/** The statements each start sent, by the function they call. */
function startStatements(): string[] {
  const sent: string[] = [];
  const query = PgflowDatabase.prototype.query;
  jest.spyOn(PgflowDatabase.prototype, 'query').mockImplementation(function (this: PgflowDatabase, ...args) {
    const [text] = args;
    if (text.includes('_start_and_claim(')) sent.push('_start_and_claim');
    else if (text.includes('pgflow.start_flow(')) sent.push('start_flow');
    return query.apply(this, args);
  } as typeof query);
  return sent;
}

/**
 * Waits until the worker's first read of its queue, at boot, has ended: a start while a round trip of
 * the worker is under way is not claimed in its statement (the worker is not idle), and this file's
 * sleepy worker would then not read its queue again for minutes.
 */
async function firstReadEnded(): Promise<void> {
  await waitFor(
    async () => {
      const [row] = await db.query<{ ended: boolean }>(
        `select coalesce(bool_or(state = 'idle') and not bool_or(state = 'active'), false) as ended
           from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid()
            and query like '%pgflow._report_and_claim(%'`,
      );
      return row?.ended === true;
    },
    { timeoutMs: 10_000, description: "the worker's first read of its queue" },
  );
}

afterEach(async () => {
  jest.restoreAllMocks();
  await db.query('update pgflow.limits set notify_queue_shed_at = 0.5');
});

it('runs the first task of a run started here without a wake-up or a poll', async () => {
  const { app, client } = await apps.start({
    url: db.url,
    providers: [LocalClaimFlow],
    pgflow: { worker: SLEEPY_WORKER },
  });
  await firstReadEnded();
  // No notification at all from now on: a worker that waited for one, or for its next poll, would not run the task.
  await db.query('update pgflow.limits set notify_queue_shed_at = 0');
  const sent = startStatements();
  const run = await client.start(LocalClaimFlow, { name: 'first' });
  await waitFor(() => app.get(LocalClaimFlow).ran.includes('first'), { timeoutMs: 10_000, description: 'the handler' });
  await waitFor(async () => (await client.getRun(run.runId)).status === 'completed', {
    timeoutMs: 10_000,
    description: 'the run to complete',
  });
  expect(sent).toEqual(['_start_and_claim']);
}, 30_000);

it('claims nothing for a start inside the caller’s transaction: the task waits for the commit', async () => {
  const { app, client } = await apps.start({ url: db.url, providers: [LocalClaimFlow] });
  const sent = startStatements();
  const runId = await app.get(DataSource).transaction(async (manager) => {
    const run = await client.start(LocalClaimFlow, { name: 'in a transaction' }, { manager });
    return run.runId;
  });
  expect(sent).toEqual(['start_flow']);
  await waitFor(async () => (await client.getRun(runId)).status === 'completed', {
    timeoutMs: 10_000,
    description: 'the run started in the transaction',
  });
}, 30_000);

it('claims nothing while the worker is busy: the run waits for a free slot', async () => {
  const { app, client } = await apps.start({
    url: db.url,
    providers: [LocalClaimFlow],
    pgflow: { worker: { maxConcurrent: 1 } },
  });
  const flow = app.get(LocalClaimFlow);
  flow.hold = true;
  const sent = startStatements();
  const busy = await client.start(LocalClaimFlow, { name: 'busy' });
  await waitFor(() => flow.ran.includes('busy'), { timeoutMs: 10_000, description: 'the first handler' });
  flow.hold = false;
  const queued = await client.start(LocalClaimFlow, { name: 'queued' });
  // The worker is busy (and its only slot taken): the start is start_flow alone. (The first start may or
  // may not have claimed for it: a poll at boot may have been under way then.)
  expect(sent.at(-1)).toBe('start_flow');
  expect(flow.ran).toEqual(['busy']);
  flow.release();
  await expect(busy.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { only: 'busy' } });
  await expect(queued.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { only: 'queued' } });
  expect(flow.ran).toEqual(['busy', 'queued']);
}, 30_000);
