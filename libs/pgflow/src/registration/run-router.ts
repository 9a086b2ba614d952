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
