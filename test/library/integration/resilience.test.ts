/**
 * The worker and the client under less friendly conditions: new work arriving while the worker is
 * idle (woken by the database, not by its poll interval), every connection of the application
 * killed by the server, and handler errors logged with their stack.
 */
import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { Flow, Step, type StepContext, type StepInput } from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { type TestApp, useApps } from '../fixtures/pgflow-app.ts';
import { CallLog, Gate } from '../fixtures/recorders.ts';

const GATE = 'RESILIENCE_GATE';

@Flow({ slug: 'resilience_chain', maxAttempts: 1 })
class ChainFlow {
  @Step()
  one(input: { n: number }) {
    return input.n + 1;
  }

  @Step({ dependsOn: ['one'] })
  two(deps: StepInput<ChainFlow, 'one'>) {
    return deps.one + 1;
  }

  @Step({ dependsOn: ['two'] })
  three(deps: StepInput<ChainFlow, 'two'>) {
    return deps.two + 1;
  }
}

@Flow({ slug: 'resilience_gated', maxAttempts: 3, baseDelay: 0 })
class GatedFlow {
  constructor(
    private readonly log: CallLog,
    @Inject(GATE) private readonly gate: Gate,
  ) {}

  @Step()
  async hold(input: { n: number }, ctx: StepContext) {
    this.log.record(input, ctx);
    await this.gate.opened;
    return input.n * 100;
  }
}

class InventoryError extends Error {
  override readonly name = 'InventoryError';
}

@Flow({ slug: 'resilience_throwing', maxAttempts: 1 })
class ThrowingFlow {
  @Step()
  reserve(): string {
    throw new InventoryError('no stock left for sku-42');
  }
}

const db = useTestDatabase();
const apps = useApps();
const gates: Gate[] = [];

afterEach(() => {
  for (const gate of gates.splice(0)) gate.open();
});

function startApp(worker: Record<string, number> = {}): Promise<TestApp & { gate: Gate }> {
  const gate = new Gate();
  gates.push(gate);
  return apps
    .start({
      url: db.url,
      providers: [CallLog, ChainFlow, GatedFlow, ThrowingFlow, { provide: GATE, useValue: gate }],
      pgflow: { worker },
    })
    .then((app) => ({ ...app, gate }));
}

/** Terminates every server connection of the application (all but this test's own pool). */
async function killApplicationConnections(): Promise<number> {
  const rows = await db.query<{ killed: boolean }>(
    `select pg_terminate_backend(pid) as killed from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid() and application_name <> 'pgflow test'`,
  );
  return rows.filter((row) => row.killed).length;
}

describe('an idle worker', () => {
  it('starts new work at once, woken by the database rather than by its poll interval', async () => {
    // Polls 300 s apart, ten times the test's time limit: only a notification can start the run in time.
    const { client } = await startApp({ pollIntervalMs: 300_000, maxPollSeconds: 300 });
    // Let the worker go idle: one run through, then its queue is empty.
    await (await client.start(ChainFlow, { n: 0 })).wait({ timeoutMs: 25_000 });

    const run = await client.start(ChainFlow, { n: 10 });
    await expect(run.wait({ timeoutMs: 25_000 })).resolves.toMatchObject({ output: { three: 13 } });
  }, 60_000);
});

describe('losing the database connections', () => {
  it('a run in flight when every connection is killed still completes, and wait() still resolves', async () => {
    const { app, client, gate } = await startApp();
    const run = await client.start(GatedFlow, { n: 7 });
    const waiting = run.wait({ timeoutMs: 20_000 });
    await waitFor(() => app.get(CallLog).of('hold', run.runId).length === 1, { description: 'the handler running' });

    expect(await killApplicationConnections()).toBeGreaterThan(0);
    gate.open();

    await expect(waiting).resolves.toMatchObject({ status: 'completed', output: { hold: 700 } });
  }, 30_000);

  it('the worker and the client go on after their connections are killed: a new run completes', async () => {
    const { client, gate } = await startApp();
    gate.open();
    await (await client.start(ChainFlow, { n: 1 })).wait({ timeoutMs: 10_000 });

    expect(await killApplicationConnections()).toBeGreaterThan(0);

    const run = await waitFor(() => client.start(ChainFlow, { n: 2 }), {
      timeoutMs: 10_000,
      description: 'start() to succeed again',
    });
    await expect(run.wait({ timeoutMs: 20_000 })).resolves.toMatchObject({ output: { three: 5 } });
    const gated = await client.start(GatedFlow, { n: 3 });
    await expect(gated.wait({ timeoutMs: 20_000 })).resolves.toMatchObject({ output: { hold: 300 } });
  }, 30_000);
});

describe('waiting while the listening connection is busy', () => {
  it('two waits on one run, started together, both see it complete', async () => {
    const { app, client, gate } = await startApp();
    const run = await client.start(GatedFlow, { n: 4 });
    await waitFor(() => app.get(CallLog).of('hold', run.runId).length === 1, { description: 'the handler running' });

    // Many other waits queue their LISTENs on the one listening connection ahead of this run's.
    let settledNoise = 0;
    const noise = Array.from({ length: 1_000 }, () =>
      client
        .wait(randomUUID(), { timeoutMs: 20_000 })
        .catch(() => undefined)
        .finally(() => {
          settledNoise += 1;
        }),
    );
    const first = run.wait({ timeoutMs: 20_000 });
    const second = client.wait(run.runId, { timeoutMs: 20_000 });
    // Both waits have read the run as started by now; this run's LISTEN is still queued.
    await waitFor(() => settledNoise >= 20, { description: 'the first waits on unknown runs to end' });
    gate.open();

    const outcomes = await Promise.allSettled([first, second]);
    expect(
      outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.status : outcome.reason.name)),
    ).toEqual(['completed', 'completed']);
    await Promise.all(noise);
  }, 30_000);
});

describe('handler errors', () => {
  it('are logged with the step, the run, the message and the stack', async () => {
    const { client, logger } = await startApp();
    const run = await client.start(ThrowingFlow, {});
    await run.wait({ timeoutMs: 10_000 }).catch(() => undefined);

    const entry = await waitFor(() =>
      logger.errors.find((args) => args.some((arg) => String(arg).includes('no stock left for sku-42'))),
    );
    const text = entry.map(String).join('\n');
    expect(text).toContain('reserve');
    expect(text).toContain(run.runId);
    expect(text).toMatch(/InventoryError: no stock left for sku-42\n\s+at /);
  });
});
