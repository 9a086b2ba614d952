/**
 * A database as pgflow 0.14 leaves it, for the adoption tests: the queue layer (the pgmq extension
 * where the server has it), pgflow's tables with its columns (written here from its documented
 * schema, not taken from pgflow), one of its functions, and rows of runs in every state: completed,
 * failed, and two in flight whose next tasks wait in their queues.
 */
import pg from 'pg';
import { QueueLayer1764150000000 } from '../../../migrations/1764150000000-queue-layer.ts';
import { runMigrations } from '../../../tools/migrations/scratch-database.ts';

const TABLES = /* sql */ `
create schema pgflow;
create table pgflow.flows (
  flow_slug text primary key, opt_max_attempts int not null default 3, opt_base_delay int not null default 1,
  opt_timeout int not null default 60, created_at timestamptz not null default now());
create table pgflow.steps (
  flow_slug text not null references pgflow.flows, step_slug text not null, step_type text not null default 'single',
  step_index int not null default 0, deps_count int not null default 0, opt_max_attempts int, opt_base_delay int,
  opt_timeout int, opt_start_delay int, required_input_pattern jsonb, forbidden_input_pattern jsonb,
  when_unmet text not null default 'skip', when_exhausted text not null default 'fail',
  created_at timestamptz not null default now(), primary key (flow_slug, step_slug));
create table pgflow.deps (
  flow_slug text not null, dep_slug text not null, step_slug text not null, created_at timestamptz not null default now(),
  primary key (flow_slug, dep_slug, step_slug));
create table pgflow.workers (
  worker_id uuid primary key, queue_name text not null, function_name text not null,
  started_at timestamptz not null default now(), deprecated_at timestamptz, stopped_at timestamptz,
  last_heartbeat_at timestamptz not null default now());
create table pgflow.worker_functions (
  function_name text primary key, enabled boolean not null default true, debounce interval not null default '6 seconds',
  last_invoked_at timestamptz, created_at timestamptz not null default now(), updated_at timestamptz not null default now());
create table pgflow.runs (
  run_id uuid primary key, flow_slug text not null references pgflow.flows, status text not null default 'started',
  input jsonb not null, output jsonb, remaining_steps int not null default 0,
  started_at timestamptz not null default now(), completed_at timestamptz, failed_at timestamptz);
create table pgflow.step_states (
  flow_slug text not null, run_id uuid not null references pgflow.runs, step_slug text not null,
  status text not null default 'created', remaining_tasks int, initial_tasks int, remaining_deps int not null default 0,
  output jsonb, error_message text, skip_reason text, created_at timestamptz not null default now(),
  started_at timestamptz, completed_at timestamptz, failed_at timestamptz, skipped_at timestamptz,
  primary key (run_id, step_slug));
create table pgflow.step_tasks (
  flow_slug text not null, run_id uuid not null, step_slug text not null, message_id bigint,
  task_index int not null default 0, status text not null default 'queued', attempts_count int not null default 0,
  error_message text, output jsonb, queued_at timestamptz not null default now(), started_at timestamptz,
  completed_at timestamptz, failed_at timestamptz, last_worker_id uuid, requeued_count int not null default 0,
  last_requeued_at timestamptz, permanently_stalled_at timestamptz, primary key (run_id, step_slug, task_index));
create function pgflow.is_valid_slug(slug text) returns boolean language sql immutable
  as $$ select slug ~ '^[a-zA-Z_][a-zA-Z0-9_]*$' $$;
`;

const DEFINITIONS = /* sql */ `
insert into pgflow.flows (flow_slug, opt_base_delay) values ('adopted_chain', 1), ('adopted_map', 1);
insert into pgflow.steps (flow_slug, step_slug, step_type, step_index, deps_count) values
  ('adopted_chain', 'a', 'single', 0, 0), ('adopted_chain', 'b', 'single', 1, 1),
  ('adopted_map', 'list', 'single', 0, 0), ('adopted_map', 'each', 'map', 1, 1), ('adopted_map', 'total', 'single', 2, 1);
insert into pgflow.deps (flow_slug, dep_slug, step_slug) values
  ('adopted_chain', 'a', 'b'), ('adopted_map', 'list', 'each'), ('adopted_map', 'each', 'total');
insert into pgflow.workers (worker_id, queue_name, function_name, stopped_at)
  values ('00000000-0000-4000-8000-00000000ad01', 'adopted_chain', 'pgflow-edge-worker', now());
insert into pgflow.worker_functions (function_name) values ('pgflow-edge-worker');
select pgmq.create('adopted_chain');
select pgmq.create('adopted_map');
`;

/** The runs the installation holds, by what happened to them. */
export const ADOPTED_RUNS = {
  completed: '00000000-0000-4000-8000-0000000000c1',
  failed: '00000000-0000-4000-8000-0000000000f1',
  chainInFlight: '00000000-0000-4000-8000-0000000000a1',
  mapInFlight: '00000000-0000-4000-8000-0000000000a2',
} as const;

const RUNS = /* sql */ `
insert into pgflow.runs (run_id, flow_slug, status, input, output, remaining_steps, completed_at, failed_at) values
  ('${ADOPTED_RUNS.completed}', 'adopted_chain', 'completed', '{"n": 1}', '{"b": 4}', 0, now(), null),
  ('${ADOPTED_RUNS.failed}', 'adopted_chain', 'failed', '{"n": 2}', null, 1, null, now()),
  ('${ADOPTED_RUNS.chainInFlight}', 'adopted_chain', 'started', '{"n": 5}', null, 1, null, null),
  ('${ADOPTED_RUNS.mapInFlight}', 'adopted_map', 'started', '{"size": 3}', null, 2, null, null);
insert into pgflow.step_states
  (flow_slug, run_id, step_slug, status, remaining_tasks, initial_tasks, remaining_deps, output, error_message,
   started_at, completed_at, failed_at) values
  ('adopted_chain', '${ADOPTED_RUNS.completed}', 'a', 'completed', 0, 1, 0, '2', null, now(), now(), null),
  ('adopted_chain', '${ADOPTED_RUNS.completed}', 'b', 'completed', 0, 1, 0, '4', null, now(), now(), null),
  ('adopted_chain', '${ADOPTED_RUNS.failed}', 'a', 'failed', 1, 1, 0, null, 'boom', now(), null, now()),
  ('adopted_chain', '${ADOPTED_RUNS.failed}', 'b', 'created', null, 1, 1, null, null, null, null, null),
  ('adopted_chain', '${ADOPTED_RUNS.chainInFlight}', 'a', 'completed', 0, 1, 0, '6', null, now(), now(), null),
  ('adopted_chain', '${ADOPTED_RUNS.chainInFlight}', 'b', 'started', 1, 1, 0, null, null, now(), null, null),
  ('adopted_map', '${ADOPTED_RUNS.mapInFlight}', 'list', 'completed', 0, 1, 0, '[10, 20, 30]', null, now(), now(), null),
  ('adopted_map', '${ADOPTED_RUNS.mapInFlight}', 'each', 'started', 3, 3, 0, null, null, now(), null, null),
  ('adopted_map', '${ADOPTED_RUNS.mapInFlight}', 'total', 'created', null, 1, 1, null, null, null, null, null);
insert into pgflow.step_tasks
  (flow_slug, run_id, step_slug, task_index, status, attempts_count, output, error_message, started_at, completed_at,
   failed_at, message_id) values
  ('adopted_chain', '${ADOPTED_RUNS.completed}', 'a', 0, 'completed', 1, '2', null, now(), now(), null, null),
  ('adopted_chain', '${ADOPTED_RUNS.completed}', 'b', 0, 'completed', 1, '4', null, now(), now(), null, null),
  ('adopted_chain', '${ADOPTED_RUNS.failed}', 'a', 0, 'failed', 3, null, 'boom', now(), null, now(), null),
  ('adopted_chain', '${ADOPTED_RUNS.chainInFlight}', 'a', 0, 'completed', 1, '6', null, now(), now(), null, null),
  ('adopted_map', '${ADOPTED_RUNS.mapInFlight}', 'list', 0, 'completed', 1, '[10, 20, 30]', null, now(), now(), null, null);
-- The tasks still to run, each behind a visible queue message (pgflow's message body).
with sent as (
  select pgmq.send('adopted_chain', jsonb_build_object('flow_slug', 'adopted_chain',
           'run_id', '${ADOPTED_RUNS.chainInFlight}', 'step_slug', 'b', 'task_index', 0)) as msg_id
)
insert into pgflow.step_tasks (flow_slug, run_id, step_slug, task_index, message_id)
select 'adopted_chain', '${ADOPTED_RUNS.chainInFlight}', 'b', 0, sent.msg_id from sent;
insert into pgflow.step_tasks (flow_slug, run_id, step_slug, task_index, message_id)
select 'adopted_map', '${ADOPTED_RUNS.mapInFlight}', 'each', i,
       pgmq.send('adopted_map', jsonb_build_object('flow_slug', 'adopted_map',
         'run_id', '${ADOPTED_RUNS.mapInFlight}', 'step_slug', 'each', 'task_index', i))
  from generate_series(0, 2) i;
`;

/** Installs the queue layer, then pgflow 0.14's schema and rows, on the (empty) database at `url`. */
export async function installPgflow014(url: string): Promise<void> {
  await runMigrations(url, [QueueLayer1764150000000], 'auto');
  await withClient(url, async (client) => {
    await client.query(TABLES);
    await client.query(DEFINITIONS);
    await client.query(RUNS);
  });
}

export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'pgflow installation' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
