/**
 * The claimed start (pgflow._start_claimed_run): _start_and_claim writes a plain flow's run with its
 * root task already started for the worker, in a few statements, instead of through start_flows and
 * _claim_tasks. The same runs started both ways, and driven to their end together, have the same rows,
 * messages, returned rows and events; every start the general path would handle otherwise goes to it.
 */
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '../support/test-database.ts';
import {
  type ClaimedRow,
  driveToEnd,
  eventsOf,
  readCounts,
  runPicture,
  startBothWays,
  withoutIds,
} from './support/claimed-start.ts';
import { defineFlow, type FlowOptions, registerWorker, type StepSpec, startRun } from './support/engine-driver.ts';
import { listen, runChannel } from './support/engine-events.ts';

const db = useTestDatabase();

function outputOf(task: ClaimedRow): unknown {
  return task.step_slug === 'list' ? [1, 2, 3] : { step: task.step_slug, index: task.task_index };
}

const SHAPES: ReadonlyArray<{ name: string; steps: StepSpec[]; options?: FlowOptions; input: unknown }> = [
  { name: 'one step', steps: [{ slug: 'only' }], input: { n: 1 } },
  {
    name: 'a chain with timeouts',
    steps: [
      { slug: 'a', timeout: 7 },
      { slug: 'b', deps: ['a'] },
      { slug: 'c', deps: ['b'], timeout: 90 },
    ],
    options: { timeout: 20, maxAttempts: 5 },
    input: 'text',
  },
  {
    name: 'a diamond',
    steps: [{ slug: 'a' }, { slug: 'b', deps: ['a'] }, { slug: 'c', deps: ['a'] }, { slug: 'd', deps: ['b', 'c'] }],
    input: null,
  },
  {
    name: 'a map after its root, with a condition further on',
    steps: [
      { slug: 'list' },
      { slug: 'each', deps: ['list'], type: 'map' },
      { slug: 'sum', deps: ['each'], if: { flag: true } },
    ],
    input: { flag: false },
  },
];

describe('the claimed start', () => {
  it.each(SHAPES)('starts $name with the rows, messages and events of the general path', async (shape) => {
    const flow = `cs_${shape.name.replace(/[^a-z]+/g, '_').replace(/_$/, '')}`.slice(0, 40);
    await defineFlow(db, flow, shape.steps, shape.options);
    const worker = await registerWorker(db, flow);
    const [general, claimed] = [randomUUID(), randomUUID()] as const;
    const listener = await listen(db, [`pgflow:flow:${flow}`, runChannel(general), runChannel(claimed)]);
    // A new connection: a backend's function counts of earlier transactions show in the xact view.
    const client = await db.connect('claimed start');
    const started = await startBothWays(client, flow, shape.input, worker, [general, claimed]);
    expect(started.startFlowsCalls).toBe(1);

    expect(withoutIds(started.claimed)).toEqual(withoutIds(started.general));
    expect(started.claimed.map((row) => row.kind)).toEqual(['run', 'task']);
    expect(await runPicture(db, flow, claimed)).toEqual(await runPicture(db, flow, general));
    const [vts] = await db.query<{ apart: number }>(
      `select abs(extract(epoch from a.vt - b.vt)) as apart
         from pgflow.step_tasks ta join pgflow.step_tasks tb on tb.run_id = $2
         join pgmq.${JSON.stringify(`q_${flow}`)} a on a.msg_id = ta.message_id
         join pgmq.${JSON.stringify(`q_${flow}`)} b on b.msg_id = tb.message_id
        where ta.run_id = $1`,
      [general, claimed],
    );
    expect(Number(vts?.apart)).toBeLessThan(1);

    // The claimed root task's message was never read from the queue: the one difference.
    const root = `${shape.steps[0]?.slug}/0`;
    const generalReads = await readCounts(db, flow, general);
    expect(generalReads[root]).toBe(1);
    expect(await readCounts(db, flow, claimed)).toEqual({ ...generalReads, [root]: 0 });

    await driveToEnd(client, flow, worker, [...started.general, ...started.claimed], outputOf);
    await listener.settle();
    const generalPicture = await runPicture(db, flow, general);
    expect(generalPicture).toMatchObject({ run: { status: 'completed' } });
    expect(await runPicture(db, flow, claimed)).toEqual(generalPicture);
    const generalEvents = eventsOf(listener.notifications, general);
    expect(generalEvents.length).toBeGreaterThan(2);
    expect(eventsOf(listener.notifications, claimed)).toEqual(generalEvents);
    const finalReads = await readCounts(db, flow, general);
    expect(await readCounts(db, flow, claimed)).toEqual({ ...finalReads, [root]: 0 });
    await listener.close();
  });
});

/** Flows the claimed start declines, each set up by `prepare` after its definition. */
const DECLINED: ReadonlyArray<{ name: string; steps: StepSpec[]; input?: unknown; prepare?: string }> = [
  { name: 'a map as root', steps: [{ slug: 'each', type: 'map' }], input: [1, 2] },
  { name: 'two roots', steps: [{ slug: 'a' }, { slug: 'b' }] },
  { name: 'a root with a condition', steps: [{ slug: 'a', if: { go: true } }], input: { go: true } },
  { name: 'a root with a start delay', steps: [{ slug: 'a', startDelay: 1 }] },
  { name: 'a paused flow', steps: [{ slug: 'a' }], prepare: 'select pgflow.pause_flow($1)' },
  {
    name: 'a rate limit',
    steps: [{ slug: 'a' }],
    prepare: 'update pgflow.flows set opt_rate_limit = 5, opt_rate_period = 1 where flow_slug = $1',
  },
  {
    name: 'a flow concurrency limit',
    steps: [{ slug: 'a' }],
    prepare: 'update pgflow.flows set opt_concurrency = 3 where flow_slug = $1',
  },
  {
    name: 'a step concurrency limit',
    steps: [{ slug: 'a' }, { slug: 'b', deps: ['a'] }],
    prepare: `update pgflow.steps set opt_concurrency = 2 where flow_slug = $1 and step_slug = 'b'`,
  },
];

describe('the general path', () => {
  it.each(DECLINED)('starts a flow with $name, the same as before', async (shape) => {
    const flow = `cd_${shape.name.replace(/[^a-z]+/g, '_')}`.slice(0, 40);
    await defineFlow(db, flow, shape.steps);
    if (shape.prepare) await db.query(shape.prepare, [flow]);
    const worker = await registerWorker(db, flow);
    const client = await db.connect('claimed start declined');
    const runIds = [randomUUID(), randomUUID()] as const;
    const started = await startBothWays(client, flow, shape.input ?? {}, worker, runIds);
    expect(started.startFlowsCalls).toBe(2);
    expect(withoutIds(started.claimed)).toEqual(withoutIds(started.general));
    expect(await runPicture(db, flow, runIds[1])).toEqual(await runPicture(db, flow, runIds[0]));
  });

  it('claims an older visible task first, as every claim does', async () => {
    await defineFlow(db, 'cd_backlog', [{ slug: 'only' }]);
    const worker = await registerWorker(db, 'cd_backlog');
    const older = await startRun(db, 'cd_backlog', { n: 1 });
    const rows = await db.query<{ kind: string; run_id: string }>(
      `select kind, run_id from pgflow._start_and_claim('cd_backlog', '{"n": 2}', null, null, null, null, null, null,
                                                        1, 30, $1::uuid)`,
      [worker],
    );
    expect(rows.map((row) => row.kind)).toEqual(['run', 'task']);
    expect(rows[1]?.run_id).toBe(older.run_id);
  });

  it.each([
    ['a priority', `null, null, 5, null, null`],
    ['an idempotency key', `'key-1', null, null, null, null`],
    ['a rate limit key', `null, null, null, 'tenant-1', null`],
    ['a concurrency key', `null, null, null, null, 'tenant-1'`],
  ])('takes a run with %s', async (_what, options) => {
    const flow = `cd_option_${_what.replace(/[^a-z]+/g, '_')}`;
    await defineFlow(db, flow, [{ slug: 'only' }]);
    const worker = await registerWorker(db, flow);
    const client = await db.connect('claimed start with options');
    await client.query(`set track_functions = 'all'`);
    const { rows } = await client.query<{ kind: string }>(
      `select kind from pgflow._start_and_claim($1, '{}', null, ${options}, 1, 30, $2::uuid)`,
      [flow, worker],
    );
    expect(rows.map((row) => row.kind)).toEqual(['run', 'task']);
    const { rows: calls } = await client.query<{ calls: string }>(
      `select calls from pg_stat_xact_user_functions where schemaname = 'pgflow' and funcname = 'start_flows'`,
    );
    expect(calls.map((row) => Number(row.calls))).toEqual([1]);
  });

  it('raises what the general path raises: a taken run id, a trace context that is not one', async () => {
    await defineFlow(db, 'cd_errors', [{ slug: 'only' }]);
    const worker = await registerWorker(db, 'cd_errors');
    const taken = await startRun(db, 'cd_errors', {});
    const start = (runId: string | null, trace: string | null) =>
      db.query(
        `select kind from pgflow._start_and_claim('cd_errors', '{}', $1::uuid, null, $2, null, null, null, 1, 30,
                                                  $3::uuid)`,
        [runId, trace, worker],
      );
    await expect(start(taken.run_id, null)).rejects.toMatchObject({ code: 'PF008' });
    await expect(start(null, 'not-a-traceparent')).rejects.toMatchObject({ code: 'PF007' });
    const [count] = await db.query<{ runs: string }>(
      `select count(*) as runs from pgflow.runs where flow_slug = 'cd_errors'`,
    );
    expect(Number(count?.runs)).toBe(1);
  });
});
