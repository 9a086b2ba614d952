import 'reflect-metadata';
import type { FlowMetadata } from '../decorators/flow.decorator.ts';
import { describeValue } from '../errors/invalid-options.error.ts';
import { FLOW_METADATA } from '../pgflow.constants.ts';
import type { FlowClass } from '../types/flow-class.ts';
import type { StepSubflow } from './flow-definition.ts';
import type { ProblemList } from './problem-list.ts';

/**
 * The `subflow` option of `@Step()`: a class with `@Flow({ slug })`, whose runs the step starts as its
 * children. Whether that class is a flow of the application, in the same registration, and not part
 * of a cycle of subflows is checked once every flow is known (FlowExplorer, assignFlows).
 */
export function readSubflow(value: unknown, methodName: string, problems: ProblemList): StepSubflow | null {
  if (value === undefined) return null;
  const fix = 'Pass the child flow class itself, e.g. @Step({ subflow: CheckLinksFlow }).';
  if (typeof value !== 'function') {
    problems.add('INVALID_OPTION', `@Step({ subflow }) is ${describeValue(value)}, not a class. ${fix}`, methodName);
    return null;
  }
  const metadata = Reflect.getMetadata(FLOW_METADATA, value) as FlowMetadata | undefined;
  const name = value.name || '(anonymous class)';
  if (metadata === undefined) {
    problems.add(
      'INVALID_OPTION',
      `@Step({ subflow: ${name} }): class ${name} has no @Flow() decorator, so it is not a flow a step can start. ` +
        `Decorate it with @Flow({ slug }) and register it as a provider next to this flow. ${fix}`,
      methodName,
    );
    return null;
  }
  const slug = (metadata.options as { slug?: unknown } | undefined)?.slug;
  if (typeof slug !== 'string') {
    problems.add(
      'INVALID_OPTION',
      `@Step({ subflow: ${name} }): class ${name} declares no string slug in @Flow(); fix that flow first.`,
      methodName,
    );
    return null;
  }
  return { flowClass: value as FlowClass, slug };
}
