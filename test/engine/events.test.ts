/**
 * Events over NOTIFY: one per state change, on channel "pgflow:run:<run_id>", sent inside the
 * transaction of the change (so never for a rolled-back change, and in commit order), with large
 * outputs left out; and the "pgflow:work" wake-up when messages are sent.
 */
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '../support/test-database.ts';
import { completeTask, defineFlow, failTask, onClient, pollOne, pollTasks, startRun } from './support/engine-driver.ts';
import { type EngineEvent, eventNames, listen, listenToRun, runChannel } from './support/engine-events.ts';

const db = useTestDatabase();

const LIFECYCLE = /^(run|step):(started|completed|failed|skipped)$/;

/** The run and step events (events of other kinds, if the engine adds any, are left out). */
function lifecycle(events: EngineEvent[]): EngineEvent[] {
  return events.filter((e) => LIFECYCLE.test(e.event_type));
}

beforeAll(async () => {
  await defineFlow(db, 'evented', [{ slug: 'first' }, { slug: 'second', deps: ['first'] }]);
  await defineFlow(db, 'evented_map', [{ slug: 'each', type: 'map' }]);
  await defineFlow(db, 'evented_failure', [{ slug: 'doomed', maxAttempts: 2, baseDelay: 0 }]);
  await defineFlow(db, 'evented_delayed', [{ slug: 'later', startDelay: 30 }]);
});

async function startListening(flowSlug: string, input: unknown = {}) {
  const runId = randomUUID();
  const listener = await listenToRun(db, runId);
  await startRun(db, flowSlug, input, runId);
  return { runId, listener };
}

describe('run and step events', () => {
  it('start_flow emits run:started, then step:started for each root step', async () => {
    const { runId, listener } = await startListening('evented', { hello: 'world' });
    await listener.settle();
    const events = lifecycle(listener.events());
    expect(eventNames(events)).toEqual(['run:started', 'step:started first']);
    expect(events[0]).toMatchObject({
      event_type: 'run:started',
      run_id: runId,
      flow_slug: 'evented',
      status: 'started',
    });
    expect(events[1]).toMatchObject({ run_id: runId, flow_slug: 'evented', step_slug: 'first', status: 'started' });
    for (const event of events) expect(Number.isNaN(Date.parse(event.at))).toBe(false);
    await listener.close();
  });

  it('complete_task emits step:completed with the output, the next step:started, and run:completed with the run output', async () => {
    const { runId, listener } = await startListening('evented');
    await pollOne(db, 'evented', 'first', { runId });
    await completeTask(db, runId, 'first', 0, { a: 1 });
    await pollOne(db, 'evented', 'second', { runId });
    await completeTask(db, runId, 'second', 0, 0);
    await listener.settle();
    const events = lifecycle(listener.events());
    expect(eventNames(events)).toEqual([
      'run:started',
      'step:started first',
      'step:completed first',
      'step:started second',
      'step:completed second',
      'run:completed',
    ]);
    expect(events[2]).toMatchObject({ status: 'completed', output: { a: 1 } });
    expect(events[4]).toMatchObject({ status: 'completed', output: 0 });
    expect(events[5]).toMatchObject({
      run_id: runId,
      flow_slug: 'evented',
      status: 'completed',
      output: { second: 0 },
    });
    await listener.close();
  });

  it('a map step completes with its aggregated output in the event', async () => {
    const { runId, listener } = await startListening('evented_map', ['x', 'y']);
    await pollTasks(db, 'evented_map', { runId });
    await completeTask(db, runId, 'each', 1, 'Y');
    await completeTask(db, runId, 'each', 0, 'X');
    await listener.settle();
    const completed = lifecycle(listener.events()).filter((e) => e.event_type === 'step:completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]?.output).toEqual(['X', 'Y']);
    await listener.close();
  });

  it('a retry emits no failure; the final failure emits step:failed and run:failed with the error', async () => {
    const { runId, listener } = await startListening('evented_failure');
    await pollOne(db, 'evented_failure', 'doomed', { runId });
    await failTask(db, runId, 'doomed', 0, 'first try');
    await listener.settle();
    expect(eventNames(lifecycle(listener.events()))).toEqual(['run:started', 'step:started doomed']);

    await pollOne(db, 'evented_failure', 'doomed', { runId });
    await failTask(db, runId, 'doomed', 0, 'second try');
    await listener.settle();
    const events = lifecycle(listener.events());
    expect(eventNames(events)).toEqual(['run:started', 'step:started doomed', 'step:failed doomed', 'run:failed']);
    expect(events[2]).toMatchObject({ status: 'failed', error_message: 'second try' });
    expect(events[3]).toMatchObject({ run_id: runId, flow_slug: 'evented_failure', status: 'failed' });
    expect(typeof events[3]?.error_message).toBe('string');
    await listener.close();
  });

  it('a skipped step emits step:skipped with its reason', async () => {
    await defineFlow(db, 'evented_skip', [
      { slug: 'gated', if: { go: true }, whenUnmet: 'skip-cascade' },
      { slug: 'child', deps: ['gated'] },
    ]);
    const { listener } = await startListening('evented_skip', { go: false });
    await listener.settle();
    const events = lifecycle(listener.events());
    const skipped = events.filter((e) => e.event_type === 'step:skipped');
    expect(skipped.map((e) => [e.step_slug, e.status, e.skip_reason])).toEqual([
      ['gated', 'skipped', 'condition_unmet'],
      ['child', 'skipped', 'dependency_skipped'],
    ]);
    expect(events.at(-1)).toMatchObject({ event_type: 'run:completed', output: {} });
    await listener.close();
  });

  it('leaves a large output out of the notification and says so', async () => {
    const { runId, listener } = await startListening('evented');
    await pollOne(db, 'evented', 'first', { runId });
    const big = { blob: 'x'.repeat(10_000) };
    await completeTask(db, runId, 'first', 0, big);
    await listener.settle();
    const [completed] = lifecycle(listener.events()).filter((e) => e.event_type === 'step:completed');
    expect(completed).toMatchObject({ step_slug: 'first', status: 'completed', output_omitted: true });
    expect(completed).not.toHaveProperty('output');
    const raw = listener.notifications.map((n) => Buffer.byteLength(n.payload));
    expect(Math.max(...raw)).toBeLessThanOrEqual(7500);
    await listener.close();
  });

  it('a failure with a huge error message still fails the run and notifies within the size limit', async () => {
    const { runId, listener } = await startListening('evented_failure');
    await pollOne(db, 'evented_failure', 'doomed', { runId });
    await failTask(db, runId, 'doomed', 0, 'first');
    await pollOne(db, 'evented_failure', 'doomed', { runId });
    const huge = `stack trace ${'#'.repeat(10_000)}`;
    await failTask(db, runId, 'doomed', 0, huge);
    await listener.settle();
    expect(eventNames(lifecycle(listener.events())).slice(-2)).toEqual(['step:failed doomed', 'run:failed']);
    expect(Math.max(...listener.notifications.map((n) => Buffer.byteLength(n.payload)))).toBeLessThanOrEqual(7500);
    const [state] = await db.query<{ error_message: string }>(
      `select error_message from pgflow.step_states where run_id = $1 and step_slug = 'doomed'`,
      [runId],
    );
    expect(state?.error_message).toBe(huge);
    await listener.close();
  });

  it('writes events whose texts parse back to the same values, whatever characters they hold', async () => {
    const { runId, listener } = await startListening('evented_failure');
    const odd = 'quote " backslash \\ slash / newline \n tab \t control \u0001 unicode é ✓ 🙂';
    await pollOne(db, 'evented_failure', 'doomed', { runId });
    await failTask(db, runId, 'doomed', 0, 'first');
    await pollOne(db, 'evented_failure', 'doomed', { runId });
    await failTask(db, runId, 'doomed', 0, odd);
    await listener.settle();
    const [failed] = lifecycle(listener.events()).filter((e) => e.event_type === 'step:failed');
    expect(failed).toMatchObject({ run_id: runId, step_slug: 'doomed', status: 'failed', error_message: odd });
    await listener.close();
  });

  it('keeps an output just under the limit in the notification', async () => {
    const { runId, listener } = await startListening('evented');
    await pollOne(db, 'evented', 'first', { runId });
    await completeTask(db, runId, 'first', 0, 'y'.repeat(6000));
    await listener.settle();
    const [completed] = lifecycle(listener.events()).filter((e) => e.event_type === 'step:completed');
    expect(completed?.output).toBe('y'.repeat(6000));
    expect(completed?.output_omitted).toBeUndefined();
    await listener.close();
  });
});

it('a notification carries the event’s keys only: never the run input, timestamps or counters', async () => {
  const { runId, listener } = await startListening('evented', { secret: 'input' });
  await pollOne(db, 'evented', 'first', { runId });
  await completeTask(db, runId, 'first', 0, { a: 1 });
  await pollOne(db, 'evented', 'second', { runId });
  await completeTask(db, runId, 'second', 0, 2);
  await listener.settle();
  const keysOf = (name: string) =>
    Object.keys(lifecycle(listener.events()).find((e) => eventNames([e])[0] === name) ?? {}).sort();
  expect(keysOf('run:started')).toEqual(['at', 'event_type', 'flow_slug', 'run_id', 'status']);
  expect(keysOf('step:started first')).toEqual(['at', 'event_type', 'flow_slug', 'run_id', 'status', 'step_slug']);
  expect(keysOf('step:completed first')).toEqual(
    ['at', 'event_type', 'flow_slug', 'output', 'run_id', 'status', 'step_slug'].sort(),
  );
  expect(keysOf('run:completed')).toEqual(['at', 'event_type', 'flow_slug', 'output', 'run_id', 'status']);
  for (const { payload } of listener.notifications) expect(payload).not.toContain('secret');
  await listener.close();
});

describe('transactions', () => {
  it('a rolled-back start_flow emits nothing', async () => {
    const runId = randomUUID();
    const listener = await listenToRun(db, runId);
    const client = await db.connect('rolled back start');
    await client.query('begin');
    await startRun(onClient(client), 'evented', {}, runId);
    await client.query('rollback');
    await client.end();
    await listener.settle();
    expect(listener.events()).toEqual([]);
    await listener.close();
  });

  it('a rolled-back completion emits nothing, and the committed one emits once', async () => {
    const { runId, listener } = await startListening('evented');
    await pollOne(db, 'evented', 'first', { runId });
    const client = await db.connect('rolled back completion');
    await client.query('begin');
    await completeTask(onClient(client), runId, 'first', 0, 'discarded');
    await client.query('rollback');
    await completeTask(onClient(client), runId, 'first', 0, 'kept');
    await client.end();
    await listener.settle();
    const completed = lifecycle(listener.events()).filter((e) => e.event_type === 'step:completed');
    expect(completed.map((e) => e.output)).toEqual(['kept']);
    await listener.close();
  });

  it('listeners see events in commit order, not in the order the changes were made', async () => {
    const early = randomUUID();
    const late = randomUUID();
    const listener = await listen(db, [runChannel(early), runChannel(late)]);
    const first = await db.connect('first to change, last to commit');
    const second = await db.connect('second to change, first to commit');
    await first.query('begin');
    await startRun(onClient(first), 'evented', {}, early);
    await second.query('begin');
    await startRun(onClient(second), 'evented', {}, late);
    await second.query('commit');
    await first.query('commit');
    await Promise.all([first.end(), second.end()]);
    await listener.settle();
    const runs = lifecycle(listener.events()).map((e) => e.run_id);
    expect(runs).toEqual([late, late, early, early]);
    await listener.close();
  });
});

describe('worker wake-up', () => {
  it('start_flow notifies "pgflow:work" with the queue name', async () => {
    const listener = await listen(db, ['pgflow:work']);
    await startRun(db, 'evented', {});
    const [note] = await listener.waitFor((n) => n.channel === 'pgflow:work', 1, 'work notifications');
    expect(note?.payload).toBe('evented');
    await listener.close();
  });

  it('start_flow of a flow whose first step is delayed notifies "pgflow:work" too', async () => {
    // The message is not visible yet: the workers it wakes read the queue and learn when it will be.
    const listener = await listen(db, ['pgflow:work']);
    await startRun(db, 'evented_delayed', {});
    const [note] = await listener.waitFor((n) => n.channel === 'pgflow:work', 1, 'work notifications');
    expect(note?.payload).toBe('evented_delayed');
    await listener.close();
  });

  it('a completion that starts the next step notifies "pgflow:work"', async () => {
    const run = await startRun(db, 'evented', {});
    await pollOne(db, 'evented', 'first', { runId: run.run_id });
    const listener = await listen(db, ['pgflow:work']);
    await completeTask(db, run.run_id, 'first', 0, 1);
    const [note] = await listener.waitFor((n) => n.channel === 'pgflow:work', 1, 'work notifications');
    expect(note?.payload).toBe('evented');
    await listener.close();
  });

  it('a completion that sends no message does not notify "pgflow:work"', async () => {
    const run = await startRun(db, 'evented_map', [1, 2]);
    await pollTasks(db, 'evented_map', { runId: run.run_id });
    const listener = await listen(db, ['pgflow:work']);
    await completeTask(db, run.run_id, 'each', 0, 1);
    await listener.settle();
    expect(listener.notifications).toEqual([]);
    await listener.close();
  });

  it('a rolled-back start_flow does not wake workers', async () => {
    const listener = await listen(db, ['pgflow:work']);
    const client = await db.connect('rolled back wake-up');
    await client.query('begin');
    await startRun(onClient(client), 'evented', {});
    await client.query('rollback');
    await client.end();
    await listener.settle();
    expect(listener.notifications).toEqual([]);
    await listener.close();
  });
});
