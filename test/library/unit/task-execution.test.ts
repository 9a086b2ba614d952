/**
 * A task's handler and its ctx.signal (TaskExecution): the signal is made when the handler first
 * reads it, and behaves the same whenever that is: it fires when the task times out or is abandoned
 * while the handler runs, and a handler that reads it only after that finds it already aborted, with
 * the same reason.
 */
import { Logger } from '@nestjs/common';
import { type StepContext, TaskTimeoutError } from 'nestjs-pgflow';
import type { StepDefinition } from '../../../libs/pgflow/src/definition/flow-definition.ts';
import { type ClaimedTask, TaskExecution } from '../../../libs/pgflow/src/worker/task-execution.ts';

const TASK: ClaimedTask = {
  run_id: '00000000-0000-7000-8000-000000000001',
  step_slug: 'only',
  task_index: 0,
  msg_id: '1',
  input: null,
  flow_input: { n: 1 },
  attempt: 1,
  timeout_seconds: 0.05,
};

/** A root single step with this handler; the rest of a definition is not read by TaskExecution. */
function stepWith(handler: (input: unknown, ctx: StepContext) => Promise<unknown>): StepDefinition {
  return {
    slug: 'only',
    stepType: 'single',
    dependsOn: [],
    signal: null,
    subflow: null,
    handler,
  } as unknown as StepDefinition;
}

const quietLogger = new Logger('task-execution test');
quietLogger.warn = () => undefined;
quietLogger.log = () => undefined;

function execute(handler: (input: unknown, ctx: StepContext) => Promise<unknown>, task = TASK): TaskExecution {
  return new TaskExecution('lazy_signal', task, stepWith(handler), task.flow_input, quietLogger);
}

describe('a task handler’s signal', () => {
  it('is not needed to complete: the handler gets its input and its result is the outcome', async () => {
    const execution = execute(async (input) => ({ got: input }));
    await expect(execution.outcome).resolves.toEqual({ kind: 'completed', output: { got: { n: 1 } } });
  });

  it('fires on timeout for a handler that holds it', async () => {
    let held: AbortSignal | undefined;
    const execution = execute(async (_input, ctx) => {
      held = ctx.signal;
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
      return 'late';
    });
    const outcome = await execution.outcome;
    expect(outcome.kind).toBe('failed');
    expect(held?.aborted).toBe(true);
    expect(held?.reason).toBeInstanceOf(TaskTimeoutError);
  });

  it('is already aborted, with the timeout as its reason, for a handler that reads it only after the timeout', async () => {
    let release!: () => void;
    const late = new Promise<void>((resolve) => {
      release = resolve;
    });
    let seen: { aborted: boolean; reason: unknown } | undefined;
    const execution = execute(async (_input, ctx) => {
      await late;
      seen = { aborted: ctx.signal.aborted, reason: ctx.signal.reason };
      return 'late';
    });
    expect((await execution.outcome).kind).toBe('failed');
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBeInstanceOf(TaskTimeoutError);
  });

  it('fires with the given reason when the worker abandons the task, and is the same signal at every read', async () => {
    const reads: AbortSignal[] = [];
    const execution = execute(
      async (_input, ctx) => {
        reads.push(ctx.signal, ctx.signal);
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        return 'stopped';
      },
      { ...TASK, timeout_seconds: 60 },
    );
    await new Promise((resolve) => setImmediate(resolve));
    const reason = new Error('worker stopping');
    execution.abandon(reason);
    expect(await execution.outcome).toEqual({ kind: 'abandoned' });
    expect(reads[0]).toBe(reads[1]);
    expect(reads[0]?.aborted).toBe(true);
    expect(reads[0]?.reason).toBe(reason);
  });
});
