/**
 * The statements of the floor benchmark: plain SQL on plain tables (the least any PostgreSQL job
 * queue must do), and the same cycle through our engine's SQL API.
 */

export const floorTables: readonly string[] = [
  'create table public.floor_rows (id bigint primary key generated always as identity, payload jsonb not null)',
  `create table public.floor_jobs (
     id bigint primary key generated always as identity,
     payload jsonb not null,
     locked_at timestamptz)`,
];

export const floorSql = {
  /** One row, one statement, one commit. */
  insertRow: 'insert into public.floor_rows (payload) values ($1::jsonb)',
  /** Enqueue $1 jobs in one statement. */
  enqueue: `insert into public.floor_jobs (payload)
            select jsonb_build_object('n', i) from generate_series(1, $1::int) i`,
  /** Claim up to $1 jobs: lock them with for update skip locked, mark them taken, return them. */
  claim: `update public.floor_jobs set locked_at = now()
           where id in (select id from public.floor_jobs where locked_at is null
                         order by id limit $1 for update skip locked)
          returning id, payload`,
  /** Finish the claimed jobs: delete them. */
  finish: 'delete from public.floor_jobs where id = any($1::bigint[])',
} as const;

/** The engine's cycle on a one-step flow: start $1 runs in one statement, claim $1 tasks, complete them. */
export const ENGINE_FLOW = 'bench_floor';

export const engineSql = {
  setup: [
    `select pgflow.create_flow('${ENGINE_FLOW}', timeout => 120)`,
    `select pgflow.add_step('${ENGINE_FLOW}', 'only')`,
  ],
  registerWorker: `insert into pgflow.workers (worker_id, queue_name, function_name) values ($1, '${ENGINE_FLOW}', 'bench')`,
  start: `select count(*) from pgflow.start_flows('${ENGINE_FLOW}',
                 (select jsonb_agg(jsonb_build_object('n', i)) from generate_series(1, $1::int) i))`,
  claim: `select run_id, step_slug, task_index, input
            from pgflow._report_and_claim('[]'::jsonb, '[]'::jsonb, '${ENGINE_FLOW}', $1, 30, $2::uuid, '{}'::uuid[])
           where run_id is not null`,
  complete: 'select pgflow.complete_tasks($1::jsonb)',
} as const;
