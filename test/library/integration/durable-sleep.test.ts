/**
 * Durable sleep through Nest applications (@Step({ delayUntil })): a step sleeps until the date its
 * dependencies name and not a moment before, holding no worker slot; a worker restarted during the
 * sleep changes nothing; a map step's tasks each sleep until their own date; a delayUntil that
 * returns no valid Date fails the task without retries; a delayUntil that is no function stops boot.
 */
import { Injectable } from '@nestjs/common';
import { Flow, InvalidFlowDefinitionError, type MapStepContext, Step, type StepContext } from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

/** When each handler ran (epoch ms), by step and run. */
@Injectable()
class Clock {
  readonly ran: { step: string; runId: string; at: number; attempt: number; input: unknown }[] = [];
  record(step: string, ctx: StepContext, input: unknown): void {
    this.ran.push({ step, runId: ctx.runId, at: Date.now(), attempt: ctx.attempt, input });
  }
  of(step: string, runId: string) {
    return this.ran.filter((entry) => entry.step === step && entry.runId === runId);
  }
}

@Flow({ slug: 'ds_reminder' })
class ReminderFlow {
  constructor(private readonly clock: Clock) {}

  @Step()
  schedule(input: { remindAt: number }, ctx: StepContext) {
    this.clock.record('schedule', ctx, input);
    return { remindAt: input.remindAt };
  }

  @Step({
    dependsOn: ['schedule'],
    delayUntil: (deps: { schedule: { remindAt: number } }) => new Date(deps.schedule.remindAt),
  })
  remind(deps: { schedule: { remindAt: number } }, ctx: StepContext) {
    this.clock.record('remind', ctx, deps);
    return 'reminded';
  }
}

@Flow({ slug: 'ds_quick' })
class QuickFlow {
  constructor(private readonly clock: Clock) {}

  @Step()
  only(input: unknown, ctx: StepContext) {
    this.clock.record('quick', ctx, input);
    return 'done';
  }
}

@Flow({ slug: 'ds_each' })
class EachFlow {
  constructor(private readonly clock: Clock) {}

  @Step({ map: true, delayUntil: (at: number) => new Date(at) })
  each(at: number, ctx: MapStepContext) {
    this.clock.record('each', ctx, at);
    return at;
  }
}

@Flow({ slug: 'ds_broken', maxAttempts: 3, baseDelay: 0 })
class BrokenFlow {
  constructor(private readonly clock: Clock) {}

  @Step({ delayUntil: (input: { when: string }) => input.when as unknown as Date })
  late(input: { when: string }, ctx: StepContext) {
    this.clock.record('late', ctx, input);
    return 'ran';
  }
}

@Flow({ slug: 'ds_not_a_function' })
class NotAFunctionFlow {
  @Step({ delayUntil: 5 as unknown as () => Date })
  only() {
    return 1;
  }
}

const db = useTestDatabase();
const apps = useApps();
const clock = new Clock();
const providers = [{ provide: Clock, useValue: clock }, ReminderFlow, QuickFlow, EachFlow, BrokenFlow];

async function sleepUntilOf(runId: string, step: string): Promise<Date[]> {
  const rows = await db.query<{ sleep_until: Date | null }>(
    'select sleep_until from pgflow.step_tasks where run_id = $1 and step_slug = $2 order by task_index',
    [runId, step],
  );
  return rows.map((row) => row.sleep_until as Date);
}

it('a step sleeps until its date, not a moment before, and holds no worker slot meanwhile', async () => {
  const app = await apps.start({ url: db.url, providers, pgflow: { worker: { maxConcurrent: 1 } } });
  const remindAt = Date.now() + 3_000;
  const run = await app.client.start('ds_reminder', { remindAt });
  await waitFor(async () => (await sleepUntilOf(run.runId, 'remind'))[0] ?? undefined, {
    description: 'the remind task to go to sleep',
  });

  // The only slot is free while the step sleeps: another flow's runs go through.
  const quick = await Promise.all([1, 2, 3].map((n) => app.client.start('ds_quick', { n })));
  for (const handle of quick) await handle.wait({ timeoutMs: 20_000 });
  expect(clock.of('remind', run.runId)).toEqual([]);

  expect(await run.wait({ timeoutMs: 30_000 })).toMatchObject({ output: { remind: 'reminded' } });
  const [reminded] = clock.of('remind', run.runId);
  expect(reminded?.at).toBeGreaterThanOrEqual(remindAt);
  // Going to sleep did not count as an attempt.
  expect(reminded?.attempt).toBe(1);
  console.log(`durable sleep: ran ${(reminded?.at as number) - remindAt} ms after its date`);
});

it('a worker restarted during the sleep changes nothing: the step runs once, at its date', async () => {
  const first = await apps.start({ url: db.url, providers });
  const remindAt = Date.now() + 3_000;
  const { runId } = await first.client.start('ds_reminder', { remindAt });
  await waitFor(async () => (await sleepUntilOf(runId, 'remind'))[0] ?? undefined, {
    description: 'the remind task to go to sleep',
  });
  await first.close();

  const second = await apps.start({ url: db.url, providers });
  expect(await second.client.wait(runId, { timeoutMs: 30_000 })).toMatchObject({ status: 'completed' });
  const runs = clock.of('remind', runId);
  expect(runs).toHaveLength(1);
  expect(runs[0]?.at).toBeGreaterThanOrEqual(remindAt);
});

it("a map step's tasks each sleep until their own date; a date in the past runs at once", async () => {
  const app = await apps.start({ url: db.url, providers });
  const now = Date.now();
  const dates = [now - 60_000, now + 2_000, now + 4_000];
  const run = await app.client.start('ds_each', dates);
  expect(await run.wait({ timeoutMs: 30_000 })).toMatchObject({ output: { each: dates } });
  for (const at of dates) {
    const [ran] = clock.ran.filter((entry) => entry.runId === run.runId && entry.input === at);
    expect(ran?.at).toBeGreaterThanOrEqual(at);
  }
  const kept = await sleepUntilOf(run.runId, 'each');
  expect(kept.map((date) => date.getTime())).toEqual([
    expect.any(Number), // the past date: the task's queue time (a sleep never ends before the task existed)
    dates[1],
    dates[2],
  ]);
});

it("a run's first step sleeps until its date, not until the worker's longest wait ends", async () => {
  const app = await apps.start({ url: db.url, providers, pgflow: { worker: { maxPollSeconds: 300 } } });
  // The worker's first reads found the queues empty: it would read them next in 300 s.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  // Its start claims the task for the idle worker, which puts it to sleep and reads the queue again
  // to learn when it wakes.
  const at = Date.now() + 1_500;
  const run = await app.client.start('ds_each', [at]);
  expect(await run.wait({ timeoutMs: 25_000 })).toMatchObject({ output: { each: [at] } });
  const [ran] = clock.ran.filter((entry) => entry.runId === run.runId);
  expect(ran?.at).toBeGreaterThanOrEqual(at);
});

it('a delayUntil that returns no valid Date fails the task at once, without retries, naming the step', async () => {
  const app = await apps.start({ url: db.url, providers });
  const run = await app.client.start('ds_broken', { when: 'tomorrow' });
  await expect(run.wait({ timeoutMs: 20_000 })).rejects.toThrow(/delayUntil.*'late'.*not a valid Date/);
  expect(clock.of('late', run.runId)).toEqual([]);
  const [task] = await db.query<{ attempts_count: number; status: string }>(
    'select attempts_count, status from pgflow.step_tasks where run_id = $1',
    [run.runId],
  );
  expect(task).toEqual({ attempts_count: 1, status: 'failed' });
});

it('a delayUntil that is not a function stops boot with a clear error', async () => {
  const error = await apps
    .start({ url: db.url, providers: [NotAFunctionFlow] })
    .then(() => undefined)
    .catch((thrown: unknown) => thrown);
  expect(error).toBeInstanceOf(InvalidFlowDefinitionError);
  expect((error as Error).message).toMatch(/delayUntil.*must be a function.*got 5/);
});
