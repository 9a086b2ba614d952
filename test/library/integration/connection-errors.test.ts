/**
 * Which failures of a statement the library treats as the connection's (retried with a backoff by
 * wait() and the worker) rather than the statement's: decided by the SQLSTATE, the system error
 * code, or the statement having failed in the driver without an answer from the server, never by
 * the text of the message.
 */
import { createServer, type Server, Socket } from 'node:net';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PgflowDatabase } from '../../../libs/pgflow/src/db/pgflow-database.ts';
import { isConnectionError } from '../../../libs/pgflow/src/db/sql-state.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';

const db = useTestDatabase();
const closers: Array<() => Promise<unknown>> = [];

// The library logs a lost pooled connection at debug level: expected here, and noise in the output.
beforeAll(() => Logger.overrideLogger(['warn', 'error']));

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => {});
});

/** A PgflowDatabase on a DataSource of its own, connected to `url`. */
async function databaseOn(url: string): Promise<PgflowDatabase> {
  const dataSource = new DataSource({ type: 'postgres', url, applicationName: 'pgflow connection errors' });
  await dataSource.initialize();
  closers.push(() => dataSource.destroy());
  return new PgflowDatabase(dataSource);
}

/**
 * A TCP relay to the test server whose connections the test can cut, the way a network failure
 * does: the client's socket ends without a word from the server.
 */
async function relay(): Promise<{ url: string; cut: () => void }> {
  const target = new URL(db.url);
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = new Socket();
    outbound.connect(Number(target.port), target.hostname);
    inbound.pipe(outbound).pipe(inbound);
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const address = server.address();
  const url = new URL(db.url);
  url.hostname = '127.0.0.1';
  url.port = String(typeof address === 'object' && address !== null ? address.port : 0);
  return {
    url: url.toString(),
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

it('a statement the server refuses is the statement’s failure', async () => {
  const database = await databaseOn(db.url);
  const error = await database.query('select 1 / 0').catch((caught: unknown) => caught);
  expect(error).toMatchObject({ code: '22012' });
  expect(isConnectionError(error)).toBe(false);
});

it('a statement whose server process is terminated is the connection’s failure', async () => {
  const database = await databaseOn(db.url);
  const sleeping = database.query("select pg_sleep(60), 'connection errors'").catch((caught: unknown) => caught);
  await waitFor(
    async () =>
      (
        await db.query<{ n: number }>(
          `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
            where query like '%''connection errors''%' and pid <> pg_backend_pid()`,
        )
      )[0]?.n === 1,
    { description: 'the sleeping statement to be terminated' },
  );
  expect(isConnectionError(await sleeping)).toBe(true);
});

it('a statement cut by the network, with no answer from the server, is the connection’s failure', async () => {
  const { url, cut } = await relay();
  const database = await databaseOn(url);
  const sleeping = database.query("select pg_sleep(60), 'cut by the network'").catch((caught: unknown) => caught);
  await waitFor(
    async () =>
      (
        await db.query<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity
            where query like '%''cut by the network''%' and pid <> pg_backend_pid()`,
        )
      )[0]?.n === 1,
    { description: 'the statement to run' },
  );
  cut();
  const error = await sleeping;
  // pg's own error, which carries neither a SQLSTATE nor a system error code.
  expect(error).toBeInstanceOf(Error);
  expect((error as { code?: unknown }).code).toBeUndefined();
  expect(isConnectionError(error)).toBe(true);
  // The server has not noticed yet (pg_sleep does not read the socket): end its side too.
  await db.query(
    `select pg_terminate_backend(pid) from pg_stat_activity
      where query like '%''cut by the network''%' and pid <> pg_backend_pid()`,
  );
});

it('an error that only reads like a lost connection is not one', () => {
  for (const message of ['Connection terminated unexpectedly', 'Client has encountered a connection error']) {
    expect(isConnectionError(new Error(message))).toBe(false);
  }
});
