/**
 * A handler that ignores ctx.signal keeps running after its attempt timed out: the worker reports
 * the failure at the timeout and frees the slot, and says so once, in a warning naming the run, the
 * step and the task; when the handler finally settles, a log line says it finished after its
 * timeout (its result is ignored). A handler that stops when the signal fires gets no warning.
 */
import { Inject } from '@nestjs/common';
import { Flow, type FlowClient, RunFailedError, Step, type StepContext } from 'nestjs-pgflow';
import { type CapturingLogger, useApps } from '../library/fixtures/pgflow-app.ts';
import { Gate } from '../library/fixtures/recorders.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';

const GATE = 'IGNORED_SIGNAL_GATE';

@Flow({ slug: 'rel_ignores_signal', maxAttempts: 1, timeout: 1 })
class StubbornFlow {
  constructor(@Inject(GATE) private readonly gate: Gate) {}

  @Step()
  async stubborn(_input: { n: number }, _ctx: StepContext) {
    await this.gate.opened; // ctx.signal is not looked at
    return 'too late';
  }
}

@Flow({ slug: 'rel_honours_signal', maxAttempts: 1, timeout: 1 })
class PoliteFlow {
  @Step()
  polite(_input: { n: number }, ctx: StepContext): Promise<never> {
    return new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
  }
}

const db = useTestDatabase();
const apps = useApps();
const gates: Gate[] = [];

afterEach(() => {
  for (const gate of gates.splice(0)) gate.open();
});

async function startApp(): Promise<{ client: FlowClient; logger: CapturingLogger; gate: Gate }> {
  const gate = new Gate();
  gates.push(gate);
  const { client, logger } = await apps.start({
    url: db.url,
    providers: [StubbornFlow, PoliteFlow, { provide: GATE, useValue: gate }],
  });
  return { client, logger, gate };
}

function mentioning(entries: unknown[][], ...parts: string[]): string[] {
  return entries.map((args) => args.map(String).join(' ')).filter((text) => parts.every((p) => text.includes(p)));
}

it('a handler still running after its timeout: one warning naming the run, step and task; a log line when it settles', async () => {
  const { client, logger, gate } = await startApp();
  const run = await client.start(StubbornFlow, { n: 1 });

  await expect(run.wait({ timeoutMs: 15_000 })).rejects.toBeInstanceOf(RunFailedError);
  const warnings = await waitFor(
    () => {
      const found = mentioning(logger.warnings, run.runId, "'stubborn'", 'task 0', 'ctx.signal', 'still running');
      return found.length > 0 && found;
    },
    { description: 'the warning about the handler still running' },
  );
  expect(warnings).toHaveLength(1);

  gate.open();
  await waitFor(() => mentioning(logger.logs, run.runId, "'stubborn'", 'finished', 'after its timeout').length === 1, {
    description: 'the log line saying the handler finished after its timeout',
  });
  // Its result changed nothing: the attempt stays failed.
  const tasks = await db.query('select status, output from pgflow.step_tasks where run_id = $1', [run.runId]);
  expect(tasks).toEqual([{ status: 'failed', output: null }]);
  expect(mentioning(logger.warnings, run.runId, 'ctx.signal')).toHaveLength(1);
}, 30_000);

it('a handler that stops when its signal fires gets no such warning', async () => {
  const { client, logger } = await startApp();
  const run = await client.start(PoliteFlow, { n: 2 });

  await expect(run.wait({ timeoutMs: 15_000 })).rejects.toMatchObject({
    errorMessage: "Step 'polite' did not finish within its timeout of 1 s.",
  });
  expect(mentioning(logger.warnings, run.runId, 'ctx.signal')).toEqual([]);
}, 30_000);
