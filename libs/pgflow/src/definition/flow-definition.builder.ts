import { type FlowClassMetadata, PgflowMetadataAccessor } from '../discovery/pgflow-metadata.accessor.ts';
import { InvalidFlowDefinitionError } from '../errors/invalid-flow-definition.error.ts';
import { ENGINE_DEFAULTS } from '../pgflow.constants.ts';
import type { ScheduleDefinition } from '../schedules/schedule-definition.ts';
import { readSchedules } from '../schedules/schedule-options.reader.ts';
import type { FlowClass } from '../types/flow-class.ts';
import { checkDependencies, checkDuplicateSlugs } from './dependencies.validator.ts';
import type { FlowDefinition, StepDefinition, StepHandler } from './flow-definition.ts';
import { type FlowOptionsDraft, readFlowOptions, readStep, type StepDraft } from './flow-options.reader.ts';
import { ProblemList } from './problem-list.ts';
import { topologicalOrder } from './step-graph.ts';

/**
 * Validates what the decorators recorded on a class and turns it into a {@link FlowDefinition}
 * whose handlers run on `instance`. Throws an {@link InvalidFlowDefinitionError} listing every
 * problem of the class.
 */
export function buildFlowDefinition(metadata: FlowClassMetadata, instance: object): FlowDefinition {
  const className = metadata.flowClass.name || '(anonymous class)';
  const problems = new ProblemList(className);
  const flow = readFlowOptions(metadata, problems);
  for (const misplaced of metadata.misplacedSteps) {
    problems.add(
      'STEP_NOT_A_METHOD',
      `@Step() is on ${misplaced.target}, '${misplaced.propertyKey}'. Put @Step() on an instance method (once), ` +
        'or remove it.',
    );
  }
  const drafts = metadata.steps.map((step) => readStep(step, problems));
  if (drafts.length === 0 && metadata.hasFlowDecorator) {
    problems.add('NO_STEPS', 'the flow has no steps. Decorate at least one instance method with @Step().');
  }
  checkDuplicateSlugs(drafts, problems);
  checkDuplicateSignals(drafts, problems);
  checkDependencies(drafts, problems);
  const hasRootMap = drafts.some((draft) => draft.stepType === 'map' && draft.dependsOn?.length === 0);
  const schedules = readSchedules(metadata, flow.slug, hasRootMap, problems);
  if (problems.size > 0) throw new InvalidFlowDefinitionError(className, flow.slug, problems.list());
  return assemble(metadata, className, flow as FlowOptionsDraft & { slug: string }, drafts, instance, schedules);
}

/** A signal name says which step a signal is for: one step per name. */
function checkDuplicateSignals(drafts: readonly StepDraft[], problems: ProblemList): void {
  const byName = new Map<string, string[]>();
  for (const draft of drafts) {
    if (draft.signal === null) continue;
    byName.set(draft.signal.name, [...(byName.get(draft.signal.name) ?? []), draft.methodName]);
  }
  for (const [name, methods] of byName) {
    if (methods.length < 2) continue;
    problems.add(
      'INVALID_OPTION',
      `steps ${methods.join(' and ')} both wait for signal '${name}'; a signal name says which step a signal is ` +
        'for. Give each signal step its own name.',
    );
  }
}

function assemble(
  metadata: FlowClassMetadata,
  className: string,
  flow: FlowOptionsDraft & { slug: string },
  drafts: readonly StepDraft[],
  instance: object,
  schedules: readonly ScheduleDefinition[],
): FlowDefinition {
  const nodes = drafts.map((draft) => ({ ...draft, slug: draft.slug as string, dependencies: draft.dependsOn ?? [] }));
  const steps = topologicalOrder(nodes).map((draft, index) => {
    const options = Object.freeze({ ...draft.options });
    const step: StepDefinition = {
      slug: draft.slug,
      methodName: draft.methodName,
      index,
      dependsOn: Object.freeze([...draft.dependencies]),
      stepType: draft.stepType,
      options,
      effectiveOptions: Object.freeze({
        maxAttempts: options.maxAttempts ?? flow.options.maxAttempts ?? ENGINE_DEFAULTS.maxAttempts,
        baseDelay: options.baseDelay ?? flow.options.baseDelay ?? ENGINE_DEFAULTS.baseDelay,
        timeout: options.timeout ?? flow.options.timeout ?? ENGINE_DEFAULTS.timeout,
        startDelay: options.startDelay ?? ENGINE_DEFAULTS.startDelay,
      }),
      requiredInputPattern: draft.requiredInputPattern,
      forbiddenInputPattern: draft.forbiddenInputPattern,
      whenUnmet: draft.whenUnmet,
      whenExhausted: draft.whenExhausted,
      delayUntil: draft.delayUntil,
      signal: draft.signal === null ? null : Object.freeze({ ...draft.signal }),
      subflow: draft.subflow === null ? null : Object.freeze({ ...draft.subflow }),
      concurrency: draft.concurrency,
      handler: methodHandler(instance, draft.methodName, className),
    };
    return Object.freeze(step);
  });
  return Object.freeze({
    slug: flow.slug,
    alias: flow.alias,
    flowClass: metadata.flowClass,
    className,
    instance,
    options: Object.freeze({ ...flow.options }),
    rateLimit: flow.rateLimit === null ? null : Object.freeze({ ...flow.rateLimit }),
    concurrency: flow.concurrency === null ? null : Object.freeze({ ...flow.concurrency }),
    steps: Object.freeze(steps),
    stepsBySlug: new Map(steps.map((step) => [step.slug, step])),
    rootMapSteps: Object.freeze(
      steps.filter((step) => step.stepType === 'map' && step.dependsOn.length === 0).map((step) => step.slug),
    ),
    schedules: Object.freeze([...schedules]),
  });
}

function methodHandler(instance: object, methodName: string, className: string): StepHandler {
  return (input, context) => {
    const method = (instance as Record<string, unknown>)[methodName];
    if (typeof method !== 'function') {
      throw new TypeError(`${className}.${methodName} is no longer a function on the flow instance.`);
    }
    return Reflect.apply(method, instance, [input, context]);
  };
}

/**
 * The definition of the flow a class instance implements, read from its decorators: what discovery
 * does for one provider, for tests and tools that have an instance at hand.
 */
export function flowDefinitionOf(instance: object, accessor = new PgflowMetadataAccessor()): FlowDefinition {
  const flowClass = instance.constructor as FlowClass;
  const metadata = accessor.read(flowClass) ?? {
    flowClass,
    flowOptions: undefined,
    hasFlowDecorator: false,
    steps: [],
    misplacedSteps: [],
    schedules: [],
  };
  return buildFlowDefinition(metadata, instance);
}
