import type { EntityManager } from 'typeorm';
import { InvalidOptionsError } from '../errors/invalid-options.error.ts';
import type { PgflowRegistration } from './pgflow-registration.ts';

/**
 * How a FlowClient finds the database of a flow or of a run: the application's client asks every
 * registration (PgflowRegistrations), a registration's own client always answers with its registration.
 */
export interface RunRouter {
  /** Every registration the client reaches, in registration order. */
  all(): readonly PgflowRegistration[];
  /** The registration whose database holds the runs of flow `slug`; throws FlowNotFoundError. */
  forFlow(slug: string): PgflowRegistration;
  /** The registration whose database holds run `runId`; rejects with RunNotFoundError. */
  forRun(runId: string): Promise<PgflowRegistration>;
}

/** The router of a registration's own client (`@InjectFlowClient(dataSource)`): everything goes there. */
export function singleRegistrationRouter(registration: PgflowRegistration): RunRouter {
  const all = Object.freeze([registration]);
  return {
    all: () => all,
    forFlow: () => registration,
    forRun: async () => registration,
  };
}

/**
 * A caller's transaction must be on the flow's database: the run is created in it. A manager of
 * another DataSource would put the run where no worker of its flow looks (or fail).
 */
export function assertManagerOf(
  router: RunRouter,
  target: PgflowRegistration,
  slug: string,
  manager: EntityManager | undefined,
  subject: string,
): void {
  if (manager === undefined || manager.dataSource === target.database.dataSource) return;
  const other = router.all().find((registration) => registration.database.dataSource === manager.dataSource);
  throw new InvalidOptionsError(
    'manager',
    manager,
    `an EntityManager of the DataSource '${target.name}', where the runs of flow '${slug}' live (its PgflowModule ` +
      `registration); this one is of ${other === undefined ? 'another DataSource' : `DataSource '${other.name}'`}. ` +
      'Start the run in a transaction of that DataSource, or without manager',
    { subject },
  );
}
