/**
 * What workers repeat while tasks run does not grow with the tasks in flight. A running task's
 * message stays in the queue, invisible, and those messages are the oldest. Until migration
 * ClaimsPastTasksInFlight a claim read the queue in msg_id order and passed over every one of them
 * (pgmq.read's order), a poll that found nothing read every message to say when the next one becomes
 * visible, and a claimed start, when nothing was visible, read them all looking for one; until
 * SweepsPastTasksInFlight the stalled-task sweep of every heartbeat read every started task
 * (`npm run bench -- in-flight` times them with 100 to 10,000 tasks in flight). The work is counted,
 * not timed (support/explained-rows.ts), with 200 and with 800 tasks in flight.
 */
import { useTestDatabase } from '../support/test-database.ts';
import { completeTasks, defineFlow, registerWorker } from './support/engine-driver.ts';
import { explainingSession } from './support/explained-rows.ts';

const db = useTestDatabase();

interface ClaimRow {
  readonly run_id: string | null;
  readonly step_slug: string | null;
  readonly task_index: number | null;
  readonly next_visible_at: Date | null;
}

/** The statement and values of a claim of up to `quantity` tasks of `flow` for `worker` (nothing reported). */
const claim = (flow: string, quantity: number, worker: string): [string, unknown[]] => [
  `select run_id, step_slug, task_index, next_visible_at
     from pgflow._report_and_claim('[]'::jsonb, '[]'::jsonb, $1, $2, 30, $3::uuid)`,
  [flow, quantity, worker],
];

async function startRuns(flow: string, count: number, priority = 0): Promise<string[]> {
  const rows = await db.query<{ run_id: string }>(
    'select run_id from pgflow.start_flows($1, $2::jsonb, priority => $3)',
    [flow, JSON.stringify(Array.from({ length: count }, (_, n) => ({ n }))), priority],
  );
  return rows.map((row) => row.run_id);
}

type Look =
  | 'a claim of 4 new tasks'
  | 'a claim of 4 new tasks of prioritized runs'
  | 'a poll that finds nothing'
  | 'a claimed start'
  | 'a stalled-task sweep';

/**
 * Starts `inFlight` runs of a one-step flow and claims all their tasks (their messages invisible for
 * the step's timeout), then counts the rows that `look` reads.
 */
async function rowsOfLook(look: Look, flow: string, inFlight: number): Promise<number> {
  const worker = await registerWorker(db, flow);
  await startRuns(flow, inFlight);
  const claimed = await db.query<ClaimRow>(...claim(flow, inFlight, worker));
  expect(claimed.filter((row) => row.run_id !== null)).toHaveLength(inFlight);
  if (look.startsWith('a claim')) await startRuns(flow, 4, look.includes('prioritized') ? 1 : 0);
  // As autovacuum would: the claims above left an index entry for each message's earlier
  // visibility, which a bitmap scan of the vt index reads until a vacuum removes it.
  await db.query(`vacuum (analyze) pgflow.step_tasks, pgmq.q_${flow}`);
  const { client, rowsSince } = await explainingSession(db, 'claims in flight');
  try {
    rowsSince();
    if (look === 'a stalled-task sweep') {
      const { rows } = await client.query<{ requeued: number }>('select pgflow.requeue_stalled_tasks() as requeued');
      expect(rows).toEqual([{ requeued: 0 }]);
    } else if (look === 'a claimed start') {
      const { rows } = await client.query<{ kind: string }>(
        `select kind from pgflow._start_and_claim($1, '{}'::jsonb, null, null, null, null, null, null, 1, 30, $2::uuid)`,
        [flow, worker],
      );
      expect(rows.map((row) => row.kind)).toEqual(['run', 'task']);
    } else {
      const { rows } = await client.query<ClaimRow>(...claim(flow, 4, worker));
      if (look.startsWith('a claim')) expect(rows.filter((row) => row.run_id !== null)).toHaveLength(4);
      else expect(rows).toEqual([expect.objectContaining({ run_id: null })]);
    }
    return rowsSince();
  } finally {
    await client.end();
    // Every task completes, so that the next measurement starts with none in flight.
    const started = await db.query<{ run_id: string; step_slug: string; task_index: number }>(
      `select run_id, step_slug, task_index from pgflow.step_tasks where flow_slug = $1 and status = 'started'`,
      [flow],
    );
    await completeTasks(
      db,
      started.map((task) => ({ ...task, output: 1 })),
    );
  }
}

describe('the work of a claim, a poll, a claimed start and a sweep', () => {
  it.each<Look>([
    'a claim of 4 new tasks',
    'a claim of 4 new tasks of prioritized runs',
    'a poll that finds nothing',
    'a claimed start',
    'a stalled-task sweep',
  ])('does not grow with the tasks in flight: %s with 200 or 800 started', async (look) => {
    const flow = `claims_${look.split(' ').at(-1)}_${look.length}`;
    await defineFlow(db, flow, [{ slug: 'only' }], { maxAttempts: 1, timeout: 120 });
    await db.query('select pgflow._write_queue_statements()');
    const few = await rowsOfLook(look, flow, 200);
    const many = await rowsOfLook(look, flow, 800);
    expect(few).toBeGreaterThan(0);
    // Reading past the messages of the tasks in flight adds 600 rows or more here.
    expect(many - few).toBeLessThan(100);
  });
});

describe('when the next message becomes visible, with more tasks in flight than the 32 looked at', () => {
  it('is the time of a retry due before the tasks in flight time out', async () => {
    const flow = 'next_visible_retry';
    await defineFlow(db, flow, [{ slug: 'only' }], { maxAttempts: 3, timeout: 600 });
    const worker = await registerWorker(db, flow);
    await startRuns(flow, 40);
    const claimed = await db.query<ClaimRow>(...claim(flow, 40, worker));
    const [first] = claimed;
    // One of them fails: its message is due again after the retry delay (seconds), long before the
    // others' visibility (the 600 s timeout).
    await db.query(`select pgflow.fail_task($1::uuid, $2, $3, 'boom')`, [
      first?.run_id,
      first?.step_slug,
      first?.task_index,
    ]);
    const [retry] = await db.query<{ vt: Date }>(
      `select q.vt from pgmq.q_next_visible_retry q
         join pgflow.step_tasks t on t.message_id = q.msg_id and t.flow_slug = $1
        where t.run_id = $2`,
      [flow, first?.run_id],
    );
    const [poll] = await db.query<ClaimRow>(...claim(flow, 4, worker));
    expect(poll?.run_id).toBeNull();
    expect(poll?.next_visible_at).toEqual(retry?.vt);
  });

  it('is at most the visibility of the 32nd task in flight when nothing else is due before it', async () => {
    const flow = 'next_visible_bound';
    await defineFlow(db, flow, [{ slug: 'only' }], { maxAttempts: 1, timeout: 600 });
    const worker = await registerWorker(db, flow);
    await startRuns(flow, 40);
    await db.query(...claim(flow, 40, worker));
    // A message due in a day, after every task in flight times out.
    await db.query(`select pgmq.send('next_visible_bound', '{}'::jsonb, 86400)`);
    const [poll] = await db.query<ClaimRow>(...claim(flow, 4, worker));
    const [bound] = await db.query<{ vt: Date }>(
      'select vt from pgmq.q_next_visible_bound order by vt offset 31 limit 1',
    );
    // Not the message's own time: the 32 messages looked at are the tasks', and the first message
    // that could be started is due no sooner than the last of them.
    expect(poll?.next_visible_at).toEqual(bound?.vt);
    expect(poll?.next_visible_at?.getTime()).toBeLessThan(Date.now() + 86_400_000);
  });
});

describe('the sweep with runs waiting for a signal', () => {
  async function rowsOfSweep(flow: string, waiting: number): Promise<number> {
    await startRuns(flow, waiting);
    await db.query('vacuum (analyze) pgflow.step_tasks');
    const { client, rowsSince } = await explainingSession(db, 'sweep with waits');
    try {
      rowsSince();
      await client.query('select pgflow.requeue_stalled_tasks()');
      return rowsSince();
    } finally {
      await client.end();
      await db.query(
        `select pgflow.cancel_run(run_id, 'measured') from pgflow.runs where flow_slug = $1 and status = 'started'`,
        [flow],
      );
    }
  }

  it('does not grow with the waiting runs: a sweep with 200 or 800 waiting, none past its signal timeout', async () => {
    const flow = 'sweep_signal_waits';
    await db.query('select pgflow.ensure_flow_compiled($1, $2::jsonb)', [
      flow,
      JSON.stringify({
        steps: [
          {
            slug: 'approve',
            stepType: 'single',
            dependencies: [],
            whenUnmet: 'skip',
            whenExhausted: 'fail',
            requiredInputPattern: { defined: false },
            forbiddenInputPattern: { defined: false },
            options: { signal: 'approval', signalTimeout: 86_400 },
          },
        ],
      }),
    ]);
    const few = await rowsOfSweep(flow, 200);
    const many = await rowsOfSweep(flow, 800);
    expect(few).toBeGreaterThan(0);
    expect(many - few).toBeLessThan(100);
  });
});
