import type { WorkerPresenceCheck } from '../client/worker-presence.check.ts';
import type { FlowCompiler } from '../compilation/flow-compiler.service.ts';
import type { NotificationListener } from '../db/notification-listener.ts';
import type { PgflowDatabase } from '../db/pgflow-database.ts';
import { registrationName } from '../pgflow.constants.ts';
import type { ResolvedPgflowOptions } from '../pgflow-options.ts';
import type { FlowReference } from '../types/flow-class.ts';
import type { LocalClaimer } from '../worker/local-claim.ts';
import { LocalOutcomes } from './local-outcomes.ts';

/**
 * One PgflowModule registration: a database (the TypeORM DataSource it names) with its engine, and
 * what this process uses to reach it: the DataSource's pool, a LISTEN connection, the compiler of its
 * flows and the worker-presence check. FlowClient resolves a flow or a run to one of these and sends
 * its statements there; each registration has its own worker besides.
 */
export class PgflowRegistration {
  /** The DataSource's name ('default' for the unnamed one). */
  readonly name: string;
  /** The `flows` option: the flows whose runs live in this database (undefined: every flow). */
  readonly flows: readonly FlowReference[] | undefined;
  /**
   * The worker of this registration in this process while it runs (it sets itself here when it starts
   * and clears it when it stops): FlowClient.start() claims a run's first task for it (LocalClaim).
   */
  localWorker: LocalClaimer | undefined;
  /** The runs that wait() calls of this process wait for: this registration's worker settles them when its report ends one. */
  readonly outcomes = new LocalOutcomes(() => this.localWorker);

  constructor(
    readonly options: ResolvedPgflowOptions,
    readonly database: PgflowDatabase,
    readonly listener: NotificationListener,
    readonly compiler: FlowCompiler,
    readonly workers: WorkerPresenceCheck,
  ) {
    this.name = registrationName(options.dataSource);
    this.flows = options.flows;
  }
}
