import type { FlowDefinition } from '../definition/flow-definition.ts';
import type { FlowRegistry } from '../discovery/flow.registry.ts';
import { FlowAssignmentError } from '../errors/flow-assignment.error.ts';
import type { FlowReference } from '../types/flow-class.ts';

/** What the assignment needs to know of a registration. */
export interface AssignableRegistration {
  readonly name: string;
  /** The registration's `flows` option (undefined: every flow, when it is the only registration). */
  readonly flows: readonly FlowReference[] | undefined;
}

/** Which registration's database holds the runs of each discovered flow. */
export interface FlowAssignment<R extends AssignableRegistration> {
  /** By flow slug. */
  readonly owners: ReadonlyMap<string, R>;
  /** By alias (`@Flow({ alias })`): the registration of the flows under it. */
  readonly aliasOwners: ReadonlyMap<string, R>;
  /** Each registration's flows, in discovery order. */
  readonly flowsOf: ReadonlyMap<R, readonly FlowDefinition[]>;
}

/**
 * Assigns every discovered flow to one registration: the one whose `flows` lists it, or the only
 * registration when it has no `flows`. Throws a {@link FlowAssignmentError} when several
 * registrations exist and one of them has no `flows`, when a flow is listed twice, or when a
 * discovered flow is listed nowhere (its runs would have no database); a `flows` entry the
 * application has no flow for throws the registry's FlowNotFoundError.
 */
export function assignFlows<R extends AssignableRegistration>(
  registrations: readonly R[],
  registry: Pick<FlowRegistry, 'getAll' | 'get'>,
): FlowAssignment<R> {
  const all = registry.getAll();
  const owners = new Map<string, R>();
  for (const registration of registrations) {
    if (registration.flows === undefined) {
      if (registrations.length > 1) {
        throw FlowAssignmentError.flowsMissing(registration.name, namesOf(registrations));
      }
      for (const definition of all) owners.set(definition.slug, registration);
      continue;
    }
    for (const reference of registration.flows) {
      const definition = registry.get(reference);
      const owner = owners.get(definition.slug);
      if (owner !== undefined && owner !== registration) {
        throw FlowAssignmentError.claimedTwice(describe(definition), owner.name, registration.name);
      }
      owners.set(definition.slug, registration);
    }
  }
  const unclaimed = all.filter((definition) => !owners.has(definition.slug));
  if (unclaimed.length > 0) {
    throw FlowAssignmentError.unclaimed(unclaimed.map(describe), namesOf(registrations));
  }
  checkSubflows(all, owners);
  const flowsOf = new Map<R, readonly FlowDefinition[]>(
    registrations.map((registration) => [registration, all.filter((d) => owners.get(d.slug) === registration)]),
  );
  return { owners, aliasOwners: assignAliases(all, owners), flowsOf };
}

/** A subflow step's child run lives in its parent's database: both flows in one registration. */
function checkSubflows<R extends AssignableRegistration>(
  all: readonly FlowDefinition[],
  owners: ReadonlyMap<string, R>,
): void {
  for (const parent of all) {
    for (const step of parent.steps) {
      if (step.subflow === null) continue;
      const parentOwner = owners.get(parent.slug);
      const childOwner = owners.get(step.subflow.slug);
      const child = all.find((definition) => definition.slug === step.subflow?.slug);
      if (parentOwner === undefined || childOwner === undefined || child === undefined || parentOwner === childOwner) {
        continue;
      }
      throw FlowAssignmentError.subflowSplit(describe(parent), parentOwner.name, describe(child), childOwner.name);
    }
  }
}

/** Each alias to the registration of its flows; throws when they are in two. */
function assignAliases<R extends AssignableRegistration>(
  all: readonly FlowDefinition[],
  owners: ReadonlyMap<string, R>,
): Map<string, R> {
  const aliasOwners = new Map<string, R>();
  const firstUnder = new Map<string, FlowDefinition>();
  for (const definition of all) {
    const owner = owners.get(definition.slug);
    if (definition.alias === null || owner === undefined) continue;
    const first = firstUnder.get(definition.alias);
    const known = aliasOwners.get(definition.alias);
    if (first !== undefined && known !== undefined && known !== owner) {
      throw FlowAssignmentError.aliasSplit(
        definition.alias,
        describe(first),
        known.name,
        describe(definition),
        owner.name,
      );
    }
    firstUnder.set(definition.alias, definition);
    aliasOwners.set(definition.alias, owner);
  }
  return aliasOwners;
}

export function describe(definition: FlowDefinition): { slug: string; className: string } {
  return { slug: definition.slug, className: definition.className };
}

/** Sorted: Nest creates the registrations in no order the application chooses. */
function namesOf(registrations: readonly AssignableRegistration[]): string[] {
  return registrations.map((registration) => registration.name).sort();
}
