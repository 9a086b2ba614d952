/**
 * Timeouts longer than Node's longest timer (2^31-1 ms, about 24.8 days; the options accept up to a
 * year): a plain setTimeout with such a delay fires after 1 ms, which timed every attempt out at
 * once. A step with a 30-day timeout must run like any other.
 */
import { Inject } from '@nestjs/common';
import { Flow, Step, type StepContext } from 'nestjs-pgflow';
import { useApps } from '../library/fixtures/pgflow-app.ts';
import { CallLog, Gate } from '../library/fixtures/recorders.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';

const GATE = 'LONG_TIMEOUT_GATE';
const THIRTY_DAYS = 30 * 24 * 60 * 60;

@Flow({ slug: 'rel_long_timeout', maxAttempts: 1, timeout: THIRTY_DAYS })
class LongTimeoutFlow {
  constructor(
    private readonly log: CallLog,
    @Inject(GATE) private readonly gate: Gate,
  ) {}

  @Step()
  async slow(input: { n: number }, ctx: StepContext) {
    this.log.record(input, ctx);
    await this.gate.opened;
    return { n: input.n, aborted: ctx.signal.aborted };
  }
}

const db = useTestDatabase();
const apps = useApps();

it('a step with a 30-day timeout completes normally: its attempt is not timed out early', async () => {
  const gate = new Gate();
  const { app, client } = await apps.start({
    url: db.url,
    providers: [CallLog, LongTimeoutFlow, { provide: GATE, useValue: gate }],
  });
  const run = await client.start(LongTimeoutFlow, { n: 30 });
  await waitFor(() => app.get(CallLog).of('slow', run.runId).length === 1, { description: 'the handler running' });
  // The handler is held while the test reads the task: an overflowed timer (1 ms) has fired by then.
  const [call] = app.get(CallLog).of('slow', run.runId);
  const started = await db.query('select status from pgflow.step_tasks where run_id = $1', [run.runId]);
  expect(started).toEqual([{ status: 'started' }]);
  expect(call?.signal.aborted).toBe(false);
  gate.open();

  await expect(run.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({
    status: 'completed',
    output: { slow: { n: 30, aborted: false } },
  });
  const tasks = await db.query('select status, attempts_count from pgflow.step_tasks where run_id = $1', [run.runId]);
  expect(tasks).toEqual([{ status: 'completed', attempts_count: 1 }]);
});

it('a wait() with a 30-day timeoutMs waits for the run instead of timing out after 1 ms', async () => {
  const gate = new Gate();
  const { app, client } = await apps.start({
    url: db.url,
    providers: [CallLog, LongTimeoutFlow, { provide: GATE, useValue: gate }],
  });
  const run = await client.start(LongTimeoutFlow, { n: 1 });
  const waited = run.wait({ timeoutMs: THIRTY_DAYS * 1000 });
  await waitFor(() => app.get(CallLog).of('slow', run.runId).length === 1, { description: 'the handler running' });
  gate.open();
  await expect(waited).resolves.toMatchObject({ status: 'completed', output: { slow: { n: 1, aborted: false } } });
});
