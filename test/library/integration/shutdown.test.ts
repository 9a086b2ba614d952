/**
 * Closing an application while its worker runs tasks: in-flight tasks get shutdownTimeoutMs to
 * finish and report, what is left goes back to the queue at once, the worker is marked stopped,
 * nothing stays connected, and a second application finishes the work. No task is lost and none is
 * completed twice.
 */
import { Inject, type OnModuleDestroy, type Provider } from '@nestjs/common';
import { Flow, Step, type StepContext, type StepInput } from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { type TestApp, useApps } from '../fixtures/pgflow-app.ts';
import { Gate } from '../fixtures/recorders.ts';

const BEHAVIOUR = 'SHUTDOWN_BEHAVIOUR';

/** How the handlers of one application behave. */
interface Behaviour {
  readonly app: string;
  /** Handlers wait for this gate. */
  readonly gate?: Gate;
  /** Handlers take this long. */
  readonly delayMs?: number;
}

interface Execution {
  readonly app: string;
  readonly key: string;
  readonly signal: AbortSignal;
}

/** Handler calls of this file: started, and finished (returned). */
const started: Execution[] = [];
const finished: Execution[] = [];

@Flow({ slug: 'shutdown_slow', maxAttempts: 3, baseDelay: 0 })
class SlowFlow {
  constructor(@Inject(BEHAVIOUR) private readonly behaviour: Behaviour) {}

  @Step()
  work(input: { n: number }, ctx: StepContext) {
    return this.behave(ctx, input.n);
  }

  @Step({ dependsOn: ['work'] })
  finish(deps: StepInput<SlowFlow, 'work'>, ctx: StepContext) {
    return this.behave(ctx, deps.work.n);
  }

  private async behave(ctx: StepContext, n: number): Promise<{ n: number; by: string }> {
    const execution = { app: this.behaviour.app, key: `${ctx.runId}/${ctx.stepSlug}`, signal: ctx.signal };
    started.push(execution);
    if (this.behaviour.gate) await this.behaviour.gate.opened;
    if (this.behaviour.delayMs) await new Promise((resolve) => setTimeout(resolve, this.behaviour.delayMs));
    finished.push(execution);
    return { n, by: this.behaviour.app };
  }
}

const db = useTestDatabase();
const apps = useApps();
const gates: Gate[] = [];

afterEach(() => {
  // Lets handlers of closed applications return, so that nothing is pending when the file ends.
  for (const gate of gates.splice(0)) gate.open();
  started.length = 0;
  finished.length = 0;
});

function startApp(behaviour: Behaviour, worker: Record<string, number>, providers: Provider[] = []): Promise<TestApp> {
  if (behaviour.gate) gates.push(behaviour.gate);
  return apps.start({
    url: db.url,
    providers: [SlowFlow, { provide: BEHAVIOUR, useValue: behaviour }, ...providers],
    pgflow: { worker },
  });
}

const SHUTDOWN_OBSERVER = 'SHUTDOWN_OBSERVER';

/** Calls back when the application starts closing: Nest runs onModuleDestroy hooks first. */
class ShutdownObserver implements OnModuleDestroy {
  constructor(private readonly onClosing: () => void) {}

  onModuleDestroy(): void {
    this.onClosing();
  }
}

/** How many tasks of these runs are in each status. */
async function tasksByStatus(runs: ReadonlyArray<{ runId: string }>): Promise<Record<string, number>> {
  const rows = await db.query<{ status: string; n: number }>(
    'select status, count(*)::int as n from pgflow.step_tasks where run_id = any($1::uuid[]) group by status',
    [runs.map((run) => run.runId)],
  );
  return Object.fromEntries(rows.map((row) => [row.status, row.n]));
}

describe('shutdown while tasks run', () => {
  it('loses nothing: in-flight tasks finish and report, the rest are handed back and a second app ends them', async () => {
    // A visibility timeout far beyond the test's waits: a message the first app kept instead of
    // handing back would stall the second app past its deadline.
    const first = await startApp({ app: 'first', delayMs: 100 }, { maxConcurrent: 3, visibilityTimeout: 60 });
    const runs = await Promise.all(Array.from({ length: 12 }, (_, n) => first.client.start(SlowFlow, { n })));
    await waitFor(() => finished.length >= 4, { description: 'a few tasks finished by the first app' });

    await first.close();
    const firstStarted = started.filter((execution) => execution.app === 'first').length;
    expect(finished.filter((execution) => execution.app === 'first')).toHaveLength(firstStarted);
    expect((await tasksByStatus(runs)).started).toBeUndefined();

    const second = await startApp({ app: 'second' }, { maxConcurrent: 10 });
    const done = await Promise.all(runs.map((run) => second.client.wait(run.runId, { timeoutMs: 10_000 })));
    expect(done.map((run) => run.output)).toEqual(
      runs.map((_, n) => ({ finish: { n, by: expect.stringMatching(/^(first|second)$/) } })),
    );

    const rows = await db.query<{ key: string; output: { by: string } }>(
      "select run_id || '/' || step_slug as key, output from pgflow.step_tasks where run_id = any($1::uuid[])",
      [runs.map((run) => run.runId)],
    );
    expect(rows).toHaveLength(24);
    expect(finished).toHaveLength(24);
    expect(new Set(finished.map((execution) => execution.key)).size).toBe(24);
    const finishedBy = new Map(finished.map((execution) => [execution.key, execution.app]));
    for (const row of rows) expect(row.output.by).toBe(finishedBy.get(row.key));
    expect(finished.some((execution) => execution.app === 'second')).toBe(true);
  });

  it('hands back the tasks still running at the shutdown deadline: they are queued again, and a second app ends them', async () => {
    const gate = new Gate();
    const first = await startApp(
      { app: 'first', gate },
      { maxConcurrent: 2, shutdownTimeoutMs: 200, visibilityTimeout: 60 },
    );
    const runs = await Promise.all(Array.from({ length: 4 }, (_, n) => first.client.start(SlowFlow, { n })));
    await waitFor(() => started.length >= 2, { description: 'two handlers running in the first app' });

    // The handlers hold until the gate opens, after close() returned: close() did not wait for them.
    await first.close();
    expect(finished).toEqual([]);
    expect(started).toHaveLength(2);
    expect(await tasksByStatus(runs)).toEqual({ queued: 4 });
    expect(started.every((execution) => execution.signal.aborted)).toBe(true);

    const second = await startApp({ app: 'second' }, { maxConcurrent: 10 });
    await Promise.all(runs.map((run) => second.client.wait(run.runId, { timeoutMs: 10_000 })));

    // The first app's handlers return now, after their tasks were completed elsewhere: they change nothing.
    gate.open();
    await waitFor(() => finished.filter((execution) => execution.app === 'first').length === 2, {
      description: "the first app's handlers to return",
    });
    const outputs = await db.query<{ by: string }>(
      "select output ->> 'by' as by from pgflow.step_tasks where run_id = any($1::uuid[])",
      [runs.map((run) => run.runId)],
    );
    expect(outputs.map((row) => row.by)).toEqual(Array(8).fill('second'));
    expect(await tasksByStatus(runs)).toEqual({ completed: 8 });
  });

  it('waits for in-flight tasks up to shutdownTimeoutMs: a task finishing during shutdown is reported', async () => {
    const gate = new Gate();
    const first = await startApp({ app: 'first', gate }, { maxConcurrent: 1, shutdownTimeoutMs: 10_000 }, [
      { provide: SHUTDOWN_OBSERVER, useValue: new ShutdownObserver(() => gate.open()) },
    ]);
    const run = await first.client.start(SlowFlow, { n: 1 });
    await waitFor(() => started.length === 1, { description: 'the first handler running' });

    // The gate opens when the application starts closing (its onModuleDestroy hooks).
    await first.close();

    expect(finished[0]).toMatchObject({ app: 'first', key: `${run.runId}/work` });
    const [task] = await db.query<{ status: string; output: unknown }>(
      "select status, output from pgflow.step_tasks where run_id = $1 and step_slug = 'work'",
      [run.runId],
    );
    expect(task).toEqual({ status: 'completed', output: { n: 1, by: 'first' } });
  });

  it('marks the worker stopped and leaves no connection open', async () => {
    const since = (await db.query<{ now: Date }>('select now() as now'))[0]?.now;
    const first = await startApp({ app: 'first' }, {});
    await (await first.client.start(SlowFlow, { n: 3 })).wait({ timeoutMs: 10_000 });

    await first.close();
    const workers = await db.query<{ stopped_at: Date | null }>(
      'select stopped_at from pgflow.workers where started_at >= $1',
      [since],
    );
    expect(workers.length).toBeGreaterThan(0);
    for (const worker of workers) expect(worker.stopped_at).toBeInstanceOf(Date);
    await waitFor(
      async () => {
        const [row] = await db.query<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity
            where datname = current_database() and pid <> pg_backend_pid() and application_name <> 'pgflow test'`,
        );
        return row?.n === 0;
      },
      { description: 'every connection of the closed app to go away' },
    );
  });
});
