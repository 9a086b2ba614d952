import type { FlowDefinition } from '../definition/flow-definition.ts';
import { InvalidFlowDefinitionError } from '../errors/invalid-flow-definition.error.ts';

/**
 * The problems of the application's subflows (`@Step({ subflow })`), once every flow is known: a
 * child flow class that is no flow of the application (not registered as a provider), a map step
 * over a single subflow step (whose output, a run output, is an object), and cycles (A starts B,
 * which starts A: each run would start another forever). One error per problem.
 */
export function subflowErrors(flows: readonly FlowDefinition[]): InvalidFlowDefinitionError[] {
  const bySlug = new Map(flows.map((flow) => [flow.slug, flow]));
  const errors: InvalidFlowDefinitionError[] = [];
  for (const flow of flows) {
    for (const step of flow.steps) {
      const mapped = step.stepType === 'map' ? flow.stepsBySlug.get(step.dependsOn[0] ?? '') : undefined;
      if (mapped?.subflow != null && mapped.stepType === 'single') {
        errors.push(
          new InvalidFlowDefinitionError(flow.className, flow.slug, [
            {
              code: 'INVALID_OPTION',
              methodName: step.methodName,
              message:
                `${step.methodName}: map step over '${mapped.slug}', a subflow step, whose output is its child run's ` +
                `output: an object (one key per leaf step of '${mapped.subflow.slug}'), never an array. Map over a ` +
                `step that depends on '${mapped.slug}' and returns the array.`,
            },
          ]),
        );
      }
      if (step.subflow === null || bySlug.has(step.subflow.slug)) continue;
      const child = step.subflow.flowClass.name;
      errors.push(
        new InvalidFlowDefinitionError(flow.className, flow.slug, [
          {
            code: 'INVALID_OPTION',
            methodName: step.methodName,
            message:
              `${step.methodName}: @Step({ subflow: ${child} }) names flow '${step.subflow.slug}', which is not a flow of ` +
              `this application: no provider of ${child} was discovered. List ${child} in the providers of a module ` +
              'next to this flow.',
          },
        ]),
      );
    }
  }
  const cycle = findCycle(flows, bySlug);
  if (cycle !== undefined) {
    const first = bySlug.get(cycle[0] as string) as FlowDefinition;
    errors.push(
      new InvalidFlowDefinitionError(first.className, first.slug, [
        {
          code: 'CYCLE',
          message:
            `subflows form a cycle: ${cycle.map((slug) => `'${slug}'`).join(' → ')}. Each run would start a child ` +
            'run of a flow that starts another one, without end. Remove one @Step({ subflow }) of the cycle.',
        },
      ]),
    );
  }
  return errors;
}

/** A cycle of child flows (its slugs, the first repeated at the end), or undefined. */
function findCycle(
  flows: readonly FlowDefinition[],
  bySlug: ReadonlyMap<string, FlowDefinition>,
): string[] | undefined {
  const childrenOf = (slug: string): string[] => [
    ...new Set(
      (bySlug.get(slug)?.steps ?? [])
        .map((step) => step.subflow?.slug)
        .filter((child): child is string => child !== undefined && bySlug.has(child)),
    ),
  ];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (slug: string): string[] | undefined => {
    const at = path.indexOf(slug);
    if (at >= 0) return [...path.slice(at), slug];
    if (done.has(slug)) return undefined;
    path.push(slug);
    for (const child of childrenOf(slug)) {
      const cycle = visit(child);
      if (cycle !== undefined) return cycle;
    }
    path.pop();
    done.add(slug);
    return undefined;
  };
  for (const flow of flows) {
    const cycle = visit(flow.slug);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}
