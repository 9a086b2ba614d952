import pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';

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
    const result = await this.pool().query(text, [...values]);
    return result.rows as Row[];
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
    return pool;
  }
}
