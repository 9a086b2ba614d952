/**
 * A connection of the application's pool that the server ends while it is checked out between two
 * statements must not kill the process: the library gives the pool's clients an 'error' listener.
 * Without it the 'error' event has no listener and Node.js throws (a worker process died so in the
 * connection-loss test, about one run in three).
 */

import { Flow, Step } from 'nestjs-pgflow';
import type pg from 'pg';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

@Flow({ slug: 'pool_errors_echo', maxAttempts: 1 })
class EchoFlow {
  @Step()
  echo(input: unknown) {
    return input;
  }
}

const db = useTestDatabase();
const apps = useApps();

it('survives the server ending a checked-out connection between statements, and keeps working', async () => {
  const { client, dataSource } = await apps.start({ url: db.url, providers: [EchoFlow] });
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);
  process.on('uncaughtException', onUncaught);
  try {
    // A client taken from the pool the way any code of the application may take one.
    const pool = (dataSource().driver as unknown as { master: pg.Pool }).master;
    const taken = await pool.connect();
    // The pool removes its own 'error' listener from a client it hands out: this one is the library's.
    const listeners = taken.listeners('error') as Array<(error: Error) => void>;
    expect(listeners).toHaveLength(1);
    const [guard] = listeners as [(error: Error) => void];
    // Count what reaches it (still calling it, so that its behaviour is the one under test).
    const guarded: Error[] = [];
    taken.removeListener('error', guard);
    taken.on('error', (error: Error) => {
      guarded.push(error);
      guard(error);
    });
    const {
      rows: [{ pid }],
    } = await taken.query<{ pid: number }>('select pg_backend_pid() as pid');
    await db.query('select pg_terminate_backend($1)', [pid]);
    // The client reads the server's goodbye and emits 'error' with nobody else listening: the case
    // that used to end the process.
    await waitFor(() => guarded.length > 0, { description: "the client's 'error' event" });
    taken.release(true);

    expect(uncaught).toEqual([]);
    const run = await client.start(EchoFlow, { still: 'working' });
    await expect(run.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { echo: { still: 'working' } } });
  } finally {
    process.off('uncaughtException', onUncaught);
  }
});
