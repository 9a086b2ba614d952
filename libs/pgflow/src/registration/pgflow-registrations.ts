import { Injectable, type OnModuleInit } from '@nestjs/common';
import { sql } from '../db/engine.sql.ts';
import type { FlowDefinition } from '../definition/flow-definition.ts';
import { FlowRegistry } from '../discovery/flow.registry.ts';
import { DuplicateRegistrationError } from '../errors/duplicate-registration.error.ts';
import { FlowAssignmentError } from '../errors/flow-assignment.error.ts';
import { FlowNotFoundError } from '../errors/flow-not-found.error.ts';
import { RunNotFoundError } from '../errors/run-not-found.error.ts';
import { registrationName } from '../pgflow.constants.ts';
import type { FlowReference } from '../types/flow-class.ts';
import { assignFlows, describe, type FlowAssignment } from './flow-assignment.ts';
import type { PgflowRegistration } from './pgflow-registration.ts';
import type { RunRouter } from './run-router.ts';

/**
 * Run locations remembered, at most: a run never changes database, so a hit saves one statement per
 * database; past this many the oldest is forgotten (a later call for it asks the databases again).
 */
const REMEMBERED_RUNS = 10_000;

/**
 * Every PgflowModule registration of the application (one per TypeORM DataSource, each a database
 * with its own engine), and which registration's database holds each flow's runs. It routes the
 * application's FlowClient: a flow to its registration, a run to the database that holds it. With a
 * single registration everything goes to it, including slugs the application has no class for.
 */
@Injectable()
export class PgflowRegistrations implements OnModuleInit, RunRouter {
  private readonly registrations: PgflowRegistration[] = [];
  private assignment: FlowAssignment<PgflowRegistration> | undefined;
  private readonly runLocations = new Map<string, PgflowRegistration>();

  constructor(private readonly registry: FlowRegistry) {}

  /**
   * Adds a registration as Nest creates it, and returns it. Two on one DataSource are refused when the
   * flows are assigned (onModuleInit), once the application exists and can be closed.
   */
  add(registration: PgflowRegistration): PgflowRegistration {
    if (this.assignment !== undefined) {
      throw new Error(`PgflowModule registration '${registration.name}' was created after the flows were assigned.`);
    }
    this.registrations.push(registration);
    return registration;
  }

  /**
   * Assigns the flows at boot, so that two registrations on one DataSource, or a flow in no
   * registration (or in two), stop it before anything touches a database.
   */
  onModuleInit(): void {
    this.assign();
  }

  all(): readonly PgflowRegistration[] {
    return this.registrations;
  }

  /** The registration on `dataSource` (undefined: the default DataSource). */
  of(dataSource: string | undefined): PgflowRegistration {
    return this.named(dataSource);
  }

  /** The flows whose runs live in the database of the registration on `dataSource`, in discovery order. */
  flowsOf(dataSource: string | undefined): readonly FlowDefinition[] {
    const registration = this.named(dataSource);
    return this.assign().flowsOf.get(registration) ?? [];
  }

  /**
   * The flows the worker of the registration on `dataSource` executes: those its `worker.flows`
   * names, each of which must be one of the registration's flows, or else all of them.
   */
  workerFlowsOf(dataSource: string | undefined, references: readonly FlowReference[] | undefined): FlowDefinition[] {
    return this.workerFlowsIn(this.assign(), registrationName(dataSource), references);
  }

  /** `slug` may be an alias: the registration of the flows under it (an exact slug wins). */
  forFlow(slug: string): PgflowRegistration {
    const { owners, aliasOwners } = this.assign();
    const owner = owners.get(slug) ?? aliasOwners.get(slug);
    if (owner !== undefined) return owner;
    const [only, ...others] = this.registrations;
    if (only !== undefined && others.length === 0) return only; // the engine checks the slug
    throw new FlowNotFoundError(
      slug,
      'slug',
      this.registry.getSlugs(),
      `PgflowModule is registered for several databases (${quoted(this.names())}), and FlowClient starts a flow in the ` +
        "database of the registration whose flows option lists it; none lists a flow with this slug or alias. Add the flow's @Flow() " +
        'class to the providers and to the flows of one registration, or start it through the client of the ' +
        "registration whose database has it: @InjectFlowClient('<dataSource>').",
    );
  }

  async forRun(runId: string): Promise<PgflowRegistration> {
    const [only, ...others] = this.registrations;
    if (only !== undefined && others.length === 0) return only;
    const known = this.runLocations.get(runId);
    if (known !== undefined) return known;

    const answers = await Promise.allSettled(
      this.registrations.map((registration) =>
        registration.database.query<{ flow_slug: string }>(sql.runFlow, [runId]),
      ),
    );
    const holders = this.registrations.flatMap((registration, i) => {
      const answer = answers[i];
      const row = answer?.status === 'fulfilled' ? answer.value[0] : undefined;
      return row === undefined ? [] : [{ registration, flowSlug: row.flow_slug }];
    });
    // Two databases hold one run id only when a caller gave both runs that id (runId option): the
    // database of the run's flow is the one this application starts that flow in.
    const { owners } = this.assign();
    const holder = holders.find(({ registration, flowSlug }) => owners.get(flowSlug) === registration) ?? holders[0];
    if (holder !== undefined) {
      this.remember(runId, holder.registration);
      return holder.registration;
    }
    const failed = answers.find((answer) => answer.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    throw new RunNotFoundError(runId, this.names());
  }

  private assign(): FlowAssignment<PgflowRegistration> {
    if (this.assignment === undefined) {
      this.registrations.forEach((registration, i) => {
        const same = this.registrations
          .slice(0, i)
          .some(
            (known) =>
              known.name === registration.name || known.database.dataSource === registration.database.dataSource,
          );
        if (same) throw new DuplicateRegistrationError(registration.name);
      });
      const assignment = assignFlows(this.registrations, this.registry);
      // Each worker's flows too, before any registration compiles its flows.
      for (const { name, options } of this.registrations) {
        if (options.worker.enabled) this.workerFlowsIn(assignment, name, options.worker.flows);
      }
      this.assignment = assignment;
    }
    return this.assignment;
  }

  private workerFlowsIn(
    assignment: FlowAssignment<PgflowRegistration>,
    name: string,
    references: readonly FlowReference[] | undefined,
  ): FlowDefinition[] {
    const registration = this.named(name);
    if (references === undefined) return [...(assignment.flowsOf.get(registration) ?? [])];
    return references.map((reference) => {
      const definition = this.registry.get(reference);
      const owner = assignment.owners.get(definition.slug);
      if (owner !== registration) throw FlowAssignmentError.notInRegistration(describe(definition), name, owner?.name);
      return definition;
    });
  }

  private named(dataSource: string | undefined): PgflowRegistration {
    const name = registrationName(dataSource);
    const registration = this.registrations.find((known) => known.name === name);
    if (registration === undefined) throw new Error(`No PgflowModule registration on '${name}' was created.`);
    return registration;
  }

  /** The registrations' names, sorted (Nest creates them in no order the application chooses). */
  private names(): string[] {
    return this.registrations.map((registration) => registration.name).sort();
  }

  private remember(runId: string, registration: PgflowRegistration): void {
    if (this.runLocations.size >= REMEMBERED_RUNS) {
      const oldest = this.runLocations.keys().next().value;
      if (oldest !== undefined) this.runLocations.delete(oldest);
    }
    this.runLocations.set(runId, registration);
  }
}

function quoted(names: readonly string[]): string {
  return names.map((name) => `'${name}'`).join(', ');
}
