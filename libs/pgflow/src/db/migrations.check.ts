import { Injectable, Logger } from '@nestjs/common';
import { pgflowMigrations } from '../../../../migrations/index.ts';
import { MigrationsNotAppliedError } from '../errors/migrations-not-applied.error.ts';
import { sql } from './engine.sql.ts';
import { PgflowDatabase } from './pgflow-database.ts';

interface MigrationsState {
  readonly database: string;
  readonly has_engine: boolean;
  readonly migrations_table: string | null;
}

/**
 * Checks at bootstrap, before anything touches the engine, that the library's migrations are
 * applied, and says so in the log: a missing pgflow schema (or, per TypeORM's migrations table, a
 * migration of this version not applied) stops the boot with a {@link MigrationsNotAppliedError}
 * saying how to apply them, instead of PostgreSQL's `schema "pgflow" does not exist` at the first
 * statement. A database migrated without TypeORM's table (by hand, or another tool), or a role that
 * may not read that table, is accepted as long as the schema exists.
 */
@Injectable()
export class MigrationsCheck {
  private readonly logger = new Logger('PgflowModule');
  private checked: Promise<void> | undefined;

  constructor(private readonly database: PgflowDatabase) {}

  /** Checks once; later calls return the same promise. */
  verify(): Promise<void> {
    this.checked ??= this.check();
    return this.checked;
  }

  private async check(): Promise<void> {
    const names = pgflowMigrations.map((Migration) => new Migration().name ?? Migration.name);
    const options = this.database.dataSource.options as { migrationsTableName?: string; schema?: string };
    const [state] = await this.database.query<MigrationsState>(sql.migrationsState, [
      options.schema ?? null,
      options.migrationsTableName ?? 'migrations',
    ]);
    if (state === undefined) throw new Error('The migrations check read no row.');
    if (!state.has_engine) throw new MigrationsNotAppliedError(state.database, names, true);

    const applied =
      state.migrations_table === null
        ? new Set<string>()
        : new Set(
            (await this.database.query<{ name: string }>(sql.appliedMigrations(state.migrations_table))).map(
              (r) => r.name,
            ),
          );
    const missing = names.filter((name) => !applied.has(name));
    if (missing.length === 0) {
      this.logger.log(
        `Database '${state.database}' ready: the ${names.length} migrations of nestjs-pgflow are applied ` +
          `(latest: ${names[names.length - 1]}).`,
      );
    } else if (missing.length < names.length) {
      throw new MigrationsNotAppliedError(state.database, missing, false);
    } else {
      this.logger.log(
        `Database '${state.database}' has the pgflow schema; TypeORM's migrations table is missing, unreadable ` +
          "by this role, or does not list the library's migrations, so their versions were not checked.",
      );
    }
  }
}
