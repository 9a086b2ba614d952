import { PgflowError, PgflowErrorCode, type PgflowErrorOptions } from './pgflow.error.ts';

/** No schedule has this name (in any database the client reaches). */
export class ScheduleNotFoundError extends PgflowError {
  override readonly name = 'ScheduleNotFoundError';
  readonly scheduleName: string;
  /** The names of the schedules that exist (the first 50), to help spot a typo. */
  readonly knownSchedules: readonly string[];

  constructor(scheduleName: string, knownSchedules: readonly string[], options: PgflowErrorOptions = {}) {
    const known =
      knownSchedules.length === 0
        ? 'There are no schedules: they are created when a worker of a flow with @FlowSchedule() boots.'
        : `The schedules are: ${knownSchedules.map((name) => `'${name}'`).join(', ')}.`;
    super(
      PgflowErrorCode.ScheduleNotFound,
      `No schedule is named '${scheduleName}'. ${known} Pass the name given to @FlowSchedule(cron, { name }) ` +
        '(by default the flow slug), as listSchedules() returns it.',
      options,
    );
    this.scheduleName = scheduleName;
    this.knownSchedules = Object.freeze([...knownSchedules]);
  }
}
