/**
 * The PostgreSQL a benchmark runs on: DATABASE_URL or an embedded server (tools/local-postgres.ts,
 * durable settings: never the test harness's fsync=off), and a fresh database for every workload,
 * cloned from a template migrated once per set of migrations.
 */
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { DataSource, type MigrationInterface } from 'typeorm';
import { type LocalPostgres, startLocalPostgres, withDatabase } from '../../tools/local-postgres.ts';

export type MigrationClass = new () => MigrationInterface;

export interface ServerFacts {
  readonly version: string;
  readonly settings: Readonly<Record<string, string>>;
  readonly source: LocalPostgres['source'];
}

/** Work counters of one database, to take differences around a measurement. */
export interface Counters {
  readonly commits: number;
  readonly walLsn: string;
}

export class BenchDatabase {
  constructor(
    readonly name: string,
    readonly url: string,
  ) {}

  /** A new connection; the caller ends it. */
  async connect(applicationName: string): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.url, application_name: applicationName });
    await client.connect();
    return client;
  }

  /** Runs statements on a short-lived connection. */
  async run(statements: readonly string[]): Promise<void> {
    const client = await this.connect('pgflow bench setup');
    try {
      for (const sql of statements) await client.query(sql);
    } finally {
      await client.end();
    }
  }
}

export class BenchServer {
  private readonly templates = new Map<string, string>();
  private readonly databases: string[] = [];

  private constructor(
    private readonly local: LocalPostgres,
    private readonly admin: pg.Client,
  ) {}

  static async start(): Promise<BenchServer> {
    const local = await startLocalPostgres({ name: 'bench' });
    const admin = new pg.Client({ connectionString: local.url, application_name: 'pgflow bench admin' });
    try {
      await admin.connect();
      // A PostgreSQL package upgraded under a running server can break PL/pgSQL loading.
      await admin.query('do $$ begin end $$');
    } catch (error) {
      await admin.end().catch(() => {});
      await local.stop();
      throw new Error(`PostgreSQL at ${redact(local.url)} is not usable for benchmarks (is PL/pgSQL loadable?)`, {
        cause: error,
      });
    }
    return new BenchServer(local, admin);
  }

  get source(): LocalPostgres['source'] {
    return this.local.source;
  }

  async facts(): Promise<ServerFacts> {
    const { rows } = await this.admin.query<{ name: string; setting: string }>(
      `select name, current_setting(name) as setting from pg_settings
        where name in ('server_version', 'fsync', 'synchronous_commit', 'shared_buffers', 'wal_level',
                       'full_page_writes', 'max_wal_size', 'jit', 'shared_preload_libraries')`,
    );
    const settings = Object.fromEntries(rows.map((row) => [row.name, row.setting]));
    return { version: settings.server_version ?? 'unknown', settings, source: this.local.source };
  }

  /**
   * A new database cloned from a template that has `migrations` applied (the template is made on
   * first use). Dropped by stop() if the caller has not dropped it.
   */
  async freshDatabase(migrations: readonly MigrationClass[]): Promise<BenchDatabase> {
    const template = await this.template(migrations);
    const name = `pgflow_bench_${randomBytes(5).toString('hex')}`;
    await this.admin.query(`create database ${ident(name)} template ${ident(template)}`);
    this.databases.push(name);
    return new BenchDatabase(name, withDatabase(this.local.url, name));
  }

  /**
   * A new database copied from `source` (which must have no connection), e.g. one prepared once
   * with work queued, for every round that drains it. Dropped by stop() if the caller has not.
   */
  async cloneDatabase(source: BenchDatabase): Promise<BenchDatabase> {
    await this.waitForDisconnect(source);
    const name = `pgflow_bench_${randomBytes(5).toString('hex')}`;
    await this.admin.query(`create database ${ident(name)} template ${ident(source.name)}`);
    this.databases.push(name);
    return new BenchDatabase(name, withDatabase(this.local.url, name));
  }

  async dropDatabase(database: BenchDatabase): Promise<void> {
    await this.admin.query(`drop database if exists ${ident(database.name)} with (force)`);
    this.databases.splice(this.databases.indexOf(database.name), 1);
  }

  /** CHECKPOINT, so every measurement starts with the same full-page-write state; skipped without the right. */
  async checkpoint(): Promise<void> {
    await this.admin.query('checkpoint').catch(() => {});
  }

  /**
   * The database's commit count and the server's WAL position. Statistics of a backend reach
   * pg_stat_database when it ends (or within a second): call this after the workload's connections
   * have gone, see waitForDisconnect.
   */
  async counters(database: BenchDatabase): Promise<Counters> {
    await this.admin.query('select pg_stat_clear_snapshot()');
    const { rows } = await this.admin.query<{ commits: string; lsn: string }>(
      'select xact_commit as commits, pg_current_wal_lsn()::text as lsn from pg_stat_database where datname = $1',
      [database.name],
    );
    return { commits: Number(rows[0]?.commits ?? 0), walLsn: rows[0]?.lsn ?? '0/0' };
  }

  /** A statement on the server's admin connection (the database DATABASE_URL names, or the embedded server's). */
  async adminQuery<R extends pg.QueryResultRow>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    const { rows } = await this.admin.query<R>(sql, [...params]);
    return rows;
  }

  /** The server's URL for another database on it. */
  urlOf(databaseName: string): string {
    return withDatabase(this.local.url, databaseName);
  }

  async walLsn(): Promise<string> {
    const { rows } = await this.admin.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn');
    return rows[0]?.lsn ?? '0/0';
  }

  async walBytesBetween(from: string, to: string): Promise<number> {
    const { rows } = await this.admin.query<{ bytes: string }>('select pg_wal_lsn_diff($2, $1) as bytes', [from, to]);
    return Number(rows[0]?.bytes ?? 0);
  }

  /** Waits until no backend is connected to the database (their statistics are then flushed). */
  async waitForDisconnect(database: BenchDatabase, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await this.admin.query('select 1 from pg_stat_activity where datname = $1', [database.name]);
      if (rows.length === 0) return;
      if (Date.now() > deadline)
        throw new Error(`Connections to ${database.name} did not close within ${timeoutMs} ms.`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async stop(): Promise<void> {
    try {
      for (const name of [...this.databases, ...this.templates.values()]) {
        await this.admin.query(`drop database if exists ${ident(name)} with (force)`).catch(() => {});
      }
    } finally {
      await this.admin.end().catch(() => {});
      await this.local.stop();
    }
  }

  private async template(migrations: readonly MigrationClass[]): Promise<string> {
    const names = migrations.map((Migration) => new Migration().name ?? Migration.name);
    const key = createHash('sha1').update(names.join(',')).digest('hex').slice(0, 10);
    const existing = this.templates.get(key);
    if (existing) return existing;
    const name = `pgflow_bench_template_${key}_${randomBytes(3).toString('hex')}`;
    await this.admin.query(`create database ${ident(name)}`);
    this.templates.set(key, name);
    const dataSource = new DataSource({
      type: 'postgres',
      url: withDatabase(this.local.url, name),
      migrations: [...migrations],
      migrationsTransactionMode: 'each',
      logging: ['error'],
    });
    await dataSource.initialize();
    try {
      await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await dataSource.destroy();
    }
    return name;
  }
}

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
