import { PgflowError, PgflowErrorCode } from './pgflow.error.ts';

/**
 * PgflowModule was registered twice on one TypeORM DataSource. A database holds one engine, and
 * FlowClient routes each flow to one registration: two registrations on one database would compile,
 * execute and route its flows twice over.
 */
export class DuplicateRegistrationError extends PgflowError {
  override readonly name = 'DuplicateRegistrationError';
  /** The DataSource both registrations name ('default' for the unnamed one). */
  readonly dataSource: string;

  constructor(dataSource: string) {
    const which =
      dataSource === 'default' ? 'the default TypeORM DataSource' : `the TypeORM DataSource '${dataSource}'`;
    super(
      PgflowErrorCode.DuplicateRegistration,
      `PgflowModule is registered twice on ${which}. A database has one engine and one registration: import ` +
        'PgflowModule.forRoot() (or forRootAsync()) once per DataSource, list every flow of that database in its ' +
        "flows option, and choose what this process executes with that registration's worker.flows and " +
        'worker.enabled.',
    );
    this.dataSource = dataSource;
  }
}
