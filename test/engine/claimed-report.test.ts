/**
 * The claimed report (pgflow._complete_plain_task): a worker's lone result on a plain flow is written
 * by _report_and_claim in a few statements, the steps it makes ready started and claimed for the
 * worker, instead of through complete_tasks and _claim_tasks. The same runs reported both ways have
 * the same rows, messages, returned rows and events; every report the general path would handle
 * otherwise goes to it.
 */
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '../support/test-database.ts';
import {
  type ClaimedRow,
  eventsOf,
  readCounts,
  reportBothWays,
  runPicture,
  startBothWays,
} from './support/claimed-start.ts';
import { defineFlow, json, registerWorker, type StepSpec, startRun } from './support/engine-driver.ts';
import { listen, runChannel } from './support/engine-events.ts';

const db = useTestDatabase();

function outputOf(task: ClaimedRow): unknown {
  return { step: task.step_slug, index: task.task_index };
}

const SHAPES: ReadonlyArray<{ name: string; steps: StepSpec[]; reports: number }> = [
  { name: 'one step', steps: [{ slug: 'only' }], reports: 1 },
  {
    name: 'a chain with timeouts',
    steps: [
      { slug: 'a', timeout: 7 },
      { slug: 'b', deps: ['a'] },
      { slug: 'c', deps: ['b'], timeout: 90 },
    ],
    reports: 3,
  },
  {
    name: 'a diamond',
    steps: [{ slug: 'a' }, { slug: 'b', deps: ['a'] }, { slug: 'c', deps: ['a'] }, { slug: 'd', deps: ['b', 'c'] }],
    reports: 4,
  },
];

async function definedFlow(prefix: string, name: string, steps: StepSpec[]): Promise<[string, string]> {
  const flow = `${prefix}_${name.replace(/[^a-z]+/g, '_').replace(/_$/, '')}`.slice(0, 40);
  await defineFlow(db, flow, steps);
  return [flow, await registerWorker(db, flow)];
}

/** Starts a run of `flow` with its root task claimed for `worker`; returns the run's id. */
async function startClaimed(flow: string, worker: string): Promise<string> {
  const [task] = await db.query<{ run_id: string }>(
    `select run_id from pgflow._start_and_claim($1, '{}', null, null, null, null, null, null, 1, 30, $2::uuid)
      where kind = 'task'`,
    [flow, worker],
  );
  if (!task) throw new Error(`no task of ${flow} was claimed at its start`);
  return task.run_id;
}

/** Reports one completion alone (no poll, one task asked for), as an idle worker does; returns the rows. */
function reportAlone<Row extends Record<string, unknown>>(
  flow: string,
  worker: string,
  completion: Record<string, unknown>,
): Promise<Row[]> {
  return db.query<Row>(
    `select run_id, step_slug from pgflow._report_and_claim($1::jsonb, '[]', $2, 1, 30, $3::uuid, '{}', false)`,
    [json([completion]), flow, worker],
  );
}

describe('the claimed report', () => {
  it.each(SHAPES)('reports $name with the rows, messages and events of the general path', async (shape) => {
    const [flow, worker] = await definedFlow('cr', shape.name, shape.steps);
    const [general, claimed] = [randomUUID(), randomUUID()] as const;
    const listener = await listen(db, [`pgflow:flow:${flow}`, runChannel(general), runChannel(claimed)]);
    const started = await startBothWays(await db.connect(), flow, {}, worker, [general, claimed]);
    const reported = await reportBothWays(await db.connect(), flow, worker, started, outputOf);
    await listener.settle();

    expect(reported.completeTasksCalls).toBe(shape.reports);
    expect(reported.claimed).toEqual(reported.general);
    const generalPicture = await runPicture(db, flow, general);
    expect(generalPicture).toMatchObject({ run: { status: 'completed' } });
    expect(await runPicture(db, flow, claimed)).toEqual(generalPicture);
    const generalEvents = eventsOf(listener.notifications, general);
    expect(eventsOf(listener.notifications, claimed)).toEqual(generalEvents);
    // Every task of the claimed run was claimed without a read; every one of the other, by one.
    const reads = await readCounts(db, flow, general);
    expect(Object.values(reads)).toEqual(shape.steps.map(() => 1));
    expect(await readCounts(db, flow, claimed)).toEqual(Object.fromEntries(Object.keys(reads).map((k) => [k, 0])));
    await listener.close();
  });
});

/** Reports that the claimed report leaves to the general path, each set up after its flow's definition. */
const DECLINED: ReadonlyArray<{ name: string; steps: StepSpec[] }> = [
  { name: 'a map after the step', steps: [{ slug: 'a' }, { slug: 'each', deps: ['a'], type: 'map' }] },
  { name: 'a condition on the next step', steps: [{ slug: 'a' }, { slug: 'b', deps: ['a'], if: { go: true } }] },
  { name: 'a start delay on the next step', steps: [{ slug: 'a' }, { slug: 'b', deps: ['a'], startDelay: 1 }] },
];

describe('the general path', () => {
  it.each(DECLINED)('reports a flow with $name, the same as before', async (shape) => {
    const [flow, worker] = await definedFlow('crd', shape.name, shape.steps);
    const runIds = [randomUUID(), randomUUID()] as const;
    const started = await startBothWays(await db.connect(), flow, [1, 2], worker, runIds);
    const reported = await reportBothWays(await db.connect(), flow, worker, started, () => [1, 2]);
    // The first report of each run took the general path (the claimed run's root was claimed at start).
    expect(reported.completeTasksCalls).toBeGreaterThanOrEqual(2);
    expect(reported.claimed).toEqual(reported.general);
    expect(await runPicture(db, flow, runIds[1])).toEqual(await runPicture(db, flow, runIds[0]));
  });

  it('claims an older visible task first, as every claim does', async () => {
    const [flow, worker] = await definedFlow('crd', 'backlog', [{ slug: 'a' }, { slug: 'b', deps: ['a'] }]);
    const runId = await startClaimed(flow, worker);
    const older = await startRun(db, flow, {});
    const rows = await reportAlone(flow, worker, { run_id: runId, step_slug: 'a', task_index: 0, output: 1 });
    expect(rows).toEqual([{ run_id: older.run_id, step_slug: 'a' }]);
  });

  it('claims what the worker asks for when a result makes more steps ready, and leaves the rest visible', async () => {
    const steps = [{ slug: 'a' }, { slug: 'b', deps: ['a'] }, { slug: 'c', deps: ['a'] }];
    const [flow, worker] = await definedFlow('crd', 'more ready', steps);
    const runId = await startClaimed(flow, worker);
    const rows = await reportAlone(flow, worker, { run_id: runId, step_slug: 'a', task_index: 0, output: 1 });
    expect(rows).toEqual([{ run_id: runId, step_slug: 'b' }]);
    const waiting = await db.query<{ step_slug: string; read_ct: number }>(
      `select m.message ->> 'step_slug' as step_slug, m.read_ct from pgmq.${JSON.stringify(`q_${flow}`)} m
        where m.vt <= clock_timestamp()`,
    );
    expect(waiting).toEqual([{ step_slug: 'c', read_ct: 0 }]);
  });

  it('ignores a report of another attempt, and stores the output of the running one', async () => {
    const [flow, worker] = await definedFlow('crd', 'attempts', [{ slug: 'only' }]);
    const runId = await startClaimed(flow, worker);
    const report = (attempt: number) =>
      reportAlone(flow, worker, { run_id: runId, step_slug: 'only', task_index: 0, attempt, output: attempt });
    await report(2);
    const status = () =>
      db.query<{ status: string; output: unknown }>('select status, output from pgflow.runs where run_id = $1', [
        runId,
      ]);
    expect(await status()).toEqual([{ status: 'started', output: null }]);
    await report(1);
    expect(await status()).toEqual([{ status: 'completed', output: { only: 1 } }]);
  });
});
