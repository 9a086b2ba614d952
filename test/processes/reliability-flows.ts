/**
 * The flows of the reliability tests, shared by the worker child process (worker-process.ts) and
 * the tests (which start runs of them through FlowClient). Every handler records its execution in
 * the test database's `reliability_executions` table (see test/reliability/support/audit.ts)
 * before it works, so that a test can tell "executed at least once" (executions) from "completed
 * exactly once" (the engine's rows).
 */
import { Inject, Injectable } from '@nestjs/common';
import { Flow, type MapStepContext, Step, type StepContext, type StepInput } from 'nestjs-pgflow';
import { DataSource } from 'typeorm';

/** The slug both fanout variants share (a changed flow keeps its slug: that is the mismatch). */
export const FANOUT_SLUG = 'rel_fanout';

/** Injection token of the handlers' behaviour. */
export const HANDLER_BEHAVIOUR = 'RELIABILITY_HANDLER_BEHAVIOUR';

export interface HandlerBehaviour {
  /** Label of the process, stored with each execution. */
  readonly worker: string;
  /** Each handler waits a random time in [min, max] ms before it returns. */
  readonly delayMs: readonly [number, number];
}

export interface FanoutInput {
  readonly items: number[];
}

/** What a run of the fanout flow must output for `items`. */
export function expectedFanoutOutput(items: readonly number[]): { total: number } {
  return { total: items.reduce((sum, item) => sum + item * item, 0) };
}

/** Records each handler execution in the test database, then waits the configured delay. */
@Injectable()
export class ExecutionLog {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(HANDLER_BEHAVIOUR) private readonly behaviour: HandlerBehaviour,
  ) {}

  async record(ctx: StepContext): Promise<void> {
    await this.dataSource.query(
      `insert into public.reliability_executions (run_id, step_slug, task_index, attempt, pid, worker)
       values ($1, $2, $3, $4, $5, $6)`,
      [ctx.runId, ctx.stepSlug, ctx.taskIndex, ctx.attempt, process.pid, this.behaviour.worker],
    );
    const [min, max] = this.behaviour.delayMs;
    const delay = min + Math.floor(Math.random() * (max - min + 1));
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/**
 * split → square (a map step, one task per item) → total. The timeout is small (2 s) so that a task
 * whose worker died is requeued quickly (the engine requeues tasks started more than timeout + 30 s
 * ago), and baseDelay 0 so that retries are immediate.
 */
@Flow({ slug: FANOUT_SLUG, maxAttempts: 3, baseDelay: 0, timeout: 2 })
export class FanoutFlow {
  constructor(protected readonly log: ExecutionLog) {}

  @Step()
  async split(input: FanoutInput, ctx: StepContext): Promise<number[]> {
    await this.log.record(ctx);
    return input.items;
  }

  @Step({ dependsOn: ['split'], map: true })
  async square(item: number, ctx: MapStepContext): Promise<number> {
    await this.log.record(ctx);
    return item * item;
  }

  @Step({ dependsOn: ['square'] })
  async total(deps: StepInput<FanoutFlow, 'square'>, ctx: StepContext): Promise<number> {
    await this.log.record(ctx);
    return deps.square.reduce((sum, value) => sum + value, 0);
  }
}

/** The fanout flow of a later deployment: one more step, same slug. */
@Flow({ slug: FANOUT_SLUG, maxAttempts: 3, baseDelay: 0, timeout: 2 })
export class ChangedFanoutFlow extends FanoutFlow {
  @Step({ dependsOn: ['split'] })
  async audit(deps: StepInput<FanoutFlow, 'split'>, ctx: StepContext): Promise<number> {
    await this.log.record(ctx);
    return deps.split.length;
  }
}

/** The fanout flow with a 10-minute step timeout: a dead worker's tasks come back through its heartbeat. */
@Flow({ slug: FANOUT_SLUG, maxAttempts: 3, baseDelay: 0, timeout: 600 })
export class PatientFanoutFlow extends FanoutFlow {}
