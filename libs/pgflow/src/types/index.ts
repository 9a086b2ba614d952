export type { FlowClass, FlowReference } from './flow-class.ts';
export type {
  FlowInput,
  FlowOutput,
  IsMapHandler,
  MapItem,
  StepDependencies,
  StepInput,
  StepKey,
  StepOutput,
} from './flow-types.ts';
export type { MapStepContext, SignalStepContext, StepContext } from './step-context.ts';
export type {
  FlowOptions,
  FlowRetryOptions,
  StepOptions,
  StepType,
  WhenExhausted,
  WhenUnmet,
} from './step-options.ts';
