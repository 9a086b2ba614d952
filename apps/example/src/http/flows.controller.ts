import { Controller, Get } from '@nestjs/common';
import { type FlowDefinition, FlowRegistry } from 'nestjs-pgflow';

/** A flow as `GET /flows` lists it. */
export interface FlowDescription {
  readonly slug: string;
  /** The name the flow's versions share (`@Flow({ alias })`), or null: POST /runs takes either. */
  readonly alias: string | null;
  readonly steps: ReadonlyArray<{
    readonly slug: string;
    readonly dependsOn: readonly string[];
    readonly stepType: 'single' | 'map';
    /** The retry and timing options in force for the step (its own, else the flow's, else the engine's). */
    readonly options: { maxAttempts: number; baseDelay: number; timeout: number; startDelay: number };
  }>;
}

/** The flows this application runs, with their steps in execution order. */
@Controller('flows')
export class FlowsController {
  constructor(private readonly registry: FlowRegistry) {}

  @Get()
  list(): { flows: FlowDescription[] } {
    return { flows: this.registry.getAll().map(describeFlow) };
  }
}

function describeFlow(definition: FlowDefinition): FlowDescription {
  return {
    slug: definition.slug,
    alias: definition.alias,
    steps: definition.steps.map((step) => ({
      slug: step.slug,
      dependsOn: step.dependsOn,
      stepType: step.stepType,
      options: { ...step.effectiveOptions },
    })),
  };
}
