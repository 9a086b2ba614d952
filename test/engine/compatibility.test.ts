/**
 * pgflow 0.14 compatibility: the public functions keep their names, argument names and order
 * (new optional arguments may only be added at the end), their result types and `search_path ''`;
 * the tables keep their columns; step_task_record keeps its fields in order. Plus set_vt_batch,
 * the one queue helper of the engine.
 */
import { useTestDatabase } from '../support/test-database.ts';
import { defineFlow, queueMessages, startRun } from './support/engine-driver.ts';
import { databaseClock, expectVisibleAfter } from './support/visibility.ts';

const db = useTestDatabase();

interface FunctionRow {
  identity: string;
  result: string;
  config: string[] | null;
}

async function functionsNamed(name: string): Promise<FunctionRow[]> {
  return db.query<FunctionRow>(
    `select pg_get_function_identity_arguments(p.oid) as identity, pg_get_function_result(p.oid) as result,
            p.proconfig as config
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'pgflow' and p.proname = $1`,
    [name],
  );
}

const SIGNATURES: Array<[string, string, RegExp]> = [
  ['is_valid_slug', 'slug text', /^boolean$/],
  ['calculate_retry_delay', 'base_delay numeric, attempts_count integer', /^integer$/],
  ['create_flow', 'flow_slug text, max_attempts integer, base_delay integer, timeout integer', /^(pgflow\.)?flows$/],
  [
    'add_step',
    'flow_slug text, step_slug text, deps_slugs text[], max_attempts integer, base_delay integer, timeout integer, ' +
      'start_delay integer, step_type text, required_input_pattern jsonb, forbidden_input_pattern jsonb, ' +
      'when_unmet text, when_exhausted text',
    /^(pgflow\.)?steps$/,
  ],
  ['start_flow', 'flow_slug text, input jsonb, run_id uuid', /^SETOF (pgflow\.)?runs$/],
  ['start_ready_steps', 'run_id uuid', /^void$/],
  ['start_tasks', 'flow_slug text, msg_ids bigint[], worker_id uuid', /^SETOF (pgflow\.)?step_task_record$/],
  ['complete_task', 'run_id uuid, step_slug text, task_index integer, output jsonb', /^SETOF (pgflow\.)?step_tasks$/],
  ['fail_task', 'run_id uuid, step_slug text, task_index integer, error_message text', /^SETOF (pgflow\.)?step_tasks$/],
  ['complete_tasks', 'completions jsonb', /^integer$/],
  ['fail_tasks', 'failures jsonb', /^integer$/],
  ['maybe_complete_run', 'run_id uuid', /^void$/],
  ['cascade_complete_taskless_steps', 'run_id uuid', /^integer$/],
  ['set_vt_batch', 'queue_name text, msg_ids bigint[], vt_offsets integer[]', /^TABLE\(msg_id bigint, read_ct integer/],
  ['requeue_stalled_tasks', '', /^integer$/],
  ['get_run_with_states', 'run_id uuid', /^jsonb$/],
  ['start_flow_with_states', 'flow_slug text, input jsonb, run_id uuid', /^jsonb$/],
  ['ensure_flow_compiled', 'flow_slug text, shape jsonb, allow_data_loss boolean', /^jsonb$/],
  ['delete_flow_and_data', 'p_flow_slug text', /^void$/],
  ['mark_worker_stopped', 'worker_id uuid', /^void$/],
  ['track_worker_function', 'function_name text', /^void$/],
  ['is_local', '', /^boolean$/],
  ['cascade_resolve_conditions', 'run_id uuid', /^boolean$/],
  [
    'poll_for_tasks',
    'queue_name text, vt integer, qty integer, max_poll_seconds integer, poll_interval_ms integer',
    /^SETOF (pgflow\.)?step_task_record$/,
  ],
  ['prune_data_older_than', 'retention_interval interval', /^void$/],
  // pgflow's internal helpers that its own tooling calls by name.
  ['_get_flow_shape', 'p_flow_slug text', /^jsonb$/],
  ['_compare_flow_shapes', 'p_local jsonb, p_db jsonb', /^text\[\]$/],
  ['_create_flow_from_shape', 'p_flow_slug text, p_shape jsonb', /^void$/],
  ['_cascade_force_skip_steps', 'run_id uuid, step_slug text, skip_reason text', /^integer$/],
  ['_archive_task_message', 'p_run_id uuid, p_step_slug text, p_task_index integer', /^void$/],
];

describe('public functions', () => {
  it.each(SIGNATURES)('%s(%s) keeps its arguments, result and empty search_path', async (name, args, result) => {
    const found = await functionsNamed(name);
    expect(found).toHaveLength(1);
    const fn = found[0] as FunctionRow;
    if (args) expect(fn.identity.startsWith(args)).toBe(true);
    if (name === 'requeue_stalled_tasks' || name === 'is_local') expect(fn.identity).toBe('');
    expect(fn.result).toMatch(result);
    expect(fn.config ?? []).toContain('search_path=""');
  });
});

describe('tables', () => {
  const COLUMNS: Record<string, string[]> = {
    flows: ['flow_slug', 'opt_max_attempts', 'opt_base_delay', 'opt_timeout', 'created_at'],
    steps: [
      'flow_slug',
      'step_slug',
      'step_type',
      'step_index',
      'deps_count',
      'opt_max_attempts',
      'opt_base_delay',
      'opt_timeout',
      'opt_start_delay',
      'required_input_pattern',
      'forbidden_input_pattern',
      'when_unmet',
      'when_exhausted',
      'created_at',
    ],
    deps: ['flow_slug', 'dep_slug', 'step_slug', 'created_at'],
    runs: [
      'run_id',
      'flow_slug',
      'status',
      'input',
      'output',
      'remaining_steps',
      'started_at',
      'completed_at',
      'failed_at',
    ],
    step_states: [
      'flow_slug',
      'run_id',
      'step_slug',
      'status',
      'remaining_tasks',
      'initial_tasks',
      'remaining_deps',
      'output',
      'error_message',
      'skip_reason',
      'created_at',
      'started_at',
      'completed_at',
      'failed_at',
      'skipped_at',
    ],
    step_tasks: [
      'flow_slug',
      'run_id',
      'step_slug',
      'message_id',
      'task_index',
      'status',
      'attempts_count',
      'error_message',
      'output',
      'queued_at',
      'started_at',
      'completed_at',
      'failed_at',
      'last_worker_id',
      'requeued_count',
      'last_requeued_at',
      'permanently_stalled_at',
    ],
    workers: [
      'worker_id',
      'queue_name',
      'function_name',
      'started_at',
      'deprecated_at',
      'stopped_at',
      'last_heartbeat_at',
    ],
  };

  it.each(Object.entries(COLUMNS))('pgflow.%s has the columns of pgflow 0.14', async (table, columns) => {
    const rows = await db.query<{ column_name: string }>(
      `select column_name from information_schema.columns where table_schema = 'pgflow' and table_name = $1`,
      [table],
    );
    const present = rows.map((r) => r.column_name);
    expect(columns.filter((c) => !present.includes(c))).toEqual([]);
  });

  it('step_task_record has its fields in order', async () => {
    const rows = await db.query<{ attname: string }>(
      `select a.attname from pg_attribute a
         join pg_type t on t.typrelid = a.attrelid
         join pg_namespace n on n.oid = t.typnamespace
        where n.nspname = 'pgflow' and t.typname = 'step_task_record' and a.attnum > 0 and not a.attisdropped
        order by a.attnum`,
    );
    expect(rows.map((r) => r.attname).slice(0, 7)).toEqual([
      'flow_slug',
      'run_id',
      'step_slug',
      'input',
      'msg_id',
      'task_index',
      'flow_input',
    ]);
  });
});

describe('set_vt_batch', () => {
  it('sets the visibility of each message to now plus its own offset, in one call', async () => {
    await defineFlow(db, 'vt_batch', [{ slug: 'each', type: 'map' }]);
    const run = await startRun(db, 'vt_batch', [1, 2, 3]);
    const ids = (await queueMessages(db, 'vt_batch', run.run_id)).map((m) => m.msg_id);
    const since = await databaseClock(db);
    const returned = await db.query<{ msg_id: string }>(
      'select * from pgflow.set_vt_batch(queue_name => $1, msg_ids => $2::bigint[], vt_offsets => $3::int[])',
      ['vt_batch', ids, [10, 0, 100]],
    );
    expect(returned.map((r) => r.msg_id).sort()).toEqual([...ids].sort());
    for (const [i, seconds] of [10, 0, 100].entries()) {
      await expectVisibleAfter(db, 'vt_batch', ids[i] as string, since, seconds);
    }
  });
});
