/**
 * Pending waits at shutdown: they end with PgflowShutdownError at the start of it (before the
 * worker has finished stopping, and before Nest closes the HTTP server, which waits for the
 * requests in progress), and a wait() asked for during the shutdown is refused at once.
 */
import { Flow, PgflowShutdownError, Step, type StepContext } from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { useApps } from '../fixtures/pgflow-app.ts';
import { Gate } from '../fixtures/recorders.ts';

const gate = new Gate();
let running = 0;
const events: string[] = [];

@Flow({ slug: 'shutdown_waits_held', maxAttempts: 1 })
class HeldFlow {
  @Step()
  async hold(_input: unknown, ctx: StepContext) {
    running += 1;
    // Ends when the worker gives up on it at the end of its shutdown timeout, or when the file ends.
    await Promise.race([gate.opened, new Promise((resolve) => ctx.signal.addEventListener('abort', resolve))]);
    events.push('task released');
    return 'released';
  }
}

const db = useTestDatabase();
const apps = useApps();

afterAll(() => gate.open());

it('rejects pending waits with PgflowShutdownError while the worker still waits for its running task', async () => {
  const app = await apps.start({
    url: db.url,
    providers: [HeldFlow],
    pgflow: { worker: { shutdownTimeoutMs: 3_000 } },
  });
  const run = await app.client.start(HeldFlow, {});
  await waitFor(() => running === 1, { description: 'the task to run' });
  const waiting = run.wait({ timeoutMs: 60_000 }).catch((error: unknown) => {
    events.push('wait rejected');
    return error;
  });

  const closed = app.close().then(() => events.push('app closed'));
  const error = await waiting;
  // A wait asked for once the shutdown has begun is refused at once.
  const late = await app.client.wait(run.runId).catch((caught: unknown) => caught);
  await closed;

  expect(error).toBeInstanceOf(PgflowShutdownError);
  expect(error).toMatchObject({ runId: run.runId });
  expect(late).toBeInstanceOf(PgflowShutdownError);
  expect(events).toEqual(['wait rejected', 'task released', 'app closed']);
});
