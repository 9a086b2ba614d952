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
    const {
      rows: [{ pid }],
    } = await taken.query<{ pid: number }>('select pg_backend_pid() as pid');
    await db.query('select pg_terminate_backend($1)', [pid]);
    await waitFor(
      async () =>
        (await db.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where pid = $1', [pid]))[0]
          ?.n === 0,
      { description: 'the backend to be gone' },
    );
    // Let the client read the server's goodbye and emit its 'error' event.
    await new Promise((resolve) => setTimeout(resolve, 200));
    taken.release(true);

    expect(uncaught).toEqual([]);
    const run = await client.start(EchoFlow, { still: 'working' });
    await expect(run.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { echo: { still: 'working' } } });
  } finally {
    process.off('uncaughtException', onUncaught);
  }
});
