/**
 * pgflow 0.14's functions that its worker and tooling call by name, with pgflow's arguments and
 * effects: track_worker_function, _cascade_force_skip_steps, _archive_task_message,
 * cascade_resolve_conditions, poll_for_tasks (deprecated), is_local, prune_data_older_than; and
 * the rows pgflow leaves for an empty map and an exhausted step that is skipped.
 */
import { randomUUID } from 'node:crypto';
import {
  archivedMessages,
  defineFlow,
  failTask,
  pollOne,
  queueMessages,
  runRow,
  startRun,
  stepState,
} from '../engine/support/engine-driver.ts';
import { useTestDatabase } from '../support/test-database.ts';

const db = useTestDatabase();

describe('track_worker_function', () => {
  it('records the function once and refreshes it on every call', async () => {
    await db.query("select pgflow.track_worker_function('my-worker')");
    const [first] = await db.query<{ updated_at: Date }>(
      "select * from pgflow.worker_functions where function_name = 'my-worker'",
    );
    await db.query("select pgflow.track_worker_function(function_name => 'my-worker')");
    const rows = await db.query<{ updated_at: Date; enabled: boolean }>(
      "select * from pgflow.worker_functions where function_name = 'my-worker'",
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ enabled: true, debounce: expect.anything() });
    expect(Number(rows[0]?.updated_at)).toBeGreaterThanOrEqual(Number(first?.updated_at));
  });
});

describe("pgflow's internal helpers", () => {
  it('_cascade_force_skip_steps skips a step and everything downstream, dropping their messages', async () => {
    await defineFlow(db, 'force_skip', [{ slug: 'a' }, { slug: 'b', deps: ['a'] }, { slug: 'c', deps: ['b'] }]);
    const run = await startRun(db, 'force_skip', {});
    const [row] = await db.query<{ skipped: number }>(
      "select pgflow._cascade_force_skip_steps(run_id => $1, step_slug => 'a', skip_reason => 'condition_unmet') as skipped",
      [run.run_id],
    );
    expect(row?.skipped).toBe(3);
    expect((await stepState(db, run.run_id, 'a')).skip_reason).toBe('condition_unmet');
    expect((await stepState(db, run.run_id, 'c')).skip_reason).toBe('dependency_skipped');
    expect(await queueMessages(db, 'force_skip', run.run_id)).toEqual([]);
    await expect(
      db.query("select pgflow._cascade_force_skip_steps($1, 'a', 'condition_unmet')", [randomUUID()]),
    ).rejects.toMatchObject({ code: 'PF009' });
  });

  it('_archive_task_message archives the message of one task', async () => {
    await defineFlow(db, 'archive_one', [{ slug: 'only' }]);
    const run = await startRun(db, 'archive_one', {});
    await db.query('select pgflow._archive_task_message(p_run_id => $1, p_step_slug => $2, p_task_index => 0)', [
      run.run_id,
      'only',
    ]);
    expect(await queueMessages(db, 'archive_one', run.run_id)).toEqual([]);
    expect(await archivedMessages(db, 'archive_one', run.run_id)).toHaveLength(1);
  });

  it('cascade_resolve_conditions resolves ready steps and says whether the run goes on', async () => {
    await defineFlow(db, 'resolve_go', [{ slug: 'gate', if: { go: true }, whenUnmet: 'fail' }]);
    const [failed] = await db.query<{ run_id: string }>(
      // Created without starting: the conditions are left to cascade_resolve_conditions.
      `insert into pgflow.runs (flow_slug, input, remaining_steps) values ('resolve_go', '{"go": false}', 1)
       returning run_id`,
    );
    await db.query(
      `insert into pgflow.step_states (flow_slug, run_id, step_slug, remaining_deps, initial_tasks)
       values ('resolve_go', $1, 'gate', 0, 1)`,
      [failed?.run_id],
    );
    const [answer] = await db.query<{ goes_on: boolean }>(
      'select pgflow.cascade_resolve_conditions(run_id => $1) as goes_on',
      [failed?.run_id],
    );
    expect(answer?.goes_on).toBe(false);
    expect((await runRow(db, failed?.run_id as string)).status).toBe('failed');
  });

  it('poll_for_tasks (deprecated in pgflow too) returns nothing and says what to use', async () => {
    const client = await db.connect('poll_for_tasks');
    const notices: string[] = [];
    client.on('notice', (notice) => notices.push(notice.message ?? ''));
    const { rows } = await client.query("select * from pgflow.poll_for_tasks('any_queue', 30, 10)");
    expect(rows).toEqual([]);
    expect(notices).toEqual(['pgflow.poll_for_tasks is deprecated and returns nothing.']);
  });
});

describe('is_local', () => {
  it("is false, except in a local Supabase database (pgflow's test), where a changed flow recompiles", async () => {
    const client = await db.connect('is_local');
    expect((await client.query('select pgflow.is_local() as local')).rows[0]?.local).toBe(false);
    const shape = (slug: string) => ({ steps: [{ slug, stepType: 'single', dependencies: [] }] });
    await client.query('select pgflow.ensure_flow_compiled($1, $2::jsonb)', ['local_flow', JSON.stringify(shape('a'))]);
    const mismatch = await client.query('select pgflow.ensure_flow_compiled($1, $2::jsonb) as r', [
      'local_flow',
      JSON.stringify(shape('b')),
    ]);
    expect(mismatch.rows[0]?.r.status).toBe('mismatch');

    await client.query(
      "select set_config('app.settings.jwt_secret', 'super-secret-jwt-token-with-at-least-32-characters-long', false)",
    );
    expect((await client.query('select pgflow.is_local() as local')).rows[0]?.local).toBe(true);
    const recompiled = await client.query('select pgflow.ensure_flow_compiled($1, $2::jsonb) as r', [
      'local_flow',
      JSON.stringify(shape('b')),
    ]);
    expect(recompiled.rows[0]?.r.status).toBe('recompiled');
  });
});

describe("pgflow's rows", () => {
  it('an empty map step is started and completed at once, with no task', async () => {
    await defineFlow(db, 'empty_map', [{ slug: 'each', type: 'map' }]);
    const run = await startRun(db, 'empty_map', []);
    const state = await stepState(db, run.run_id, 'each');
    expect(state).toMatchObject({ status: 'completed', output: [], initial_tasks: 0, remaining_tasks: 0 });
    expect(state.started_at).not.toBeNull();
    expect((await runRow(db, run.run_id)).status).toBe('completed');
  });

  it('a step skipped after exhausting its attempts has no remaining tasks (null)', async () => {
    await defineFlow(db, 'skip_exhausted', [{ slug: 'flaky', whenExhausted: 'skip', maxAttempts: 1 }]);
    const run = await startRun(db, 'skip_exhausted', {});
    await pollOne(db, 'skip_exhausted', 'flaky');
    await failTask(db, run.run_id, 'flaky', 0, 'broken');
    expect(await stepState(db, run.run_id, 'flaky')).toMatchObject({
      status: 'skipped',
      skip_reason: 'handler_failed',
      remaining_tasks: null,
      error_message: 'broken',
    });
  });
});

describe('prune_data_older_than', () => {
  /** Moves a run's timestamps `days` into the past. */
  async function age(runId: string, days: number): Promise<void> {
    const back = `${days} days`;
    await db.query(
      `update pgflow.runs set started_at = started_at - $2::interval, completed_at = completed_at - $2::interval,
              failed_at = failed_at - $2::interval where run_id = $1`,
      [runId, back],
    );
  }

  it('deletes the runs that ended before the interval, with their states, tasks and messages, and nothing else', async () => {
    await defineFlow(db, 'prunable', [{ slug: 'a' }, { slug: 'b', deps: ['a'] }], { maxAttempts: 1 });
    const oldCompleted = await startRun(db, 'prunable', { which: 'old completed' });
    await pollOne(db, 'prunable', 'a', { runId: oldCompleted.run_id });
    await db.query(`select pgflow.complete_task($1, 'a', 0, '1')`, [oldCompleted.run_id]);
    await pollOne(db, 'prunable', 'b', { runId: oldCompleted.run_id });
    await db.query(`select pgflow.complete_task($1, 'b', 0, '2')`, [oldCompleted.run_id]);
    const oldFailed = await startRun(db, 'prunable', { which: 'old failed' });
    await pollOne(db, 'prunable', 'a', { runId: oldFailed.run_id });
    await failTask(db, oldFailed.run_id, 'a', 0, 'boom');
    const young = await startRun(db, 'prunable', { which: 'young' });
    const oldButRunning = await startRun(db, 'prunable', { which: 'old, still running' });
    for (const run of [oldCompleted, oldFailed, oldButRunning]) await age(run.run_id, 40);
    await db.query(
      `insert into pgflow.workers (worker_id, queue_name, function_name, last_heartbeat_at)
       values ($1, 'prunable', 'gone', now() - interval '40 days'), ($2, 'prunable', 'alive', now())`,
      [randomUUID(), randomUUID()],
    );

    await db.query("select pgflow.prune_data_older_than(retention_interval => interval '28 days')");

    const left = await db.query<{ run_id: string }>("select run_id from pgflow.runs where flow_slug = 'prunable'");
    expect(left.map((r) => r.run_id).sort()).toEqual([young.run_id, oldButRunning.run_id].sort());
    for (const table of ['step_states', 'step_tasks']) {
      const rows = await db.query(`select 1 from pgflow.${table} where run_id = any($1::uuid[])`, [
        [oldCompleted.run_id, oldFailed.run_id],
      ]);
      expect({ table, rows }).toEqual({ table, rows: [] });
    }
    expect(await queueMessages(db, 'prunable', oldFailed.run_id)).toEqual([]);
    expect(await queueMessages(db, 'prunable', young.run_id)).toHaveLength(1);
    expect(
      (await db.query("select function_name from pgflow.workers where queue_name = 'prunable'")).map(
        (w) => w.function_name,
      ),
    ).toEqual(['alive']);
  });

  it('deletes archived queue messages archived before the interval', async () => {
    await defineFlow(db, 'prune_archive', [{ slug: 'only' }]);
    const run = await startRun(db, 'prune_archive', {});
    await pollOne(db, 'prune_archive', 'only');
    await db.query(`select pgflow.complete_task($1, 'only', 0, '1')`, [run.run_id]);
    expect(await archivedMessages(db, 'prune_archive', run.run_id)).toHaveLength(1);
    await db.query("update pgmq.a_prune_archive set archived_at = archived_at - interval '40 days'");
    await db.query("select pgflow.prune_data_older_than(interval '28 days')");
    expect(await archivedMessages(db, 'prune_archive')).toEqual([]);
  });

  it('refuses a negative or null interval, changing nothing', async () => {
    for (const interval of ["interval '-1 day'", 'null::interval']) {
      await expect(db.query(`select pgflow.prune_data_older_than(${interval})`)).rejects.toMatchObject({
        code: 'PF007',
        message: expect.stringContaining('Invalid retention interval'),
      });
    }
  });
});
