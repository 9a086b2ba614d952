import { BadRequestException, Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import { type CompletedRun, FlowClient, FlowRegistry, type RunSnapshot } from 'nestjs-pgflow';
import { FLOW_INPUT_CHECKS } from '../flows/flow-input.checks.ts';
import { parseStartRunRequest } from './start-run.request.ts';

/** How long `GET /runs/:id/result` waits by default, and at most. */
const RESULT_WAIT_MS = 30_000;
const MAX_RESULT_WAIT_MS = 120_000;

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

  /**
   * `POST /runs` with `{ "flow": "<slug or alias>", "input": <json> }` → 201 `{ "runId": "..." }`. An
   * alias starts the newest version under it (`GET /runs/:id` says which: `flowSlug`). An optional
   * `"priority"` (an integer, 0 by default): the flow's ready tasks of higher-priority runs go first.
   */
  @Post()
  async start(@Body() body: unknown): Promise<{ runId: string }> {
    const { flow, input, priority } = parseStartRunRequest(body);
    const definition = this.registry.find(flow) ?? this.registry.getAll().find((known) => known.alias === flow);
    const problem = definition && FLOW_INPUT_CHECKS.get(definition.flowClass)?.(input);
    if (problem) throw new BadRequestException(`Invalid input for flow '${flow}': ${problem}. No run was started.`);
    const run = await this.flows.start(flow, input, priority === undefined ? {} : { priority });
    return { runId: run.runId };
  }

  /**
   * `GET /runs/:id/result[?timeoutMs=]` → waits for the run to end (30 s by default): 200 with the
   * completed run; 409 when it failed, 504 when it is still running, 503 when the application shuts
   * down meanwhile (the run goes on; ask again).
   */
  @Get(':id/result')
  result(@Param('id') id: string, @Query('timeoutMs') timeoutMs?: string): Promise<CompletedRun> {
    return this.flows.wait(id, { timeoutMs: parseTimeout(timeoutMs) });
  }

  /** `GET /runs/:id` → the run with its steps (status, output, error) and their tasks (attempts). */
  @Get(':id')
  getRun(@Param('id') id: string): Promise<RunSnapshot> {
    return this.flows.getRun(id);
  }
}

function parseTimeout(value: string | undefined): number {
  if (value === undefined) return RESULT_WAIT_MS;
  const ms = Number(value);
  if (value.trim() === '' || !Number.isInteger(ms) || ms < 0 || ms > MAX_RESULT_WAIT_MS) {
    throw new BadRequestException(
      `timeoutMs must be a whole number of milliseconds from 0 to ${MAX_RESULT_WAIT_MS}, got ${JSON.stringify(value)}.`,
    );
  }
  return ms;
}
