export { Flow, type FlowMetadata } from './flow.decorator.ts';
export { FlowSchedule, type FlowScheduleMetadata } from './flow-schedule.decorator.ts';
export { InjectFlowClient } from './inject-flow-client.decorator.ts';
export { type MisplacedStep, Step, type StepMetadata } from './step.decorator.ts';
export type {
  MapHandlerCheck,
  MapStepDecorator,
  SingleHandlerCheck,
  SingleStepDecorator,
  StepDecorator,
} from './step-handler-checks.ts';
