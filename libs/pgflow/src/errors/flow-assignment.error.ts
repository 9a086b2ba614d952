import { PgflowError, PgflowErrorCode } from './pgflow.error.ts';

/**
 * What is wrong with the way flows are assigned to PgflowModule registrations (one per database):
 * - `flows_missing`: several registrations, and one of them has no `flows` option;
 * - `claimed_twice`: a flow is in the `flows` of two registrations;
 * - `unclaimed`: a discovered flow is in the `flows` of no registration;
 * - `not_in_registration`: a registration's `worker.flows` names a flow of another registration;
 * - `alias_split`: versions of a flow under one alias are in the `flows` of two registrations;
 * - `subflow_split`: a subflow step's child flow is in the `flows` of another registration than its flow.
 */
export type FlowAssignmentProblem =
  | 'flows_missing'
  | 'claimed_twice'
  | 'unclaimed'
  | 'not_in_registration'
  | 'alias_split'
  | 'subflow_split';

/** A flow as the messages name it: its slug, and its class when the application has one. */
export interface AssignedFlow {
  readonly slug: string;
  readonly className?: string;
}

/**
 * The flows of the application cannot be assigned to its PgflowModule registrations: each flow's runs
 * live in exactly one database, the one of the registration whose `flows` lists it. Thrown at boot.
 */
export class FlowAssignmentError extends PgflowError {
  override readonly name = 'FlowAssignmentError';
  readonly problem: FlowAssignmentProblem;
  /** The slugs of the flows concerned (none for `flows_missing`). */
  readonly flows: readonly string[];
  /** The registrations concerned, by DataSource name ('default' for the unnamed one). */
  readonly registrations: readonly string[];

  private constructor(
    problem: FlowAssignmentProblem,
    message: string,
    flows: readonly string[],
    registrations: readonly string[],
  ) {
    super(PgflowErrorCode.FlowAssignment, message);
    this.problem = problem;
    this.flows = Object.freeze([...flows]);
    this.registrations = Object.freeze([...registrations]);
  }

  /** Several registrations, and `registration` does not say which flows are its. */
  static flowsMissing(registration: string, all: readonly string[]): FlowAssignmentError {
    return new FlowAssignmentError(
      'flows_missing',
      `PgflowModule is registered for several DataSources (${quoted(all)}), but the registration on ` +
        `'${registration}' has no flows option. With several databases every registration lists the flows whose ` +
        `runs live in its database: add flows: [...] to PgflowModule.forRoot({ dataSource: '${registration}' }).`,
      [],
      [registration],
    );
  }

  /** `flow` is in the `flows` of both registrations. */
  static claimedTwice(flow: AssignedFlow, first: string, second: string): FlowAssignmentError {
    return new FlowAssignmentError(
      'claimed_twice',
      `Flow ${describe(flow)} is in the flows of two PgflowModule registrations, '${first}' and '${second}'; the ` +
        'runs of a flow live in one database. Remove it from the flows of one of them.',
      [flow.slug],
      [first, second],
    );
  }

  /** Discovered flows that no registration's `flows` lists. */
  static unclaimed(flows: readonly AssignedFlow[], registrations: readonly string[]): FlowAssignmentError {
    const many = flows.length > 1;
    return new FlowAssignmentError(
      'unclaimed',
      `Flow${many ? 's' : ''} ${flows.map(describe).join(', ')} ${many ? 'are' : 'is'} in the flows of no PgflowModule ` +
        `registration (registrations: ${quoted(registrations)}), so no database would hold ${many ? 'their' : 'its'} ` +
        'runs. Add each to the flows option of the registration whose database should hold its runs, or remove its ' +
        'class from the providers.',
      flows.map((flow) => flow.slug),
      registrations,
    );
  }

  /** `registration`'s `worker.flows` names `flow`, whose runs live in `owner`'s database. */
  static notInRegistration(flow: AssignedFlow, registration: string, owner: string | undefined): FlowAssignmentError {
    const where =
      owner === undefined
        ? 'which is in the flows of no registration'
        : `whose runs live in the database of the registration on '${owner}'`;
    const fix =
      owner === undefined
        ? `Add it to the flows of the registration on '${registration}' too, or remove it from worker.flows.`
        : `Serve it from worker.flows of PgflowModule.forRoot({ dataSource: '${owner}' }) instead.`;
    return new FlowAssignmentError(
      'not_in_registration',
      `worker.flows of the PgflowModule registration on '${registration}' names flow ${describe(flow)}, ${where}: a ` +
        `worker executes flows of its own registration's database. ${fix}`,
      [flow.slug],
      owner === undefined ? [registration] : [registration, owner],
    );
  }

  /** Two flows under `alias` are in the flows of two registrations: a start by the alias has no one database. */
  static aliasSplit(alias: string, first: AssignedFlow, firstOwner: string, second: AssignedFlow, secondOwner: string) {
    return new FlowAssignmentError(
      'alias_split',
      `Flows ${describe(first)} and ${describe(second)} share alias '${alias}' but are in the flows of two ` +
        `PgflowModule registrations, '${firstOwner}' and '${secondOwner}'; a start by the alias goes to the newest ` +
        'version in one database. Put every version under an alias in the flows of the same registration.',
      [first.slug, second.slug],
      [firstOwner, secondOwner],
    );
  }

  /** `parent`'s subflow step starts runs of `child`, whose runs live in another registration's database. */
  static subflowSplit(parent: AssignedFlow, parentOwner: string, child: AssignedFlow, childOwner: string) {
    return new FlowAssignmentError(
      'subflow_split',
      `Flow ${describe(parent)} starts child runs of flow ${describe(child)} (@Step({ subflow })), but they are in the ` +
        `flows of two PgflowModule registrations, '${parentOwner}' and '${childOwner}'; a child run lives in its ` +
        "parent's database. Put both flows in the flows of the same registration.",
      [parent.slug, child.slug],
      [parentOwner, childOwner],
    );
  }
}

function describe(flow: AssignedFlow): string {
  return flow.className === undefined ? `'${flow.slug}'` : `'${flow.slug}' (class ${flow.className})`;
}

function quoted(names: readonly string[]): string {
  return names.map((name) => `'${name}'`).join(', ');
}
