import { Logger } from '@nestjs/common';
import pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { markDriverFailure } from './sql-state.ts';

/** Pools whose clients carry an error listener (see guardClients). */
const guardedPools = new WeakSet<pg.Pool>();
const logger = new Logger('PgflowDatabase');

/**
 * Gives every client of the pool an 'error' listener. A client checked out of the pool but between
 * two statements (TypeORM 1.x attaches no listener to the connections its query runners hold) that
 * loses its connection (a restart, pg_terminate_backend) emits 'error' with nobody listening, and
 * Node.js then kills the process. With the listener the error is only logged: the statement in flight,
 * if any, fails with it, and the pool drops the broken client when it is released.
 */
function guardClients(pool: pg.Pool): void {
  const onError = (error: Error): void => logger.debug(`A pooled connection was lost: ${error.message}`);
  pool.on('connect', (client: pg.PoolClient) => client.on('error', onError));
  // The clients the pool opened before (pg-pool keeps them in _clients).
  for (const client of (pool as unknown as { _clients?: pg.Client[] })._clients ?? []) client.on('error', onError);
}

/**
 * The library's access to PostgreSQL, on the application's TypeORM DataSource: statements run on
 * the DataSource's own connection pool (or in the caller's transaction when given its
 * EntityManager), and long-lived connections (LISTEN) are opened with the same settings.
 */
export class PgflowDatabase {
  constructor(readonly dataSource: DataSource) {}

  /** Runs one statement and returns its rows; inside `manager`'s transaction when one is given. */
  async query<Row>(text: string, values: readonly unknown[] = [], manager?: EntityManager): Promise<Row[]> {
    if (manager !== undefined) return (await manager.query(text, [...values])) as Row[];
    const pool = this.pool();
    try {
      const result = await pool.query(text, [...values]);
      return result.rows as Row[];
    } catch (error) {
      // Not the server's answer to the statement: the connection (or the pool) failed under it.
      if (!(error instanceof pg.DatabaseError)) markDriverFailure(error);
      throw error;
    }
  }

  /** A new client with the DataSource's connection settings, for a connection the caller owns. */
  createClient(applicationName: string): pg.Client {
    const options = (this.pool() as unknown as { options: pg.PoolConfig }).options;
    const { max: _max, min: _min, idleTimeoutMillis: _idle, ...settings } = options;
    // pg-pool keeps the password (and ssl.key) non-enumerable: copy them by name.
    return new pg.Client({
      ...settings,
      password: options.password,
      ssl: options.ssl,
      application_name: applicationName,
    });
  }

  private pool(): pg.Pool {
    if (!this.dataSource.isInitialized) {
      throw new Error(
        'The TypeORM DataSource used by PgflowModule is not initialized (or was already destroyed). ' +
          'PgflowModule uses the DataSource of TypeOrmModule.forRoot(); check that it connects at startup.',
      );
    }
    const pool = (this.dataSource.driver as unknown as { master?: pg.Pool }).master;
    if (pool === undefined || typeof pool.query !== 'function') {
      throw new Error(
        `PgflowModule needs a PostgreSQL DataSource (type: 'postgres'); got type '${this.dataSource.options.type}'.`,
      );
    }
    if (!guardedPools.has(pool)) {
      guardedPools.add(pool);
      guardClients(pool);
    }
    return pool;
  }
}
