/**
 * Supabase compatibility: when a schema `realtime` with realtime.send(payload, event, topic,
 * private) exists, the engine also sends its events there, so pgflow's own client keeps working.
 * This file's database gets a stub realtime.send that records its calls in a table.
 */
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '../support/test-database.ts';
import { completeTask, defineFlow, failTask, pollOne, startRun } from './support/engine-driver.ts';
import { listen } from './support/engine-events.ts';

const db = useTestDatabase();

interface Sent {
  payload: Record<string, unknown>;
  event: string;
  topic: string;
  private: boolean;
}

beforeAll(async () => {
  await db.query('create schema realtime');
  await db.query(`create table realtime.sent (
    id bigint generated always as identity primary key,
    payload jsonb, event text, topic text, private boolean)`);
  await db.query(`create function realtime.send(payload jsonb, event text, topic text, private boolean default true)
    returns void language sql as $$
      insert into realtime.sent (payload, event, topic, private) values (payload, event, topic, private)
    $$`);
  await defineFlow(db, 'broadcast', [{ slug: 'first' }, { slug: 'second', deps: ['first'] }]);
  await defineFlow(db, 'broadcast_failure', [{ slug: 'doomed', maxAttempts: 1 }]);
  await defineFlow(db, 'broadcast_skip', [{ slug: 'gated', if: { go: true } }]);
});

async function sentFor(runId: string): Promise<Sent[]> {
  return db.query<Sent>('select payload, event, topic, private from realtime.sent where topic = $1 order by id', [
    `pgflow:run:${runId}`,
  ]);
}

const lifecycle = (sent: Sent[]) =>
  sent.filter((s) => /^(run|step:[a-z_]+):(started|completed|failed|skipped)$/.test(s.event));

it('sends run:<status> and step:<slug>:<status> events on the topic pgflow:run:<run_id>', async () => {
  const runId = randomUUID();
  await startRun(db, 'broadcast', { x: 1 }, runId);
  await pollOne(db, 'broadcast', 'first', { runId });
  await completeTask(db, runId, 'first', 0, { a: 1 });
  await pollOne(db, 'broadcast', 'second', { runId });
  await completeTask(db, runId, 'second', 0, 'done');
  const sent = lifecycle(await sentFor(runId));
  expect(sent.map((s) => s.event)).toEqual([
    'run:started',
    'step:first:started',
    'step:first:completed',
    'step:second:started',
    'step:second:completed',
    'run:completed',
  ]);
  expect(sent.every((s) => s.topic === `pgflow:run:${runId}` && s.private === false)).toBe(true);
});

it('sends payloads with the generic event type and the columns of the run or step', async () => {
  const runId = randomUUID();
  await startRun(db, 'broadcast', {}, runId);
  await pollOne(db, 'broadcast', 'first', { runId });
  await completeTask(db, runId, 'first', 0, { a: 1 });
  const sent = lifecycle(await sentFor(runId));
  const stepCompleted = sent.find((s) => s.event === 'step:first:completed');
  expect(stepCompleted?.payload).toMatchObject({
    event_type: 'step:completed',
    run_id: runId,
    flow_slug: 'broadcast',
    step_slug: 'first',
    status: 'completed',
    output: { a: 1 },
  });
  expect(stepCompleted?.payload).toHaveProperty('completed_at');
  const runStarted = sent.find((s) => s.event === 'run:started');
  expect(runStarted?.payload).toMatchObject({ event_type: 'run:started', run_id: runId, status: 'started' });
  expect(runStarted?.payload).toHaveProperty('started_at');
});

it('sends the full output even when it is too large for a notification', async () => {
  const runId = randomUUID();
  await startRun(db, 'broadcast', {}, runId);
  await pollOne(db, 'broadcast', 'first', { runId });
  const big = 'z'.repeat(10_000);
  await completeTask(db, runId, 'first', 0, big);
  const stepCompleted = (await sentFor(runId)).find((s) => s.event === 'step:first:completed');
  expect(stepCompleted?.payload.output).toBe(big);
});

it('sends step:<slug>:failed and run:failed with the error', async () => {
  const runId = randomUUID();
  await startRun(db, 'broadcast_failure', {}, runId);
  await pollOne(db, 'broadcast_failure', 'doomed');
  await failTask(db, runId, 'doomed', 0, 'kaput');
  const sent = lifecycle(await sentFor(runId));
  expect(sent.map((s) => s.event)).toEqual(['run:started', 'step:doomed:started', 'step:doomed:failed', 'run:failed']);
  expect(sent[2]?.payload).toMatchObject({ event_type: 'step:failed', status: 'failed', error_message: 'kaput' });
  expect(sent[3]?.payload).toMatchObject({ event_type: 'run:failed', status: 'failed' });
});

it('sends step:<slug>:skipped with the skip reason', async () => {
  const runId = randomUUID();
  await startRun(db, 'broadcast_skip', { go: false }, runId);
  const sent = lifecycle(await sentFor(runId));
  const skipped = sent.find((s) => s.event === 'step:gated:skipped');
  expect(skipped?.payload).toMatchObject({
    event_type: 'step:skipped',
    step_slug: 'gated',
    status: 'skipped',
    skip_reason: 'condition_unmet',
  });
  expect(sent.map((s) => s.event)).toEqual(['run:started', 'step:gated:skipped', 'run:completed']);
});

/** The keys of each event payload that pgflow 0.14's own client reads (its engine sends these). */
const PGFLOW_PAYLOAD_KEYS: Record<string, readonly string[]> = {
  'run:started': ['event_type', 'run_id', 'flow_slug', 'input', 'status', 'remaining_steps', 'started_at'],
  'step:started': ['event_type', 'run_id', 'step_slug', 'status', 'started_at', 'remaining_tasks', 'remaining_deps'],
  'step:completed': ['event_type', 'run_id', 'step_slug', 'status', 'output', 'completed_at'],
  'step:failed': ['event_type', 'run_id', 'step_slug', 'status', 'error_message', 'failed_at'],
  'step:skipped': ['event_type', 'run_id', 'step_slug', 'status', 'skip_reason', 'skipped_at'],
  'run:completed': ['event_type', 'run_id', 'flow_slug', 'status', 'output', 'completed_at'],
  'run:failed': ['event_type', 'run_id', 'flow_slug', 'status', 'error_message', 'failed_at'],
};

it("carries every key of pgflow's payloads, for every kind of event", async () => {
  const completed = randomUUID();
  await startRun(db, 'broadcast', { user: 'ann' }, completed);
  for (const step of ['first', 'second']) {
    await pollOne(db, 'broadcast', step, { runId: completed });
    await completeTask(db, completed, step, 0, { step });
  }
  const failed = randomUUID();
  await startRun(db, 'broadcast_failure', {}, failed);
  await pollOne(db, 'broadcast_failure', 'doomed');
  await failTask(db, failed, 'doomed', 0, 'kaput');
  const skipped = randomUUID();
  await startRun(db, 'broadcast_skip', { go: false }, skipped);

  const sent = [
    ...lifecycle(await sentFor(completed)),
    ...lifecycle(await sentFor(failed)),
    ...lifecycle(await sentFor(skipped)),
  ];
  const seen = new Set<string>();
  for (const { payload } of sent) {
    const type = payload.event_type as string;
    seen.add(type);
    expect({ type, missing: (PGFLOW_PAYLOAD_KEYS[type] ?? []).filter((key) => !(key in payload)) }).toEqual({
      type,
      missing: [],
    });
  }
  expect([...seen].sort()).toEqual(Object.keys(PGFLOW_PAYLOAD_KEYS).sort());
  expect(sent.find((s) => s.event === 'run:started' && s.topic.endsWith(completed))?.payload.input).toEqual({
    user: 'ann',
  });
});

/**
 * The notifications of a run's lifecycle (its channel and its flow's), with the run's id and the
 * times replaced, for comparing two runs.
 */
async function notificationsOf(flow: string, lifecycleOf: (runId: string) => Promise<void>): Promise<unknown[]> {
  const runId = randomUUID();
  const listener = await listen(db, [`pgflow:run:${runId}`, `pgflow:flow:${flow}`]);
  try {
    await lifecycleOf(runId);
    await listener.settle();
    return listener.notifications
      .filter((n) => n.payload.includes(runId))
      .map((n) => ({
        channel: n.channel.replace(runId, 'RUN'),
        payload: { ...JSON.parse(n.payload.replaceAll(runId, 'RUN')), at: 'AT' },
      }));
  } finally {
    await listener.close();
  }
}

it('notifies the same events with Realtime as without (where they are built from the rows alone)', async () => {
  const big = 'z'.repeat(10_000);
  const lifecycles: Record<string, (runId: string) => Promise<void>> = {
    broadcast: async (runId) => {
      await startRun(db, 'broadcast', { x: 1 }, runId);
      await pollOne(db, 'broadcast', 'first', { runId });
      await completeTask(db, runId, 'first', 0, big);
      await pollOne(db, 'broadcast', 'second', { runId });
      await completeTask(db, runId, 'second', 0, { kept: null, nested: { also: null } });
    },
    broadcast_failure: async (runId) => {
      await startRun(db, 'broadcast_failure', {}, runId);
      await pollOne(db, 'broadcast_failure', 'doomed', { runId });
      await failTask(db, runId, 'doomed', 0, 'kaput');
    },
    broadcast_skip: (runId) => startRun(db, 'broadcast_skip', { go: false }, runId).then(() => undefined),
  };
  for (const [flow, lifecycleOf] of Object.entries(lifecycles)) {
    const withRealtime = await notificationsOf(flow, lifecycleOf);
    await db.query('alter schema realtime rename to realtime_away');
    try {
      expect(await notificationsOf(flow, lifecycleOf)).toEqual(withRealtime);
    } finally {
      await db.query('alter schema realtime_away rename to realtime');
    }
    expect(withRealtime.length).toBeGreaterThanOrEqual(3);
  }
});
