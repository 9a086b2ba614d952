import { PgflowError, PgflowErrorCode } from './pgflow.error.ts';

/**
 * PgflowModule was told to use a TypeORM DataSource the application does not register (a typo in
 * `dataSource`, or no TypeOrmModule.forRoot() at all). Thrown while Nest creates the providers,
 * instead of Nest's dependency-injection error about an internal provider.
 */
export class DataSourceNotFoundError extends PgflowError {
  override readonly name = 'DataSourceNotFoundError';
  /** The name PgflowModule was given; undefined for the default DataSource. */
  readonly dataSource: string | undefined;
  /** The names of the DataSources the application registers ('default' for the unnamed one). */
  readonly registered: readonly string[];

  constructor(dataSource: string | undefined, registered: readonly string[]) {
    const asked =
      dataSource === undefined
        ? "PgflowModule uses the application's default TypeORM DataSource (no dataSource option), but none is registered"
        : `PgflowModule's dataSource option names the TypeORM DataSource '${dataSource}', but none of that name is registered`;
    const known =
      registered.length === 0
        ? 'The application registers no DataSource: import TypeOrmModule.forRoot({ type: ' +
          "'postgres', url, ... }) next to PgflowModule."
        : `The application registers: ${registered.map((name) => `'${name}'`).join(', ')}. ` +
          (dataSource === undefined
            ? 'Pass one of them as PgflowModule.forRoot({ dataSource }), or register an unnamed one.'
            : "Use one of them in PgflowModule's dataSource option (the name given to TypeOrmModule.forRoot({ name })), " +
              `or register a DataSource named '${dataSource}'.`);
    super(PgflowErrorCode.DataSourceNotFound, `${asked}. ${known}`);
    this.dataSource = dataSource;
    this.registered = Object.freeze([...registered]);
  }
}
