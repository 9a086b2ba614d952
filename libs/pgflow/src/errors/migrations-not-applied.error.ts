import { PgflowError, PgflowErrorCode } from './pgflow.error.ts';

/** How to apply the library's migrations, for the messages that say they are missing. */
const HOW_TO_MIGRATE =
  'Add them to TypeOrmModule.forRoot({ ..., migrations: [...pgflowMigrations], migrationsRun: true }) to apply ' +
  'them at startup, or run them before starting (list pgflowMigrations in the migrations of the DataSource your ' +
  'TypeORM CLI uses: typeorm migration:run -d <that file>).';

/**
 * The database lacks the library's schema, or some of its migrations: found at bootstrap, before
 * anything else touches the engine (which would fail with PostgreSQL's bare `schema "pgflow" does
 * not exist`).
 */
export class MigrationsNotAppliedError extends PgflowError {
  override readonly name = 'MigrationsNotAppliedError';
  /** The database PgflowModule uses. */
  readonly database: string;
  /** The library's migrations the database lacks (every one when the schema is missing). */
  readonly missing: readonly string[];

  /**
   * @param schemaMissing true when the pgflow schema itself is missing, false when the TypeORM
   *   migrations table shows that only some of the migrations were applied (an upgrade not migrated).
   */
  constructor(database: string, missing: readonly string[], schemaMissing: boolean) {
    const what = schemaMissing
      ? `The database '${database}' has no schema pgflow: the migrations of nestjs-pgflow were not applied to it.`
      : `The database '${database}' lacks ${missing.length === 1 ? 'a migration' : `${missing.length} migrations`} ` +
        `of this version of nestjs-pgflow: ${missing.join(', ')} (not in TypeORM's migrations table).`;
    super(PgflowErrorCode.MigrationsNotApplied, `${what} ${HOW_TO_MIGRATE}`);
    this.database = database;
    this.missing = Object.freeze([...missing]);
  }
}
