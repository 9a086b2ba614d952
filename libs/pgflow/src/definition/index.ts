export { buildFlowDefinition, flowDefinitionOf } from './flow-definition.builder.ts';
export type {
  EffectiveStepOptions,
  FlowDefinition,
  StepDefinition,
  StepHandler,
  StepOptionValues,
} from './flow-definition.ts';
export {
  type FlowShape,
  type FlowShapeOptions,
  type StepShape,
  type StepShapeOptions,
  toFlowShape,
} from './flow-shape.ts';
export { NUMERIC_OPTION_RULES, type NumericOptionName, numericOptionProblem } from './option-rules.ts';
export { isValidFlowSlug, isValidSlug, slugProblem, toSlug } from './slug.ts';
export { findCycles, type StepNode, topologicalOrder } from './step-graph.ts';
