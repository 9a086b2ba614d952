import { BadRequestException, Body, Controller, Get, Param, Post } from '@nestjs/common';
import { FlowClient, FlowRegistry, type RunSnapshot } from 'nestjs-pgflow';
import { FLOW_INPUT_CHECKS } from '../flows/flow-input.checks.ts';
import { parseStartRunRequest } from './start-run.request.ts';

/**
 * Starts runs and shows them. The library's errors (an unknown flow, an input the flow cannot take, a
 * malformed or unknown run id) become HTTP errors in PgflowExceptionFilter.
 */
@Controller('runs')
export class RunsController {
  constructor(
    private readonly flows: FlowClient,
    private readonly registry: FlowRegistry,
  ) {}

  /** `POST /runs` with `{ "flow": "<slug>", "input": <json> }` → 201 `{ "runId": "..." }`. */
  @Post()
  async start(@Body() body: unknown): Promise<{ runId: string }> {
    const { flow, input } = parseStartRunRequest(body);
    const definition = this.registry.find(flow);
    const problem = definition && FLOW_INPUT_CHECKS.get(definition.flowClass)?.(input);
    if (problem) throw new BadRequestException(`Invalid input for flow '${flow}': ${problem}. No run was started.`);
    const run = await this.flows.start(flow, input);
    return { runId: run.runId };
  }

  /** `GET /runs/:id` → the run with its steps (status, output, error) and their tasks (attempts). */
  @Get(':id')
  getRun(@Param('id') id: string): Promise<RunSnapshot> {
    return this.flows.getRun(id);
  }
}
