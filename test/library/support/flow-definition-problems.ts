/**
 * How the flow-definition tests read an invalid flow class: the InvalidFlowDefinitionError that
 * building its definition throws, and its one problem.
 */
import { flowDefinitionOf } from '../../../libs/pgflow/src/definition/flow-definition.builder.ts';
import type { FlowDefinitionProblemCode } from '../../../libs/pgflow/src/errors/invalid-flow-definition.error.ts';
import { InvalidFlowDefinitionError } from '../../../libs/pgflow/src/errors/invalid-flow-definition.error.ts';

/** The error building the flow of `flowClass` throws. */
export function definitionError(flowClass: new () => object): InvalidFlowDefinitionError {
  try {
    flowDefinitionOf(new flowClass());
  } catch (error) {
    if (error instanceof InvalidFlowDefinitionError) return error;
    throw error;
  }
  throw new Error(`expected ${flowClass.name} to be invalid`);
}

/** The one problem of an invalid flow class, checked to have the code and to name class and method. */
export function onlyProblem(flowClass: new () => object, code: FlowDefinitionProblemCode, methodName?: string): string {
  const error = definitionError(flowClass);
  expect(error.problems.map((problem) => problem.code)).toEqual([code]);
  const [problem] = error.problems;
  expect(problem?.methodName).toBe(methodName);
  expect(problem?.message).toContain(methodName === undefined ? flowClass.name : `${flowClass.name}.${methodName}()`);
  expect(error.message).toContain(problem?.message);
  return problem?.message ?? '';
}
