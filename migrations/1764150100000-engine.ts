/**
 * The workflow engine (schema pgflow), as released: definitions, runtime state and the functions
 * that drive them. A frozen snapshot: this SQL never changes (migrations/frozen.json holds its
 * checksum and a test compares them); a change to the engine is a new migration, generated from the
 * current definitions in migrations/sql (see migrations/README.md).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { applyMigration, type MigrationSql } from './support/apply-migration.ts';

const sql: MigrationSql = {
  up: {
    engine: [
      `create schema pgflow;
comment on schema pgflow is 'nestjs-pgflow workflow engine (pgflow 0.14 compatible)';
`,
      `create function pgflow.is_valid_slug(slug text)
returns boolean
language sql
immutable
parallel safe
set search_path to ''
as $$
  select slug is not null
     and slug ~ '^[a-zA-Z_][a-zA-Z0-9_]*$'
     and length(slug) <= 128
     and slug <> 'run'
$$;
`,
      `create table pgflow.flows (
  flow_slug text primary key,
  opt_max_attempts int not null default 3,
  opt_base_delay int not null default 1,
  opt_timeout int not null default 60,
  created_at timestamptz not null default now(),
  constraint flows_slug_is_valid check (pgflow.is_valid_slug(flow_slug)),
  constraint flows_max_attempts_non_negative check (opt_max_attempts >= 0),
  constraint flows_base_delay_non_negative check (opt_base_delay >= 0),
  constraint flows_timeout_positive check (opt_timeout > 0)
);

create table pgflow.steps (
  flow_slug text not null references pgflow.flows (flow_slug),
  step_slug text not null,
  step_type text not null default 'single',
  step_index int not null default 0,
  deps_count int not null default 0,
  opt_max_attempts int,
  opt_base_delay int,
  opt_timeout int,
  opt_start_delay int,
  required_input_pattern jsonb,
  forbidden_input_pattern jsonb,
  when_unmet text not null default 'skip',
  when_exhausted text not null default 'fail',
  created_at timestamptz not null default now(),
  primary key (flow_slug, step_slug),
  unique (flow_slug, step_index),
  constraint steps_slug_is_valid check (pgflow.is_valid_slug(step_slug)),
  constraint steps_type_is_valid check (step_type in ('single', 'map')),
  constraint steps_index_non_negative check (step_index >= 0),
  constraint steps_deps_count_non_negative check (deps_count >= 0),
  constraint steps_map_has_at_most_one_dependency check (step_type = 'single' or deps_count <= 1),
  constraint steps_max_attempts_non_negative check (opt_max_attempts is null or opt_max_attempts >= 0),
  constraint steps_base_delay_non_negative check (opt_base_delay is null or opt_base_delay >= 0),
  constraint steps_timeout_positive check (opt_timeout is null or opt_timeout > 0),
  constraint steps_start_delay_non_negative check (opt_start_delay is null or opt_start_delay >= 0),
  constraint steps_required_pattern_is_object
    check (required_input_pattern is null or jsonb_typeof(required_input_pattern) = 'object'),
  constraint steps_forbidden_pattern_is_object
    check (forbidden_input_pattern is null or jsonb_typeof(forbidden_input_pattern) = 'object'),
  constraint steps_when_unmet_is_valid check (when_unmet in ('fail', 'skip', 'skip-cascade')),
  constraint steps_when_exhausted_is_valid check (when_exhausted in ('fail', 'skip', 'skip-cascade'))
);

create table pgflow.deps (
  flow_slug text not null references pgflow.flows (flow_slug),
  dep_slug text not null,
  step_slug text not null,
  created_at timestamptz not null default now(),
  primary key (flow_slug, dep_slug, step_slug),
  foreign key (flow_slug, dep_slug) references pgflow.steps (flow_slug, step_slug),
  foreign key (flow_slug, step_slug) references pgflow.steps (flow_slug, step_slug),
  constraint deps_not_self check (dep_slug <> step_slug)
);
-- The primary key finds a step's dependents; this finds its dependencies.
create index deps_step_idx on pgflow.deps (flow_slug, step_slug);
`,
      `create table pgflow.workers (
  worker_id uuid primary key,
  queue_name text not null,
  function_name text not null,
  started_at timestamptz not null default now(),
  deprecated_at timestamptz,
  stopped_at timestamptz,
  last_heartbeat_at timestamptz not null default now()
);

create table pgflow.runs (
  run_id uuid primary key default gen_random_uuid(),
  flow_slug text not null references pgflow.flows (flow_slug),
  status text not null default 'started',
  input jsonb not null,
  output jsonb,
  remaining_steps int not null default 0,
  started_at timestamptz not null default now(),
  completed_at timestamptz,
  failed_at timestamptz,
  constraint runs_status_is_valid check (status in ('started', 'completed', 'failed')),
  constraint runs_remaining_steps_non_negative check (remaining_steps >= 0),
  constraint runs_one_terminal_timestamp check (num_nonnulls(completed_at, failed_at) <= 1),
  constraint runs_completed_at_matches_status check ((status = 'completed') = (completed_at is not null)),
  constraint runs_failed_at_matches_status check ((status = 'failed') = (failed_at is not null)),
  constraint runs_completed_after_start check (completed_at is null or completed_at >= started_at),
  constraint runs_failed_after_start check (failed_at is null or failed_at >= started_at),
  constraint runs_output_only_when_completed check (output is null or status = 'completed'),
  constraint runs_completed_has_no_remaining_steps check (status <> 'completed' or remaining_steps = 0)
);
create index runs_flow_slug_idx on pgflow.runs (flow_slug);

create table pgflow.step_states (
  flow_slug text not null,
  run_id uuid not null references pgflow.runs (run_id),
  step_slug text not null,
  status text not null default 'created',
  remaining_tasks int,
  initial_tasks int,
  remaining_deps int not null default 0,
  output jsonb,
  error_message text,
  skip_reason text,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  completed_at timestamptz,
  failed_at timestamptz,
  skipped_at timestamptz,
  primary key (run_id, step_slug),
  foreign key (flow_slug, step_slug) references pgflow.steps (flow_slug, step_slug),
  constraint step_states_status_is_valid
    check (status in ('created', 'started', 'completed', 'failed', 'skipped')),
  constraint step_states_remaining_deps_non_negative check (remaining_deps >= 0),
  constraint step_states_initial_tasks_non_negative check (initial_tasks is null or initial_tasks >= 0),
  constraint step_states_remaining_tasks_non_negative check (remaining_tasks is null or remaining_tasks >= 0),
  constraint step_states_remaining_tasks_matches_status check (
    case status
      when 'created' then remaining_tasks is null
      when 'started' then remaining_tasks is not null and remaining_tasks > 0
      when 'completed' then remaining_tasks = 0
      else true
    end),
  constraint step_states_started_knows_its_tasks
    check (status not in ('started', 'completed') or initial_tasks is not null),
  constraint step_states_remaining_within_initial
    check (remaining_tasks is null or initial_tasks is null or remaining_tasks <= initial_tasks),
  constraint step_states_ready_before_start check (status = 'created' or status = 'skipped'
    or status = 'failed' or remaining_deps = 0),
  constraint step_states_output_only_when_completed check (output is null or status = 'completed'),
  constraint step_states_error_only_when_failed_or_skipped
    check (error_message is null or status in ('failed', 'skipped')),
  constraint step_states_skip_reason_iff_skipped check ((status = 'skipped') = (skip_reason is not null)),
  constraint step_states_skip_reason_is_valid
    check (skip_reason is null or skip_reason in ('condition_unmet', 'handler_failed', 'dependency_skipped')),
  constraint step_states_one_terminal_timestamp check (num_nonnulls(completed_at, failed_at, skipped_at) <= 1),
  constraint step_states_completed_at_matches_status check ((status = 'completed') = (completed_at is not null)),
  constraint step_states_failed_at_matches_status check ((status = 'failed') = (failed_at is not null)),
  constraint step_states_skipped_at_matches_status check ((status = 'skipped') = (skipped_at is not null)),
  constraint step_states_started_at_when_started check (status <> 'started' or started_at is not null),
  constraint step_states_started_after_created check (started_at is null or started_at >= created_at),
  constraint step_states_completed_after_start
    check (completed_at is null or completed_at >= coalesce(started_at, created_at)),
  constraint step_states_failed_after_start
    check (failed_at is null or failed_at >= coalesce(started_at, created_at)),
  constraint step_states_skipped_after_created check (skipped_at is null or skipped_at >= created_at)
);

create table pgflow.step_tasks (
  flow_slug text not null,
  run_id uuid not null,
  step_slug text not null,
  message_id bigint,
  task_index int not null default 0,
  status text not null default 'queued',
  attempts_count int not null default 0,
  error_message text,
  output jsonb,
  queued_at timestamptz not null default now(),
  started_at timestamptz,
  completed_at timestamptz,
  failed_at timestamptz,
  last_worker_id uuid references pgflow.workers (worker_id) on delete set null,
  requeued_count int not null default 0,
  last_requeued_at timestamptz,
  permanently_stalled_at timestamptz,
  input jsonb,
  primary key (run_id, step_slug, task_index),
  foreign key (run_id, step_slug) references pgflow.step_states (run_id, step_slug),
  constraint step_tasks_status_is_valid check (status in ('queued', 'started', 'completed', 'failed')),
  constraint step_tasks_task_index_non_negative check (task_index >= 0),
  constraint step_tasks_attempts_non_negative check (attempts_count >= 0),
  constraint step_tasks_requeued_non_negative check (requeued_count >= 0),
  constraint step_tasks_output_only_when_finished check (output is null or status in ('completed', 'failed')),
  constraint step_tasks_one_terminal_timestamp check (num_nonnulls(completed_at, failed_at) <= 1),
  constraint step_tasks_completed_at_matches_status check ((status = 'completed') = (completed_at is not null)),
  constraint step_tasks_failed_at_matches_status check ((status = 'failed') = (failed_at is not null)),
  constraint step_tasks_started_at_when_started check (status <> 'started' or started_at is not null),
  constraint step_tasks_started_tasks_were_attempted check (status <> 'started' or attempts_count > 0),
  constraint step_tasks_completed_after_queued check (completed_at is null or completed_at >= queued_at),
  constraint step_tasks_failed_after_queued check (failed_at is null or failed_at >= queued_at),
  constraint step_tasks_stalled_only_when_failed check (permanently_stalled_at is null or status = 'failed')
);
-- start_tasks finds tasks by their queue message (message ids are per queue, i.e. per flow). The
-- message id leads: "message_id = any($1)" is then an index condition whatever the statistics.
create index step_tasks_message_idx on pgflow.step_tasks (message_id, flow_slug);
-- requeue_stalled_tasks scans only the tasks in flight.
create index step_tasks_started_idx on pgflow.step_tasks (started_at) where status = 'started';

create type pgflow.step_task_record as (
  flow_slug text,
  run_id uuid,
  step_slug text,
  input jsonb,
  msg_id bigint,
  task_index int,
  flow_input jsonb
);
`,
      `create function pgflow._emit_events(p_run_ids uuid[], p_payloads jsonb[])
returns void
language plpgsql
volatile
set search_path to ''
as $$
begin
  -- One statement for the whole batch, in the given order.
  -- 7,500 bytes leave room under NOTIFY's 8,000-byte limit for the channel name and framing. What
  -- does not fit is left out: the run's input first, then the output, then the error.
  perform pg_notify('pgflow:run:' || e.run_id,
                    case when octet_length(e.body) <= 7500 then e.body
                         when e.payload ? 'input'
                              and octet_length((e.payload - 'input' || '{"input_omitted": true}'::jsonb)::text) <= 7500
                           then (e.payload - 'input' || '{"input_omitted": true}'::jsonb)::text
                         when octet_length((e.payload - 'input' - 'output' || '{"output_omitted": true}'::jsonb)::text) <= 7500
                           then (e.payload - 'input' - 'output' || '{"output_omitted": true}'::jsonb)::text
                         else (e.payload - 'input' - 'output' - 'error_message'
                               || '{"output_omitted": true, "error_message_omitted": true}'::jsonb)::text
                    end)
    from (select x.run_id, p.payload, p.payload::text as body
            from unnest(p_run_ids, p_payloads) with ordinality as x(run_id, payload, n)
            cross join lateral (select x.payload || jsonb_build_object('run_id', x.run_id, 'at', clock_timestamp())
                                         as payload) p
           order by x.n) e;

  -- Supabase Realtime, where its schema exists (the lookups are cache hits); not for task events.
  if to_regnamespace('realtime') is not null
     and to_regprocedure('realtime.send(jsonb,text,text,boolean)') is not null then
    perform realtime.send(
              p.payload,
              case when p.payload ->> 'event_type' like 'step:%'
                   then 'step:' || (p.payload ->> 'step_slug') || ':' || (p.payload ->> 'status')
                   else 'run:' || (p.payload ->> 'status') end,
              'pgflow:run:' || x.run_id,
              false)
      from unnest(p_run_ids, p_payloads) with ordinality as x(run_id, payload, n)
      cross join lateral (select x.payload || jsonb_build_object('run_id', x.run_id, 'at', clock_timestamp())
                                   as payload) p
     where p.payload ->> 'event_type' not like 'task:%'
     order by x.n;
  end if;
end;
$$;
`,
      `create function pgflow._emit_step_events(p_event_type text, p_states pgflow.step_states[])
returns void
language plpgsql
volatile
set search_path to ''
as $$
begin
  perform pgflow._emit_events(
    array_agg(s.run_id order by s.ordinality),
    array_agg(jsonb_strip_nulls(jsonb_build_object(
                'event_type', p_event_type,
                'flow_slug', s.flow_slug,
                'step_slug', s.step_slug,
                'status', s.status,
                'error_message', s.error_message,
                'skip_reason', s.skip_reason,
                'started_at', s.started_at,
                'completed_at', s.completed_at,
                'failed_at', s.failed_at,
                'skipped_at', s.skipped_at,
                'remaining_tasks', s.remaining_tasks,
                'initial_tasks', s.initial_tasks))
              -- The output is kept even when it is JSON null: a null output is an output.
              || case when s.status = 'completed' then jsonb_build_object('output', s.output) else '{}'::jsonb end
              order by s.ordinality))
    from unnest(p_states) with ordinality s;
end;
$$;
`,
      `create function pgflow._emit_run_events(p_event_type text, p_runs pgflow.runs[], p_extra jsonb default '{}')
returns void
language plpgsql
volatile
set search_path to ''
as $$
begin
  perform pgflow._emit_events(
    array_agg(r.run_id order by r.ordinality),
    array_agg(jsonb_strip_nulls(jsonb_build_object(
                'event_type', p_event_type,
                'flow_slug', r.flow_slug,
                'status', r.status,
                'started_at', r.started_at,
                'completed_at', r.completed_at,
                'failed_at', r.failed_at,
                'remaining_steps', r.remaining_steps))
              -- A completed run's event carries what wait() returns, so that it needs no read.
              || case when r.status = 'completed' then jsonb_build_object('output', r.output, 'input', r.input)
                      else '{}'::jsonb end
              || p_extra
              order by r.ordinality))
    from unnest(p_runs) with ordinality r;
end;
$$;
`,
      `create function pgflow.calculate_retry_delay(base_delay numeric, attempts_count int)
returns int
language sql
immutable
parallel safe
set search_path to ''
as $$
  select floor(base_delay * power(2, attempts_count))::int
$$;
`,
      `create function pgflow._slug_problem(p_slug text)
returns text
language sql
immutable
set search_path to ''
as $$
  select case
    when p_slug is null or p_slug = '' then 'it is empty'
    when length(p_slug) > 128 then 'it is longer than 128 characters'
    when p_slug = 'run' then '"run" is reserved'
    when p_slug !~ '^[a-zA-Z_]' then 'it must start with a letter or an underscore'
    when p_slug !~ '^[a-zA-Z_][a-zA-Z0-9_]*$' then 'it may contain only letters, digits and underscores'
  end
$$;
`,
      `create function pgflow._assert_flow_slug(p_flow_slug text)
returns void
language plpgsql
stable
set search_path to ''
as $$
declare
  v_problem text := pgflow._slug_problem(p_flow_slug);
  v_taken text;
begin
  if v_problem is not null then
    raise exception using errcode = 'PF001',
      message = format('Invalid flow slug %L: %s.', p_flow_slug, v_problem),
      hint = 'Use a slug like "analyze_website": a letter or underscore, then letters, digits and underscores.';
  end if;
  -- A flow slug is also its queue name (pgmq limits those to 47 characters).
  if length(p_flow_slug) > 47 then
    raise exception using errcode = 'PF001',
      message = format('Invalid flow slug %L: it is longer than 47 characters, the queue name limit.', p_flow_slug),
      hint = 'A flow slug is also the name of its queue: choose one of at most 47 characters.';
  end if;
  -- Queue tables are named after the lower-cased slug, so two slugs differing only in case would share one.
  select f.flow_slug into v_taken from pgflow.flows f
   where lower(f.flow_slug) = lower(p_flow_slug) and f.flow_slug <> p_flow_slug;
  if found then
    raise exception using errcode = 'PF001',
      message = format('Invalid flow slug %L: flow %L already exists and queue names ignore case.', p_flow_slug, v_taken),
      hint = 'Choose a slug that differs from every existing flow slug by more than letter case.';
  end if;
end;
$$;
`,
      `create function pgflow._assert_option(p_name text, p_value int, p_minimum int)
returns void
language plpgsql
immutable
set search_path to ''
as $$
begin
  if p_value is not null and p_value < p_minimum then
    raise exception using errcode = 'PF007',
      message = format('Invalid option %s = %s: it must be %s or more.', p_name, p_value, p_minimum),
      hint = format('Pass null to use the default, or a value of at least %s.', p_minimum);
  end if;
end;
$$;
`,
      `create function pgflow.create_flow(
  flow_slug text,
  max_attempts int default null,
  base_delay int default null,
  timeout int default null
)
returns pgflow.flows
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_flow pgflow.flows;
begin
  select * into v_flow from pgflow.flows f where f.flow_slug = create_flow.flow_slug;
  if found then
    return v_flow;
  end if;
  perform pgflow._assert_flow_slug(create_flow.flow_slug);
  perform pgflow._assert_option('max_attempts', create_flow.max_attempts, 0);
  perform pgflow._assert_option('base_delay', create_flow.base_delay, 0);
  perform pgflow._assert_option('timeout', create_flow.timeout, 1);

  insert into pgflow.flows (flow_slug, opt_max_attempts, opt_base_delay, opt_timeout)
  values (create_flow.flow_slug, coalesce(create_flow.max_attempts, 3), coalesce(create_flow.base_delay, 5),
          coalesce(create_flow.timeout, 60))
  on conflict do nothing
  returning * into v_flow;
  if v_flow.flow_slug is null then
    -- Another transaction created it first (we waited for its commit).
    select * into v_flow from pgflow.flows f where f.flow_slug = create_flow.flow_slug;
    return v_flow;
  end if;

  perform pgmq.create(create_flow.flow_slug);
  return v_flow;
end;
$$;
`,
      `create function pgflow.add_step(
  flow_slug text,
  step_slug text,
  deps_slugs text[] default '{}',
  max_attempts int default null,
  base_delay int default null,
  timeout int default null,
  start_delay int default null,
  step_type text default 'single',
  required_input_pattern jsonb default null,
  forbidden_input_pattern jsonb default null,
  when_unmet text default 'skip',
  when_exhausted text default 'fail'
)
returns pgflow.steps
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_step pgflow.steps;
  v_deps text[];
  v_unknown text[];
  v_problem text := pgflow._slug_problem(add_step.step_slug);
begin
  -- Locking the flow serializes step_index assignment between concurrent add_step calls.
  perform 1 from pgflow.flows f where f.flow_slug = add_step.flow_slug for update;
  if not found then
    raise exception using errcode = 'PF002',
      message = format('Flow %L does not exist.', add_step.flow_slug),
      hint = 'Create it first with pgflow.create_flow(flow_slug).';
  end if;
  select * into v_step from pgflow.steps s
   where s.flow_slug = add_step.flow_slug and s.step_slug = add_step.step_slug;
  if found then
    return v_step;
  end if;

  if v_problem is not null then
    raise exception using errcode = 'PF001',
      message = format('Invalid step slug %L in flow %L: %s.', add_step.step_slug, add_step.flow_slug, v_problem),
      hint = 'Use a slug like "fetch_page": a letter or underscore, then letters, digits and underscores.';
  end if;
  if add_step.step_type is null or add_step.step_type not in ('single', 'map') then
    raise exception using errcode = 'PF007',
      message = format('Invalid step_type %L for step %L: it must be ''single'' or ''map''.',
                       add_step.step_type, add_step.step_slug),
      hint = 'Pass step_type => ''single'' (the default) or ''map''.';
  end if;
  if add_step.when_unmet is null or add_step.when_unmet not in ('fail', 'skip', 'skip-cascade') then
    raise exception using errcode = 'PF007',
      message = format('Invalid when_unmet %L for step %L.', add_step.when_unmet, add_step.step_slug),
      hint = 'Use ''skip'' (the default), ''skip-cascade'' or ''fail''.';
  end if;
  if add_step.when_exhausted is null or add_step.when_exhausted not in ('fail', 'skip', 'skip-cascade') then
    raise exception using errcode = 'PF007',
      message = format('Invalid when_exhausted %L for step %L.', add_step.when_exhausted, add_step.step_slug),
      hint = 'Use ''fail'' (the default), ''skip'' or ''skip-cascade''.';
  end if;
  if add_step.required_input_pattern is not null and jsonb_typeof(add_step.required_input_pattern) <> 'object' then
    raise exception using errcode = 'PF007',
      message = format('Invalid required_input_pattern for step %L: %s is not a JSON object.',
                       add_step.step_slug, add_step.required_input_pattern),
      hint = 'A condition pattern is a JSON object that the step''s input must contain, e.g. {"kind": "page"}.';
  end if;
  if add_step.forbidden_input_pattern is not null and jsonb_typeof(add_step.forbidden_input_pattern) <> 'object' then
    raise exception using errcode = 'PF007',
      message = format('Invalid forbidden_input_pattern for step %L: %s is not a JSON object.',
                       add_step.step_slug, add_step.forbidden_input_pattern),
      hint = 'A condition pattern is a JSON object that the step''s input must not contain, e.g. {"skip": true}.';
  end if;
  perform pgflow._assert_option('max_attempts', add_step.max_attempts, 0);
  perform pgflow._assert_option('base_delay', add_step.base_delay, 0);
  perform pgflow._assert_option('timeout', add_step.timeout, 1);
  perform pgflow._assert_option('start_delay', add_step.start_delay, 0);

  select coalesce(array_agg(distinct d), '{}') into v_deps from unnest(add_step.deps_slugs) d;
  if add_step.step_slug = any(v_deps) then
    raise exception using errcode = 'PF004',
      message = format('Step %L of flow %L depends on itself.', add_step.step_slug, add_step.flow_slug),
      hint = 'Remove the step from its own dependencies.';
  end if;
  select array_agg(d order by d) into v_unknown from unnest(v_deps) d
   where not exists (select 1 from pgflow.steps s where s.flow_slug = add_step.flow_slug and s.step_slug = d);
  if v_unknown is not null then
    raise exception using errcode = 'PF003',
      message = format('Step %L of flow %L depends on unknown step(s): %s.',
                       add_step.step_slug, add_step.flow_slug, array_to_string(v_unknown, ', ')),
      hint = 'Add every dependency before the steps that depend on it, and check the slugs.';
  end if;
  if add_step.step_type = 'map' and cardinality(v_deps) > 1 then
    raise exception using errcode = 'PF005',
      message = format('Map step %L of flow %L has %s dependencies (%s): a map step maps over one array.',
                       add_step.step_slug, add_step.flow_slug, cardinality(v_deps), array_to_string(v_deps, ', ')),
      hint = 'Give the map step a single dependency that outputs an array, or none to map over the flow input.';
  end if;

  insert into pgflow.steps (flow_slug, step_slug, step_type, step_index, deps_count, opt_max_attempts,
                            opt_base_delay, opt_timeout, opt_start_delay, required_input_pattern,
                            forbidden_input_pattern, when_unmet, when_exhausted)
  select add_step.flow_slug, add_step.step_slug, add_step.step_type,
         coalesce((select max(s.step_index) + 1 from pgflow.steps s where s.flow_slug = add_step.flow_slug), 0),
         cardinality(v_deps), add_step.max_attempts, add_step.base_delay, add_step.timeout, add_step.start_delay,
         add_step.required_input_pattern, add_step.forbidden_input_pattern, add_step.when_unmet,
         add_step.when_exhausted
  returning * into v_step;

  insert into pgflow.deps (flow_slug, dep_slug, step_slug)
  select add_step.flow_slug, d, add_step.step_slug from unnest(v_deps) d;
  return v_step;
end;
$$;
`,
      `create function pgflow._propagate_completed_steps(p_run_ids uuid[], p_step_slugs text[])
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_child_runs uuid[];
  v_child_steps text[];
  v_completed_parents int[];
  v_array_lengths int[];
  v_ready int := 0;
begin
  -- The edges are gathered first and the children updated by key afterwards: as one statement, the
  -- planner (without statistics) may re-run the edge query for every step state of the run.
  select array_agg(edge.run_id), array_agg(edge.step_slug), array_agg(edge.completed_parents),
         array_agg(edge.parent_array_length)
    into v_child_runs, v_child_steps, v_completed_parents, v_array_lengths
    from (
      select parent.run_id, dep.step_slug, count(*)::int as completed_parents,
             -- A dependent map learns how many tasks it has from its (only) dependency's array.
             max(case when child_step.step_type = 'map' then
                   case when parent_step.step_type = 'map' then parent.initial_tasks
                        when jsonb_typeof(parent.output) = 'array' then jsonb_array_length(parent.output) end
                 end) as parent_array_length
        from unnest(p_run_ids, p_step_slugs) as done(run_id, step_slug)
        join pgflow.step_states parent on parent.run_id = done.run_id and parent.step_slug = done.step_slug
        join pgflow.steps parent_step
          on parent_step.flow_slug = parent.flow_slug and parent_step.step_slug = parent.step_slug
        join pgflow.deps dep on dep.flow_slug = parent.flow_slug and dep.dep_slug = parent.step_slug
        join pgflow.steps child_step on child_step.flow_slug = dep.flow_slug and child_step.step_slug = dep.step_slug
       group by parent.run_id, dep.step_slug
    ) edge;

  if v_child_runs is not null then
    with released as (
      update pgflow.step_states child
         set remaining_deps = child.remaining_deps - edge.completed_parents,
             initial_tasks = coalesce(child.initial_tasks, edge.parent_array_length)
        from unnest(v_child_runs, v_child_steps, v_completed_parents, v_array_lengths)
               as edge(run_id, step_slug, completed_parents, parent_array_length)
       where child.run_id = edge.run_id and child.step_slug = edge.step_slug and child.status = 'created'
      returning child.remaining_deps
    )
    select count(*) filter (where r.remaining_deps = 0) into v_ready from released r;
  end if;

  update pgflow.runs r
     set remaining_steps = r.remaining_steps - done.steps
    from (select d.run_id, count(*)::int as steps from unnest(p_run_ids) d(run_id) group by d.run_id) done
   where r.run_id = done.run_id;
  return v_ready;
end;
$$;
`,
      `create function pgflow._skip_steps(
  p_run_ids uuid[], p_step_slugs text[], p_reason text, p_cascade boolean, p_error_message text default null
)
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_skipped pgflow.step_states[];
  v_message record;
begin
  with recursive closure(run_id, flow_slug, step_slug, is_initial) as (
    select s.run_id, s.flow_slug, s.step_slug, true
      from unnest(p_run_ids, p_step_slugs) as i(run_id, step_slug)
      join pgflow.step_states s on s.run_id = i.run_id and s.step_slug = i.step_slug
      join pgflow.runs r on r.run_id = s.run_id and r.status = 'started'
     where s.status in ('created', 'started')
    union
    select c.run_id, c.flow_slug, dep.step_slug, false
      from closure c
      join pgflow.deps dep on dep.flow_slug = c.flow_slug and dep.dep_slug = c.step_slug
      join pgflow.steps child on child.flow_slug = dep.flow_slug and child.step_slug = dep.step_slug
     where p_cascade or child.step_type = 'map'
  ),
  targets as (
    select distinct on (run_id, step_slug) run_id, step_slug, is_initial
      from closure order by run_id, step_slug, is_initial desc
  ),
  skipped as (
    update pgflow.step_states s
       set status = 'skipped',
           skipped_at = now(),
           skip_reason = case when t.is_initial then p_reason else 'dependency_skipped' end,
           error_message = case when t.is_initial then p_error_message end
      from targets t
     where s.run_id = t.run_id and s.step_slug = t.step_slug
       and (s.status = 'created' or (t.is_initial and s.status = 'started'))
    returning s.*
  )
  -- In definition order (dependencies before their dependents), whatever order the update took.
  select array_agg(k order by k.run_id, step.step_index) into v_skipped
    from skipped k
    join pgflow.steps step on step.flow_slug = k.flow_slug and step.step_slug = k.step_slug;
  if v_skipped is null then
    return 0;
  end if;

  perform pgflow._emit_step_events('step:skipped', v_skipped);

  -- Tasks of a skipped step that are still queued or running will never count: drop their messages.
  for v_message in
    select t.flow_slug, array_agg(t.message_id) as ids
      from unnest(v_skipped) s
      join pgflow.step_tasks t on t.run_id = s.run_id and t.step_slug = s.step_slug
     where t.status in ('queued', 'started') and t.message_id is not null
     group by t.flow_slug
  loop
    perform pgmq.archive(v_message.flow_slug, v_message.ids);
  end loop;

  with edge as materialized (
    select s.run_id, dep.step_slug, count(*)::int as skipped_parents
      from unnest(v_skipped) s
      join pgflow.deps dep on dep.flow_slug = s.flow_slug and dep.dep_slug = s.step_slug
     group by s.run_id, dep.step_slug
  )
  update pgflow.step_states child
     set remaining_deps = child.remaining_deps - edge.skipped_parents
    from edge
   where child.run_id = edge.run_id and child.step_slug = edge.step_slug and child.status = 'created'
     and child.run_id = any(array(select s.run_id from unnest(v_skipped) s));

  update pgflow.runs r
     set remaining_steps = r.remaining_steps - done.steps
    from (select s.run_id, count(*)::int as steps from unnest(v_skipped) s group by s.run_id) done
   where r.run_id = done.run_id;

  return cardinality(v_skipped);
end;
$$;
`,
      `create function pgflow._fail_run(p_run_id uuid, p_step_slug text, p_error_message text)
returns void
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_state pgflow.step_states;
  v_run pgflow.runs;
  v_message record;
begin
  update pgflow.step_states s
     set status = 'failed', failed_at = now(), error_message = p_error_message
   where s.run_id = p_run_id and s.step_slug = p_step_slug and s.status in ('created', 'started')
  returning * into v_state;
  update pgflow.runs r
     set status = 'failed', failed_at = now()
   where r.run_id = p_run_id and r.status = 'started'
  returning * into v_run;

  for v_message in
    select t.flow_slug, array_agg(t.message_id) as ids
      from pgflow.step_tasks t
     where t.run_id = p_run_id and t.status in ('queued', 'started') and t.message_id is not null
     group by t.flow_slug
  loop
    perform pgmq.archive(v_message.flow_slug, v_message.ids);
  end loop;

  if v_state.run_id is not null then
    perform pgflow._emit_step_events('step:failed', array[v_state]);
  end if;
  if v_run.run_id is not null then
    perform pgflow._emit_run_events('run:failed', array[v_run],
      jsonb_build_object('step_slug', p_step_slug, 'error_message', p_error_message));
  end if;
end;
$$;
`,
      `create function pgflow._resolve_conditions(p_run_ids uuid[])
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_unmet record;
  v_count int := 0;
begin
  for v_unmet in
    select s.run_id, s.step_slug, step.when_unmet
      from pgflow.step_states s
      join pgflow.runs r on r.run_id = s.run_id and r.status = 'started'
      join pgflow.steps step on step.flow_slug = s.flow_slug and step.step_slug = s.step_slug
      cross join lateral (
        select case when step.deps_count = 0 then r.input
                    else coalesce((select jsonb_object_agg(dep_state.step_slug, dep_state.output)
                                     from pgflow.deps dep
                                     join pgflow.step_states dep_state
                                       on dep_state.run_id = s.run_id and dep_state.step_slug = dep.dep_slug
                                    where dep.flow_slug = s.flow_slug and dep.step_slug = s.step_slug
                                      and dep_state.status = 'completed'), '{}'::jsonb)
               end as value
      ) condition_input
     where s.run_id = any(p_run_ids) and s.status = 'created' and s.remaining_deps = 0
       and (step.required_input_pattern is not null or step.forbidden_input_pattern is not null)
       and not ((step.required_input_pattern is null or condition_input.value @> step.required_input_pattern)
                and (step.forbidden_input_pattern is null
                     or not condition_input.value @> step.forbidden_input_pattern))
     -- Failing policies first: a run that fails skips nothing more.
     order by s.run_id, (step.when_unmet = 'fail') desc, s.step_slug
  loop
    v_count := v_count + 1;
    if v_unmet.when_unmet = 'fail' then
      perform pgflow._fail_run(v_unmet.run_id, v_unmet.step_slug,
        format('Condition not met for step %L and its when_unmet policy is ''fail''.', v_unmet.step_slug));
    else
      perform pgflow._skip_steps(array[v_unmet.run_id], array[v_unmet.step_slug], 'condition_unmet',
                                 v_unmet.when_unmet = 'skip-cascade');
    end if;
  end loop;
  return v_count;
end;
$$;
`,
      `create function pgflow._complete_taskless_steps(p_run_ids uuid[])
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_done pgflow.step_states[];
begin
  with done as (
    update pgflow.step_states s
       set status = 'completed', completed_at = now(), remaining_tasks = 0, output = '[]'::jsonb
      from pgflow.runs r
     where s.run_id = any(p_run_ids) and r.run_id = s.run_id and r.status = 'started'
       and s.status = 'created' and s.remaining_deps = 0 and s.initial_tasks = 0
    returning s.*
  )
  select array_agg(done) into v_done from done;
  if v_done is null then
    return 0;
  end if;
  perform pgflow._emit_step_events('step:completed', v_done);
  perform pgflow._propagate_completed_steps(
    array(select s.run_id from unnest(v_done) s order by s.run_id, s.step_slug),
    array(select s.step_slug from unnest(v_done) s order by s.run_id, s.step_slug));
  return cardinality(v_done);
end;
$$;
`,
      `create function pgflow._start_ready_steps(p_run_ids uuid[])
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_started pgflow.step_states[];
  v_batch record;
begin
  with started as (
    update pgflow.step_states s
       set status = 'started', started_at = now(), remaining_tasks = s.initial_tasks
      from pgflow.runs r
     where s.run_id = any(p_run_ids) and r.run_id = s.run_id and r.status = 'started'
       and s.status = 'created' and s.remaining_deps = 0 and s.initial_tasks > 0
    returning s.*
  )
  select array_agg(started) into v_started from started;
  if v_started is null then
    return 0;
  end if;
  perform pgflow._emit_step_events('step:started', v_started);

  for v_batch in
    select distinct s.flow_slug, coalesce(step.opt_start_delay, 0) as delay
      from unnest(v_started) s
      join pgflow.steps step on step.flow_slug = s.flow_slug and step.step_slug = s.step_slug
  loop
    with tasks as materialized (
      select s.flow_slug, s.run_id, s.step_slug, task.task_index, task.input,
             row_number() over (order by s.run_id, s.step_slug, task.task_index) as position
        from unnest(v_started) s
        join pgflow.steps step on step.flow_slug = s.flow_slug and step.step_slug = s.step_slug
        join pgflow.runs r on r.run_id = s.run_id
        cross join lateral (
          select 0 as task_index, null::jsonb as input
           where step.step_type = 'single'
          union all
          select (element.position - 1)::int, element.value
            from jsonb_array_elements(
                   case when step.step_type <> 'map' then null
                        when step.deps_count = 0 then r.input
                        else (select parent.output
                                from pgflow.deps dep
                                join pgflow.step_states parent
                                  on parent.run_id = s.run_id and parent.step_slug = dep.dep_slug
                               where dep.flow_slug = step.flow_slug and dep.step_slug = step.step_slug)
                   end) with ordinality as element(value, position)
        ) task
       where s.flow_slug = v_batch.flow_slug and coalesce(step.opt_start_delay, 0) = v_batch.delay
    ),
    sent as (
      -- send_batch returns the ids in ascending order, the order of the messages in the array.
      select message.id, row_number() over (order by message.id) as position
        from pgmq.send_batch(
               v_batch.flow_slug,
               (select array_agg(jsonb_build_object('flow_slug', t.flow_slug, 'run_id', t.run_id,
                                                    'step_slug', t.step_slug, 'task_index', t.task_index)
                                 order by t.position)
                  from tasks t),
               v_batch.delay) as message(id)
    )
    insert into pgflow.step_tasks (flow_slug, run_id, step_slug, task_index, message_id, input)
    select t.flow_slug, t.run_id, t.step_slug, t.task_index, sent.id, t.input
      from tasks t join sent on sent.position = t.position;

    if v_batch.delay = 0 then
      -- Wakes idle workers of this flow at once instead of at their next poll.
      perform pg_notify('pgflow:work', v_batch.flow_slug);
    end if;
  end loop;
  return cardinality(v_started);
end;
$$;
`,
      `create function pgflow._complete_finished_runs(p_run_ids uuid[])
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_done pgflow.runs[];
begin
  with done as (
    update pgflow.runs r
       set status = 'completed',
           completed_at = now(),
           output = coalesce((
             select jsonb_object_agg(s.step_slug, s.output)
               from pgflow.step_states s
              where s.run_id = r.run_id and s.status = 'completed'
                and not exists (select 1 from pgflow.deps dep
                                 where dep.flow_slug = s.flow_slug and dep.dep_slug = s.step_slug)), '{}'::jsonb)
     where r.run_id = any(p_run_ids) and r.status = 'started' and r.remaining_steps = 0
    returning r.*
  )
  select array_agg(done) into v_done from done;
  if v_done is null then
    return 0;
  end if;
  perform pgflow._emit_run_events('run:completed', v_done);
  return cardinality(v_done);
end;
$$;
`,
      `create function pgflow._advance_runs(p_run_ids uuid[])
returns void
language plpgsql
volatile
set search_path to ''
as $$
begin
  -- Conditions and steps without tasks exist only in flows with conditional or map steps: most
  -- flows skip the loop after one look at their definitions.
  if exists (select 1 from pgflow.runs r join pgflow.steps step on step.flow_slug = r.flow_slug
              where r.run_id = any(p_run_ids)
                and (step.step_type = 'map' or step.required_input_pattern is not null
                     or step.forbidden_input_pattern is not null)) then
    loop
      exit when pgflow._resolve_conditions(p_run_ids) + pgflow._complete_taskless_steps(p_run_ids) = 0;
    end loop;
  end if;
  perform pgflow._start_ready_steps(p_run_ids);
  perform pgflow._complete_finished_runs(p_run_ids);
end;
$$;
`,
      `create function pgflow.start_ready_steps(run_id uuid)
returns void
language sql
volatile
set search_path to ''
as $$
  select from pgflow._start_ready_steps(array[start_ready_steps.run_id]);
$$;

create function pgflow.maybe_complete_run(run_id uuid)
returns void
language sql
volatile
set search_path to ''
as $$
  select from pgflow._complete_finished_runs(array[maybe_complete_run.run_id]);
$$;

create function pgflow.cascade_complete_taskless_steps(run_id uuid)
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_total int := 0;
  v_round int;
begin
  loop
    v_round := pgflow._complete_taskless_steps(array[cascade_complete_taskless_steps.run_id]);
    exit when v_round = 0;
    v_total := v_total + v_round;
  end loop;
  return v_total;
end;
$$;
`,
      `create function pgflow.start_flows(flow_slug text, inputs jsonb, run_ids uuid[] default null)
returns setof pgflow.runs
language plpgsql
volatile
-- JIT compilation costs far more than these short statements ever run.
set jit to off
-- One plan per statement, planned once per session: the statements look rows up by key, so a plan
-- that ignores the arguments is as good, and re-planning each call cost more than running it.
set plan_cache_mode to force_generic_plan
-- Every lookup here goes by key. A plan made while the tables were small would scan them whole
-- once they have grown (and the plan is kept for the session): index paths only.
set enable_seqscan to off
set search_path to ''
as $$
declare
  v_count int;
  v_root_map text;
  v_bad record;
  v_ids uuid[];
  v_runs pgflow.runs[];
begin
  if jsonb_typeof(start_flows.inputs) is distinct from 'array' then
    raise exception using errcode = 'PF007',
      message = format('inputs must be a JSON array (one element per run), not %s.',
                       coalesce(jsonb_typeof(start_flows.inputs), 'null')),
      hint = 'Pass ["input of run 1", "input of run 2", ...].';
  end if;
  v_count := jsonb_array_length(start_flows.inputs);
  if start_flows.run_ids is not null and cardinality(start_flows.run_ids) is distinct from v_count then
    raise exception using errcode = 'PF007',
      message = format('start_flows got %s inputs but %s run ids.', v_count, coalesce(cardinality(start_flows.run_ids), 0)),
      hint = 'Pass one run id per input (a null element lets the engine choose it), or run_ids => null.';
  end if;
  perform 1 from pgflow.flows f where f.flow_slug = start_flows.flow_slug;
  if not found then
    raise exception using errcode = 'PF002',
      message = format('Flow %L does not exist.', start_flows.flow_slug),
      hint = 'Check the slug, or compile the flow first (pgflow.create_flow / ensure_flow_compiled).';
  end if;
  select s.step_slug into v_root_map from pgflow.steps s
   where s.flow_slug = start_flows.flow_slug and s.step_type = 'map' and s.deps_count = 0
   order by s.step_index limit 1;
  if v_root_map is not null then
    select x.n, jsonb_typeof(x.value) as type into v_bad
      from jsonb_array_elements(start_flows.inputs) with ordinality as x(value, n)
     where jsonb_typeof(x.value) <> 'array'
     order by x.n limit 1;
    if found then
      raise exception using errcode = 'PF006',
        message = format('Flow %L maps over its input in step %L, so its input must be a JSON array, not %s.',
                         start_flows.flow_slug, v_root_map, v_bad.type)
                  || case when v_count > 1 then format(' (input %s of %s)', v_bad.n, v_count) else '' end,
        hint = 'Pass a JSON array as the input, e.g. ["a", "b"].';
    end if;
  end if;
  if v_count = 0 then
    return;
  end if;

  select array_agg(coalesce(start_flows.run_ids[n], gen_random_uuid()) order by n) into v_ids
    from generate_series(1, v_count) n;
  with inserted as (
    insert into pgflow.runs (run_id, flow_slug, input, remaining_steps)
    select i.run_id, start_flows.flow_slug, x.value,
           (select count(*) from pgflow.steps s where s.flow_slug = start_flows.flow_slug)
      from jsonb_array_elements(start_flows.inputs) with ordinality as x(value, n)
      join unnest(v_ids) with ordinality as i(run_id, n) on i.n = x.n
     order by x.n
    on conflict do nothing
    returning *
  )
  select array_agg(r) into v_runs from inserted r;
  if coalesce(cardinality(v_runs), 0) < v_count then
    -- The first id, in input order, that was not inserted: it existed, or it came twice.
    raise exception using errcode = 'PF008',
      message = format('Run %s already exists.',
                       (select i.run_id
                          from (select u.run_id, u.n, row_number() over (partition by u.run_id order by u.n) as k
                                  from unnest(v_ids) with ordinality as u(run_id, n)) i
                          left join unnest(v_runs) r on r.run_id = i.run_id
                         where i.k > 1 or r.run_id is null
                         order by i.n limit 1)),
      hint = 'Pass a new run_id, or null to let the engine choose one.';
  end if;

  insert into pgflow.step_states (flow_slug, run_id, step_slug, remaining_deps, initial_tasks)
  select s.flow_slug, r.run_id, s.step_slug, s.deps_count,
         case when s.step_type = 'single' then 1
              when s.deps_count = 0 and jsonb_typeof(r.input) = 'array' then jsonb_array_length(r.input) end
    from unnest(v_runs) r
    cross join pgflow.steps s
   where s.flow_slug = start_flows.flow_slug;

  perform pgflow._emit_run_events('run:started', v_runs);
  perform pgflow._advance_runs(v_ids);
  return query
    select r.* from unnest(v_ids) with ordinality as i(run_id, n)
      cross join lateral (select * from pgflow.runs x where x.run_id = i.run_id) r
     order by i.n;
end;
$$;
`,
      `create function pgflow.start_flow(flow_slug text, input jsonb, run_id uuid default null)
returns setof pgflow.runs
language sql
volatile
-- JIT compilation costs far more than these short statements ever run.
set jit to off
-- One plan per statement, planned once per session: the statements look rows up by key, so a plan
-- that ignores the arguments is as good, and re-planning each call cost more than running it.
set plan_cache_mode to force_generic_plan
-- Every lookup here goes by key. A plan made while the tables were small would scan them whole
-- once they have grown (and the plan is kept for the session): index paths only.
set enable_seqscan to off
set search_path to ''
as $$
  select * from pgflow.start_flows(start_flow.flow_slug, jsonb_build_array(coalesce(start_flow.input, 'null'::jsonb)),
                                   case when start_flow.run_id is not null then array[start_flow.run_id] end);
$$;
`,
      `create function pgflow.set_vt_batch(queue_name text, msg_ids bigint[], vt_offsets int[])
returns table (msg_id bigint, read_ct int, enqueued_at timestamptz, vt timestamptz, message jsonb, headers jsonb)
language plpgsql
volatile
set search_path to ''
as $$
begin
  if cardinality(set_vt_batch.msg_ids) is distinct from cardinality(set_vt_batch.vt_offsets) then
    raise exception using errcode = 'PF007',
      message = format('set_vt_batch got %s message ids but %s offsets.',
                       cardinality(set_vt_batch.msg_ids), cardinality(set_vt_batch.vt_offsets)),
      hint = 'Pass one visibility offset (in seconds) per message id.';
  end if;
  return query execute format(
    'update pgmq.%I q
        set vt = clock_timestamp() + make_interval(secs => v.vt_offset)
       from unnest($1::bigint[], $2::int[]) as v(msg_id, vt_offset)
      where q.msg_id = v.msg_id
     returning q.msg_id, q.read_ct, q.enqueued_at, q.vt, q.message, q.headers',
    pgmq.format_table_name(set_vt_batch.queue_name, 'q'))
  using set_vt_batch.msg_ids, set_vt_batch.vt_offsets;
end;
$$;
`,
      `create function pgflow._find_task_by_message(p_flow_slug text, p_msg_id bigint)
returns table (ctid tid, run_id uuid, step_slug text, status text)
language sql
stable
rows 1
set search_path to ''
as $$
  select t.ctid, t.run_id, t.step_slug, t.status
    from pgflow.step_tasks t
   where t.flow_slug = p_flow_slug and t.message_id = p_msg_id
$$;
`,
      `create function pgflow._start_tasks(
  p_flow_slug text, p_msg_ids bigint[], p_worker_id uuid, p_known_run_ids uuid[] default null,
  p_read_vt int default null
)
returns table (flow_slug text, run_id uuid, step_slug text, input jsonb, msg_id bigint, task_index int,
               flow_input jsonb, attempt int, timeout_seconds int)
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_candidates tid[];
  v_started tid[];
  v_msg_ids bigint[];
  v_offsets int[];
begin
  -- Queued tasks behind the messages, of runs and steps that are still started. A run failing at
  -- this very moment may still have a task started here; its completion will then change nothing.
  with found as (
    select t.ctid, t.run_id, t.step_slug
      from pgflow.step_tasks t
     where t.message_id = any(p_msg_ids) and t.flow_slug = p_flow_slug and t.status = 'queued'
  ),
  live as (
    select k.run_id, k.step_slug
      from (select distinct f.run_id, f.step_slug from found f) k
     where exists (select 1 from pgflow.runs r where r.run_id = k.run_id and r.status = 'started')
       and exists (select 1 from pgflow.step_states s
                    where s.run_id = k.run_id and s.step_slug = k.step_slug and s.status = 'started')
  )
  select array_agg(f.ctid) into v_candidates
    from found f join live l on l.run_id = f.run_id and l.step_slug = f.step_slug;
  if v_candidates is null then
    return;
  end if;

  -- By ctid only: the one plan the planner can choose is a TID scan.
  with started as (
    update pgflow.step_tasks t
       set status = 'started', started_at = now(), attempts_count = t.attempts_count + 1,
           last_worker_id = p_worker_id
     where t.ctid = any(v_candidates) and t.status = 'queued'
    returning t.ctid, t.step_slug, t.message_id
  )
  , offsets as (
    -- The task stays invisible for the step's timeout (else the flow's) plus 2 seconds.
    select st.ctid, st.message_id, coalesce(step.opt_timeout, flow.opt_timeout) + 2 as vt_offset
      from started st
      join pgflow.steps step on step.flow_slug = p_flow_slug and step.step_slug = st.step_slug
      join pgflow.flows flow on flow.flow_slug = p_flow_slug
  )
  select array_agg(o.ctid),
         -- A message read with this very offset a moment ago (p_read_vt) needs no second update.
         array_agg(o.message_id) filter (where o.vt_offset is distinct from p_read_vt),
         array_agg(o.vt_offset) filter (where o.vt_offset is distinct from p_read_vt)
    into v_started, v_msg_ids, v_offsets
    from offsets o;
  if v_started is null then
    return;
  end if;
  if v_msg_ids is not null then
    perform from pgflow.set_vt_batch(p_flow_slug, v_msg_ids, v_offsets);
  end if;

  return query
  select p_flow_slug, t.run_id, t.step_slug,
         case when step.step_type = 'map' then t.input
              else coalesce((select jsonb_object_agg(dep.dep_slug, dep_state.output)
                               from pgflow.deps dep
                               join pgflow.step_states dep_state
                                 on dep_state.run_id = t.run_id and dep_state.step_slug = dep.dep_slug
                              where dep.flow_slug = p_flow_slug and dep.step_slug = t.step_slug
                                and dep_state.status = 'completed'), '{}'::jsonb)
         end,
         t.message_id, t.task_index,
         case when p_known_run_ids is null then (select r.input from pgflow.runs r where r.run_id = t.run_id)
              when t.run_id = any(p_known_run_ids)
                or t.message_id <> min(t.message_id) over (partition by t.run_id) then null
              else (select r.input from pgflow.runs r where r.run_id = t.run_id) end,
         t.attempts_count, coalesce(step.opt_timeout, flow.opt_timeout)
    from pgflow.step_tasks t
    join pgflow.steps step on step.flow_slug = p_flow_slug and step.step_slug = t.step_slug
    join pgflow.flows flow on flow.flow_slug = p_flow_slug
   where t.ctid = any(v_started)
   order by t.message_id;
end;
$$;
`,
      `create function pgflow.start_tasks(flow_slug text, msg_ids bigint[], worker_id uuid)
returns setof pgflow.step_task_record
language sql
volatile
-- JIT compilation costs far more than these short statements ever run.
set jit to off
-- One plan per statement, planned once per session: the statements look rows up by key, so a plan
-- that ignores the arguments is as good, and re-planning each call cost more than running it.
set plan_cache_mode to force_generic_plan
-- Every lookup here goes by key. A plan made while the tables were small would scan them whole
-- once they have grown (and the plan is kept for the session): index paths only.
set enable_seqscan to off
set search_path to ''
as $$
  select t.flow_slug, t.run_id, t.step_slug, t.input, t.msg_id, t.task_index, t.flow_input
    from pgflow._start_tasks(start_tasks.flow_slug, start_tasks.msg_ids, start_tasks.worker_id) t;
$$;
`,
      `create function pgflow._claim_tasks(
  p_flow_slug text, p_qty int, p_visibility_timeout int, p_worker_id uuid, p_known_run_ids uuid[] default '{}'
)
returns table (flow_slug text, run_id uuid, step_slug text, input jsonb, msg_id bigint, task_index int,
               flow_input jsonb, attempt int, timeout_seconds int)
language plpgsql
volatile
-- JIT compilation costs far more than these short statements ever run.
set jit to off
-- One plan per statement, planned once per session: the statements look rows up by key, so a plan
-- that ignores the arguments is as good, and re-planning each call cost more than running it.
set plan_cache_mode to force_generic_plan
-- Every lookup here goes by key. A plan made while the tables were small would scan them whole
-- once they have grown (and the plan is kept for the session): index paths only.
set enable_seqscan to off
set search_path to ''
as $$
declare
  v_msg_ids bigint[];
  v_dead bigint[];
  v_read_vt int;
  v_started int;
begin
  -- Read and start share this transaction, so the messages can be read with the visibility their
  -- tasks get when started (the longest step timeout + 2): most then need no second update.
  select greatest(p_visibility_timeout, max(coalesce(step.opt_timeout, flow.opt_timeout)) + 2) into v_read_vt
    from pgflow.steps step join pgflow.flows flow on flow.flow_slug = step.flow_slug
   where step.flow_slug = p_flow_slug;
  select array_agg(m.msg_id) into v_msg_ids
    from pgmq.read(p_flow_slug, coalesce(v_read_vt, p_visibility_timeout), p_qty) m;
  if v_msg_ids is null then
    return;
  end if;
  return query
    select * from pgflow._start_tasks(p_flow_slug, v_msg_ids, p_worker_id, coalesce(p_known_run_ids, '{}'), v_read_vt);
  get diagnostics v_started = row_count;
  if v_started = cardinality(v_msg_ids) then
    return;
  end if;

  select array_agg(m.msg_id) into v_dead
    from unnest(v_msg_ids) as m(msg_id)
    left join lateral pgflow._find_task_by_message(p_flow_slug, m.msg_id) task on true
   where task.run_id is null
      or task.status in ('completed', 'failed')
      or (task.status = 'queued'
          and (not exists (select 1 from pgflow.runs r where r.run_id = task.run_id and r.status = 'started')
               or not exists (select 1 from pgflow.step_states s where s.run_id = task.run_id
                                 and s.step_slug = task.step_slug and s.status = 'started')));
  if v_dead is not null then
    perform pgmq.archive(p_flow_slug, v_dead);
  end if;
end;
$$;
`,
      `create function pgflow._release_tasks(p_flow_slug text, p_msg_ids bigint[], p_worker_id uuid)
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_released bigint[];
begin
  with released as (
    update pgflow.step_tasks t
       set status = 'queued', attempts_count = greatest(t.attempts_count - 1, 0)
     where t.ctid = any(array(select task.ctid from unnest(p_msg_ids) as m(msg_id)
                               cross join lateral pgflow._find_task_by_message(p_flow_slug, m.msg_id) task))
       and t.status = 'started' and t.last_worker_id = p_worker_id
    returning t.message_id
  )
  select array_agg(r.message_id) into v_released from released r;
  if v_released is null then
    return 0;
  end if;
  perform from pgflow.set_vt_batch(p_flow_slug, v_released, array_fill(0, array[cardinality(v_released)]));
  return cardinality(v_released);
end;
$$;
`,
      `create function pgflow._next_visible_at(p_queue_name text)
returns timestamptz
language plpgsql
stable
set search_path to ''
as $$
declare
  v_next timestamptz;
begin
  execute format(
    'select min(q.vt) from pgmq.%I q
      where not exists (select 1 from pgflow.step_tasks t
                         where t.flow_slug = $1 and t.message_id = q.msg_id and t.status = ''started'')',
    pgmq.format_table_name(p_queue_name, 'q'))
  into v_next using p_queue_name;
  return v_next;
end;
$$;
`,
      `create function pgflow._find_task(p_run_id uuid, p_step_slug text, p_task_index int)
returns table (ctid tid, run_id uuid, step_slug text, task_index int, flow_slug text, message_id bigint, status text)
language sql
stable
-- A key finds at most one task: without this the planner assumes 1,000 rows per call.
rows 1
set search_path to ''
as $$
  select t.ctid, t.run_id, t.step_slug, t.task_index, t.flow_slug, t.message_id, t.status
    from pgflow.step_tasks t
   where t.run_id = p_run_id and t.step_slug = p_step_slug and t.task_index = p_task_index
$$;
`,
      `create function pgflow._complete_tasks(
  p_run_ids uuid[], p_step_slugs text[], p_task_indexes int[], p_outputs jsonb[]
)
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_live_runs uuid[];
  v_live_steps text[];
  v_dead_runs uuid[];
  v_dead_steps text[];
  v_violation record;
  v_message record;
  v_ctids tid[];
  v_outputs jsonb[];
  v_done_runs uuid[];
  v_done_steps text[];
  v_done_flows text[];
  v_done_messages bigint[];
  v_completed pgflow.step_states[];
begin
  -- Lock the runs, then their step states, in key order. Locked, their statuses cannot change
  -- under this transaction, so the step states found here sort the batch into live (run and step
  -- started: complete) and dead (either one over: a late call, whose message is only archived).
  perform 1 from pgflow.runs r where r.run_id = any(p_run_ids) order by r.run_id for update;
  with pairs as (
    select s.run_id, s.step_slug, s.status = 'started' and r.status = 'started' as live
      from (select distinct k.run_id, k.step_slug from unnest(p_run_ids, p_step_slugs) as k(run_id, step_slug)) k
      join pgflow.step_states s on s.run_id = k.run_id and s.step_slug = k.step_slug
      join pgflow.runs r on r.run_id = s.run_id
     order by s.run_id, s.step_slug
       for update of s
  )
  select array_agg(p.run_id) filter (where p.live), array_agg(p.step_slug) filter (where p.live),
         array_agg(p.run_id) filter (where not p.live), array_agg(p.step_slug) filter (where not p.live)
    into v_live_runs, v_live_steps, v_dead_runs, v_dead_steps
    from pairs p;

  -- A single step that feeds a map step must output an array, or the map has nothing to map over.
  -- Only outputs that are not arrays, of live single steps with a map dependent, are looked at.
  for v_violation in
    select distinct on (i.run_id, i.step_slug, i.task_index)
           i.run_id, i.step_slug, i.task_index, coalesce(i.output, 'null'::jsonb) as output,
           child.step_slug as map_slug
      from unnest(p_run_ids, p_step_slugs, p_task_indexes, p_outputs) as i(run_id, step_slug, task_index, output)
      join unnest(v_live_runs, v_live_steps) as live(run_id, step_slug)
        on live.run_id = i.run_id and live.step_slug = i.step_slug
      join pgflow.step_states s on s.run_id = i.run_id and s.step_slug = i.step_slug
      join pgflow.steps step
        on step.flow_slug = s.flow_slug and step.step_slug = s.step_slug and step.step_type = 'single'
      join pgflow.deps dep on dep.flow_slug = s.flow_slug and dep.dep_slug = s.step_slug
      join pgflow.steps child
        on child.flow_slug = dep.flow_slug and child.step_slug = dep.step_slug and child.step_type = 'map'
     where jsonb_typeof(coalesce(i.output, 'null'::jsonb)) <> 'array'
     order by i.run_id, i.step_slug, i.task_index, child.step_slug
  loop
    update pgflow.step_tasks t
       set status = 'failed', failed_at = now(), output = v_violation.output,
           error_message = format('[TYPE_VIOLATION] Produced %s instead of an array', jsonb_typeof(v_violation.output))
     where t.run_id = v_violation.run_id and t.step_slug = v_violation.step_slug
       and t.task_index = v_violation.task_index and t.status = 'started'
       and exists (select 1 from pgflow.runs r where r.run_id = t.run_id and r.status = 'started');
    if found then
      perform pgmq.archive(t.flow_slug, array[t.message_id])
         from pgflow.step_tasks t
        where t.run_id = v_violation.run_id and t.step_slug = v_violation.step_slug
          and t.task_index = v_violation.task_index and t.message_id is not null;
      perform pgflow._fail_run(v_violation.run_id, v_violation.step_slug,
        format('[TYPE_VIOLATION] Step %L produced %s, but map step %L depends on it and maps over an array.',
               v_violation.step_slug, jsonb_typeof(v_violation.output), v_violation.map_slug));
    end if;
  end loop;

  -- The tasks to complete, found one key at a time, then updated by ctid: a TID scan whatever the
  -- statistics (see _find_task).
  with found as (
    select task.ctid, coalesce(i.output, 'null'::jsonb) as output
      from unnest(p_run_ids, p_step_slugs, p_task_indexes, p_outputs) as i(run_id, step_slug, task_index, output)
      join unnest(v_live_runs, v_live_steps) as live(run_id, step_slug)
        on live.run_id = i.run_id and live.step_slug = i.step_slug
      cross join lateral pgflow._find_task(i.run_id, i.step_slug, i.task_index) task
     where task.status = 'started'
  )
  select array_agg(f.ctid), array_agg(f.output) into v_ctids, v_outputs from found f;

  if v_ctids is not null then
    with done as (
      update pgflow.step_tasks t
         set status = 'completed', completed_at = now(), output = v_outputs[array_position(v_ctids, t.ctid)]
       where t.ctid = any(v_ctids) and t.status = 'started'
         -- A violation above may have failed the run of some of these tasks.
         and exists (select 1 from pgflow.runs r where r.run_id = t.run_id and r.status = 'started')
      returning t.run_id, t.step_slug, t.flow_slug, t.message_id
    )
    select array_agg(d.run_id), array_agg(d.step_slug), array_agg(d.flow_slug), array_agg(d.message_id)
      into v_done_runs, v_done_steps, v_done_flows, v_done_messages
      from done d;
  end if;

  for v_message in
    select m.flow_slug, array_agg(distinct m.message_id) as ids
      from (
        select d.flow_slug, d.message_id from unnest(v_done_flows, v_done_messages) as d(flow_slug, message_id)
        union all
        -- A late call on a run or step that is over: its task will never run, drop its message.
        select task.flow_slug, task.message_id
          from unnest(p_run_ids, p_step_slugs, p_task_indexes) as i(run_id, step_slug, task_index)
          join unnest(v_dead_runs, v_dead_steps) as dead(run_id, step_slug)
            on dead.run_id = i.run_id and dead.step_slug = i.step_slug
          cross join lateral pgflow._find_task(i.run_id, i.step_slug, i.task_index) task
         where task.status in ('queued', 'started')
      ) m
     where m.message_id is not null
     group by m.flow_slug
  loop
    perform pgmq.archive(v_message.flow_slug, v_message.ids);
  end loop;
  if v_done_runs is null then
    return 0;
  end if;

  with finished as (
    select d.run_id, d.step_slug, count(*)::int as tasks
      from unnest(v_done_runs, v_done_steps) as d(run_id, step_slug)
     group by d.run_id, d.step_slug
  ),
  updated as (
    update pgflow.step_states s
       set remaining_tasks = s.remaining_tasks - f.tasks,
           status = case when s.remaining_tasks = f.tasks then 'completed' else s.status end,
           completed_at = case when s.remaining_tasks = f.tasks then now() end,
           output = case
             when s.remaining_tasks <> f.tasks then null
             -- A map step's output: its tasks' outputs in task order, whatever the completion order.
             when step.step_type = 'map' then
               (select jsonb_agg(t.output order by t.task_index) from pgflow.step_tasks t
                 where t.run_id = s.run_id and t.step_slug = s.step_slug)
             else
               (select t.output from pgflow.step_tasks t
                 where t.run_id = s.run_id and t.step_slug = s.step_slug and t.task_index = 0)
           end
      from finished f, pgflow.steps step
     where s.run_id = f.run_id and s.step_slug = f.step_slug
       and step.flow_slug = s.flow_slug and step.step_slug = s.step_slug
    returning s.*
  )
  select array_agg(u order by u.run_id, u.step_slug) filter (where u.status = 'completed')
    into v_completed
    from updated u;

  if v_completed is not null then
    perform pgflow._emit_step_events('step:completed', v_completed);
    if pgflow._propagate_completed_steps(
         array(select s.run_id from unnest(v_completed) s),
         array(select s.step_slug from unnest(v_completed) s)) > 0 then
      perform pgflow._advance_runs(array(select distinct s.run_id from unnest(v_completed) s));
    else
      -- No dependent became ready, so nothing can start or be skipped: only the runs whose last
      -- steps these were are left to complete.
      perform pgflow._complete_finished_runs(array(select distinct s.run_id from unnest(v_completed) s));
    end if;
  end if;
  return cardinality(v_done_runs);
end;
$$;
`,
      `create function pgflow._assert_task_exists(p_run_id uuid, p_step_slug text, p_task_index int)
returns void
language plpgsql
stable
set search_path to ''
as $$
begin
  perform 1 from pgflow.runs r where r.run_id = p_run_id;
  if not found then
    raise exception using errcode = 'PF009',
      message = format('Run %s does not exist.', p_run_id),
      hint = 'Check the run id: the run may have been deleted with its flow (delete_flow_and_data).';
  end if;
  perform 1 from pgflow.step_tasks t
   where t.run_id = p_run_id and t.step_slug = p_step_slug and t.task_index = p_task_index;
  if not found then
    raise exception using errcode = 'PF010',
      message = format('Run %s has no task %s of step %L.', p_run_id, p_task_index, p_step_slug),
      hint = 'Only a task returned by start_tasks can be completed or failed.';
  end if;
end;
$$;
`,
      `create function pgflow._assert_task_list(p_list jsonb, p_name text, p_payload_key text)
returns void
language plpgsql
immutable
set search_path to ''
as $$
declare
  v_bad jsonb;
begin
  if jsonb_typeof(p_list) is distinct from 'array' then
    raise exception using errcode = 'PF007',
      message = format('%s must be a JSON array, not %s.', p_name, coalesce(jsonb_typeof(p_list), 'null')),
      hint = format('Pass [{"run_id": ..., "step_slug": ..., "task_index": ..., "%s": ...}, ...].', p_payload_key);
  end if;
  select e into v_bad from jsonb_array_elements(p_list) e
   where jsonb_typeof(e) <> 'object'
      or jsonb_typeof(e -> 'run_id') is distinct from 'string'
      or jsonb_typeof(e -> 'step_slug') is distinct from 'string'
      or jsonb_typeof(e -> 'task_index') is distinct from 'number'
   limit 1;
  if found then
    raise exception using errcode = 'PF007',
      message = format('Invalid entry in %s: %s.', p_name, v_bad),
      hint = 'Each entry needs "run_id" (a uuid string), "step_slug" (a string) and "task_index" (a number).';
  end if;
end;
$$;
`,
      `create function pgflow.complete_tasks(completions jsonb)
returns int
language plpgsql
volatile
-- JIT compilation costs far more than these short statements ever run.
set jit to off
-- One plan per statement, planned once per session: the statements look rows up by key, so a plan
-- that ignores the arguments is as good, and re-planning each call cost more than running it.
set plan_cache_mode to force_generic_plan
-- Every lookup here goes by key. A plan made while the tables were small would scan them whole
-- once they have grown (and the plan is kept for the session): index paths only.
set enable_seqscan to off
set search_path to ''
as $$
begin
  perform pgflow._assert_task_list(complete_tasks.completions, 'completions', 'output');
  return pgflow._complete_tasks(
    array(select (e ->> 'run_id')::uuid from jsonb_array_elements(complete_tasks.completions) with ordinality x(e, n) order by n),
    array(select e ->> 'step_slug' from jsonb_array_elements(complete_tasks.completions) with ordinality x(e, n) order by n),
    array(select (e ->> 'task_index')::int from jsonb_array_elements(complete_tasks.completions) with ordinality x(e, n) order by n),
    array(select e -> 'output' from jsonb_array_elements(complete_tasks.completions) with ordinality x(e, n) order by n));
end;
$$;
`,
      `create function pgflow.complete_task(run_id uuid, step_slug text, task_index int, output jsonb)
returns setof pgflow.step_tasks
language plpgsql
volatile
-- JIT compilation costs far more than these short statements ever run.
set jit to off
-- One plan per statement, planned once per session: the statements look rows up by key, so a plan
-- that ignores the arguments is as good, and re-planning each call cost more than running it.
set plan_cache_mode to force_generic_plan
-- Every lookup here goes by key. A plan made while the tables were small would scan them whole
-- once they have grown (and the plan is kept for the session): index paths only.
set enable_seqscan to off
set search_path to ''
as $$
begin
  perform pgflow._assert_task_exists(complete_task.run_id, complete_task.step_slug, complete_task.task_index);
  perform pgflow._complete_tasks(array[complete_task.run_id], array[complete_task.step_slug],
                                 array[complete_task.task_index], array[complete_task.output]);
  return query select * from pgflow.step_tasks t
    where t.run_id = complete_task.run_id and t.step_slug = complete_task.step_slug
      and t.task_index = complete_task.task_index;
end;
$$;
`,
      `create function pgflow._fail_tasks(
  p_run_ids uuid[], p_step_slugs text[], p_task_indexes int[], p_error_messages text[],
  p_stalled boolean default false
)
returns int
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_item record;
  v_task record;
  v_delay int;
  v_count int := 0;
begin
  perform 1 from pgflow.runs r where r.run_id = any(p_run_ids) order by r.run_id for update;
  perform 1
     from pgflow.step_states s
     join (select distinct k.run_id, k.step_slug from unnest(p_run_ids, p_step_slugs) as k(run_id, step_slug)) k
       on s.run_id = k.run_id and s.step_slug = k.step_slug
    order by s.run_id, s.step_slug
      for update of s;

  for v_item in
    select distinct on (i.run_id, i.step_slug, i.task_index) i.*
      from unnest(p_run_ids, p_step_slugs, p_task_indexes, p_error_messages)
             as i(run_id, step_slug, task_index, error_message)
     order by i.run_id, i.step_slug, i.task_index
  loop
    -- Read the state afresh: an earlier item of this batch may have failed or skipped this run or step.
    select t.flow_slug, t.message_id, t.status, t.attempts_count,
           r.status as run_status, s.status as step_status,
           coalesce(step.opt_max_attempts, flow.opt_max_attempts) as max_attempts,
           coalesce(step.opt_base_delay, flow.opt_base_delay) as base_delay,
           step.when_exhausted
      into v_task
      from pgflow.step_tasks t
      join pgflow.runs r on r.run_id = t.run_id
      join pgflow.step_states s on s.run_id = t.run_id and s.step_slug = t.step_slug
      join pgflow.steps step on step.flow_slug = t.flow_slug and step.step_slug = t.step_slug
      join pgflow.flows flow on flow.flow_slug = t.flow_slug
     where t.run_id = v_item.run_id and t.step_slug = v_item.step_slug and t.task_index = v_item.task_index;
    continue when not found;

    if v_task.run_status <> 'started' or v_task.step_status <> 'started' then
      if v_task.status in ('queued', 'started') and v_task.message_id is not null then
        perform pgmq.archive(v_task.flow_slug, array[v_task.message_id]);
      end if;
      continue;
    end if;
    -- A late or repeated call: the task was already retried, completed or failed.
    continue when v_task.status <> 'started';
    v_count := v_count + 1;

    if not p_stalled and v_task.attempts_count < v_task.max_attempts then
      v_delay := pgflow.calculate_retry_delay(v_task.base_delay, v_task.attempts_count);
      update pgflow.step_tasks t
         set status = 'queued', error_message = v_item.error_message
       where t.run_id = v_item.run_id and t.step_slug = v_item.step_slug and t.task_index = v_item.task_index;
      perform pgmq.set_vt(v_task.flow_slug, v_task.message_id, v_delay);
      perform pgflow._emit_events(array[v_item.run_id], array[jsonb_build_object(
        'event_type', 'task:retrying', 'flow_slug', v_task.flow_slug, 'step_slug', v_item.step_slug,
        'task_index', v_item.task_index, 'status', 'queued', 'attempt', v_task.attempts_count,
        'error_message', v_item.error_message, 'retry_at', now() + make_interval(secs => v_delay))]);
    else
      update pgflow.step_tasks t
         set status = 'failed', failed_at = now(), error_message = v_item.error_message,
             permanently_stalled_at = case when p_stalled then now() end
       where t.run_id = v_item.run_id and t.step_slug = v_item.step_slug and t.task_index = v_item.task_index;
      perform pgmq.archive(v_task.flow_slug, array[v_task.message_id]);
      if v_task.when_exhausted = 'fail' then
        perform pgflow._fail_run(v_item.run_id, v_item.step_slug, v_item.error_message);
      else
        perform pgflow._skip_steps(array[v_item.run_id], array[v_item.step_slug], 'handler_failed',
                                   v_task.when_exhausted = 'skip-cascade', v_item.error_message);
        perform pgflow._advance_runs(array[v_item.run_id]);
      end if;
    end if;
  end loop;
  return v_count;
end;
$$;
`,
      `create function pgflow.fail_tasks(failures jsonb)
returns int
language plpgsql
volatile
-- JIT compilation costs far more than these short statements ever run.
set jit to off
-- One plan per statement, planned once per session: the statements look rows up by key, so a plan
-- that ignores the arguments is as good, and re-planning each call cost more than running it.
set plan_cache_mode to force_generic_plan
-- Every lookup here goes by key. A plan made while the tables were small would scan them whole
-- once they have grown (and the plan is kept for the session): index paths only.
set enable_seqscan to off
set search_path to ''
as $$
begin
  perform pgflow._assert_task_list(fail_tasks.failures, 'failures', 'error_message');
  return pgflow._fail_tasks(
    array(select (e ->> 'run_id')::uuid from jsonb_array_elements(fail_tasks.failures) with ordinality x(e, n) order by n),
    array(select e ->> 'step_slug' from jsonb_array_elements(fail_tasks.failures) with ordinality x(e, n) order by n),
    array(select (e ->> 'task_index')::int from jsonb_array_elements(fail_tasks.failures) with ordinality x(e, n) order by n),
    array(select e ->> 'error_message' from jsonb_array_elements(fail_tasks.failures) with ordinality x(e, n) order by n));
end;
$$;
`,
      `create function pgflow.fail_task(run_id uuid, step_slug text, task_index int, error_message text)
returns setof pgflow.step_tasks
language plpgsql
volatile
-- JIT compilation costs far more than these short statements ever run.
set jit to off
-- One plan per statement, planned once per session: the statements look rows up by key, so a plan
-- that ignores the arguments is as good, and re-planning each call cost more than running it.
set plan_cache_mode to force_generic_plan
-- Every lookup here goes by key. A plan made while the tables were small would scan them whole
-- once they have grown (and the plan is kept for the session): index paths only.
set enable_seqscan to off
set search_path to ''
as $$
begin
  perform pgflow._assert_task_exists(fail_task.run_id, fail_task.step_slug, fail_task.task_index);
  perform pgflow._fail_tasks(array[fail_task.run_id], array[fail_task.step_slug], array[fail_task.task_index],
                             array[fail_task.error_message]);
  return query select * from pgflow.step_tasks t
    where t.run_id = fail_task.run_id and t.step_slug = fail_task.step_slug and t.task_index = fail_task.task_index;
end;
$$;
`,
      `create function pgflow.requeue_stalled_tasks()
returns int
language plpgsql
volatile
-- JIT compilation costs far more than these short statements ever run.
set jit to off
-- One plan per statement, planned once per session: the statements look rows up by key, so a plan
-- that ignores the arguments is as good, and re-planning each call cost more than running it.
set plan_cache_mode to force_generic_plan
-- Every lookup here goes by key. A plan made while the tables were small would scan them whole
-- once they have grown (and the plan is kept for the session): index paths only.
set enable_seqscan to off
set search_path to ''
as $$
declare
  v_task record;
  v_requeued int := 0;
begin
  for v_task in
    select t.run_id, t.step_slug, t.task_index, t.flow_slug, t.message_id, t.requeued_count, t.started_at,
           coalesce(step.opt_timeout, flow.opt_timeout) as timeout
      from pgflow.step_tasks t
      join pgflow.steps step on step.flow_slug = t.flow_slug and step.step_slug = t.step_slug
      join pgflow.flows flow on flow.flow_slug = t.flow_slug
      join pgflow.step_states s on s.run_id = t.run_id and s.step_slug = t.step_slug and s.status = 'started'
     where t.status = 'started'
       and t.started_at < now() - make_interval(secs => coalesce(step.opt_timeout, flow.opt_timeout) + 30)
     order by t.run_id, t.step_slug, t.task_index
  loop
    perform 1 from pgflow.runs r where r.run_id = v_task.run_id and r.status = 'started' for update skip locked;
    continue when not found;
    perform 1 from pgflow.step_tasks t
     where t.run_id = v_task.run_id and t.step_slug = v_task.step_slug and t.task_index = v_task.task_index
       and t.status = 'started' and t.started_at = v_task.started_at
       for update skip locked;
    continue when not found;

    if v_task.requeued_count < 3 then
      update pgflow.step_tasks t
         set status = 'queued', requeued_count = t.requeued_count + 1, last_requeued_at = now()
       where t.run_id = v_task.run_id and t.step_slug = v_task.step_slug and t.task_index = v_task.task_index;
      perform pgmq.set_vt(v_task.flow_slug, v_task.message_id, 0);
      v_requeued := v_requeued + 1;
    else
      perform pgflow._fail_tasks(array[v_task.run_id], array[v_task.step_slug], array[v_task.task_index],
        array[format('Task %s of step %L stalled: not completed within its %s-second timeout, and already requeued %s times.',
                     v_task.task_index, v_task.step_slug, v_task.timeout, v_task.requeued_count)],
        true);
    end if;
  end loop;
  return v_requeued;
end;
$$;
`,
      `create function pgflow._report_and_claim(
  p_completions jsonb, p_failures jsonb, p_flow_slug text, p_qty int, p_visibility_timeout int,
  p_worker_id uuid, p_known_run_ids uuid[] default '{}'
)
returns table (run_id uuid, step_slug text, task_index int, msg_id bigint, input jsonb, flow_input jsonb,
               attempt int, timeout_seconds int, next_visible_at timestamptz, db_now timestamptz)
language plpgsql
volatile
-- JIT compilation costs far more than these short statements ever run.
set jit to off
-- One plan per statement, planned once per session: the statements look rows up by key, so a plan
-- that ignores the arguments is as good, and re-planning each call cost more than running it.
set plan_cache_mode to force_generic_plan
-- Every lookup here goes by key. A plan made while the tables were small would scan them whole
-- once they have grown (and the plan is kept for the session): index paths only.
set enable_seqscan to off
set search_path to ''
as $$
declare
  v_claimed int := 0;
  v_claiming boolean := p_flow_slug is not null and p_qty > 0;
begin
  -- Report first, then claim. Never the other way round: a claim reads messages with FOR UPDATE
  -- SKIP LOCKED, and in READ COMMITTED that can leave a lock on a message another worker claimed
  -- a moment ago (locked, re-checked, found invisible, kept locked until the commit). Reporting
  -- locks runs and then archives its own messages; a claim that went first would wait for those
  -- runs while holding such a lock, and two workers would deadlock.
  if jsonb_array_length(coalesce(p_completions, '[]')) > 0 then
    perform pgflow.complete_tasks(p_completions);
  end if;
  if jsonb_array_length(coalesce(p_failures, '[]')) > 0 then
    perform pgflow.fail_tasks(p_failures);
  end if;
  if not v_claiming then
    return;
  end if;
  -- Then what is ready, the report's next steps included, in one read.
  return query
    select c.run_id, c.step_slug, c.task_index, c.msg_id, c.input, c.flow_input, c.attempt, c.timeout_seconds,
           null::timestamptz, null::timestamptz
      from pgflow._claim_tasks(p_flow_slug, p_qty, p_visibility_timeout, p_worker_id, p_known_run_ids) c;
  get diagnostics v_claimed = row_count;
  if v_claimed = 0 then
    return query
      select null::uuid, null::text, null::int, null::bigint, null::jsonb, null::jsonb, null::int, null::int,
             pgflow._next_visible_at(p_flow_slug), clock_timestamp();
  end if;
end;
$$;
`,
      `create function pgflow._get_flow_shape(flow_slug text)
returns jsonb
language sql
stable
set search_path to ''
as $$
  select jsonb_build_object('steps', coalesce(jsonb_agg(jsonb_build_object(
           'slug', s.step_slug,
           'stepType', s.step_type,
           'dependencies', coalesce((select jsonb_agg(d.dep_slug order by d.dep_slug) from pgflow.deps d
                                      where d.flow_slug = s.flow_slug and d.step_slug = s.step_slug), '[]'::jsonb),
           'whenUnmet', s.when_unmet,
           'whenExhausted', s.when_exhausted,
           'requiredInputPattern', s.required_input_pattern,
           'forbiddenInputPattern', s.forbidden_input_pattern) order by s.step_index), '[]'::jsonb))
    from pgflow.steps s
   where s.flow_slug = _get_flow_shape.flow_slug
$$;
`,
      `create function pgflow._normalize_shape_step(p_step jsonb)
returns jsonb
language sql
immutable
set search_path to ''
as $$
  select jsonb_build_object(
    'slug', p_step -> 'slug',
    'stepType', coalesce(p_step -> 'stepType', '"single"'),
    'dependencies', coalesce((select jsonb_agg(d order by d) from jsonb_array_elements_text(
                                coalesce(p_step -> 'dependencies', '[]'::jsonb)) d), '[]'::jsonb),
    'whenUnmet', coalesce(p_step -> 'whenUnmet', '"skip"'),
    'whenExhausted', coalesce(p_step -> 'whenExhausted', '"fail"'),
    'requiredInputPattern', coalesce(p_step -> 'requiredInputPattern', 'null'),
    'forbiddenInputPattern', coalesce(p_step -> 'forbiddenInputPattern', 'null'))
$$;
`,
      `create function pgflow._compare_flow_shapes(p_local jsonb, p_db jsonb)
returns text[]
language plpgsql
immutable
set search_path to ''
as $$
declare
  v_local jsonb[] := array(select pgflow._normalize_shape_step(e) from jsonb_array_elements(coalesce(p_local -> 'steps', '[]')) with ordinality x(e, n) order by n);
  v_db jsonb[] := array(select pgflow._normalize_shape_step(e) from jsonb_array_elements(coalesce(p_db -> 'steps', '[]')) with ordinality x(e, n) order by n);
  v_differences text[] := '{}';
  v_key text;
  v_local_step jsonb;
  v_db_step jsonb;
  i int;
begin
  if cardinality(v_local) <> cardinality(v_db) then
    v_differences := v_differences || format('The code has %s steps, the database %s.', cardinality(v_local), cardinality(v_db));
  end if;
  for i in 1 .. greatest(cardinality(v_local), cardinality(v_db)) loop
    v_local_step := v_local[i];
    v_db_step := v_db[i];
    if v_db_step is null then
      v_differences := v_differences || format('Step %s at position %s exists in the code but not in the database.', v_local_step -> 'slug', i);
    elsif v_local_step is null then
      v_differences := v_differences || format('Step %s at position %s exists in the database but not in the code.', v_db_step -> 'slug', i);
    elsif v_local_step -> 'slug' <> v_db_step -> 'slug' then
      v_differences := v_differences || format('Step at position %s is %s in the code but %s in the database.', i, v_local_step -> 'slug', v_db_step -> 'slug');
    else
      foreach v_key in array array['stepType', 'dependencies', 'whenUnmet', 'whenExhausted', 'requiredInputPattern', 'forbiddenInputPattern'] loop
        if v_local_step -> v_key <> v_db_step -> v_key then
          v_differences := v_differences || format('Step %s: %s differs (code: %s, database: %s).',
                                                   v_local_step -> 'slug', v_key, v_local_step -> v_key, v_db_step -> v_key);
        end if;
      end loop;
    end if;
  end loop;
  return v_differences;
end;
$$;
`,
      `create function pgflow._create_flow_from_shape(flow_slug text, shape jsonb)
returns void
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_step jsonb;
begin
  if jsonb_typeof(shape) is distinct from 'object' or jsonb_typeof(shape -> 'steps') is distinct from 'array' then
    raise exception using errcode = 'PF007',
      message = format('Invalid shape for flow %L: %s.', _create_flow_from_shape.flow_slug, coalesce(shape::text, 'null')),
      hint = 'A shape is {"steps": [{"slug": ..., "stepType": ..., "dependencies": [...], ...}, ...]}.';
  end if;
  perform pgflow.create_flow(_create_flow_from_shape.flow_slug,
    (shape #>> '{options,maxAttempts}')::int, (shape #>> '{options,baseDelay}')::int,
    (shape #>> '{options,timeout}')::int);
  for v_step in select e from jsonb_array_elements(shape -> 'steps') with ordinality x(e, n) order by n loop
    perform pgflow.add_step(
      flow_slug => _create_flow_from_shape.flow_slug,
      step_slug => v_step ->> 'slug',
      deps_slugs => array(select jsonb_array_elements_text(coalesce(v_step -> 'dependencies', '[]'::jsonb))),
      max_attempts => (v_step #>> '{options,maxAttempts}')::int,
      base_delay => (v_step #>> '{options,baseDelay}')::int,
      timeout => (v_step #>> '{options,timeout}')::int,
      start_delay => (v_step #>> '{options,startDelay}')::int,
      step_type => coalesce(v_step ->> 'stepType', 'single'),
      required_input_pattern => nullif(v_step -> 'requiredInputPattern', 'null'::jsonb),
      forbidden_input_pattern => nullif(v_step -> 'forbiddenInputPattern', 'null'::jsonb),
      when_unmet => coalesce(v_step ->> 'whenUnmet', 'skip'),
      when_exhausted => coalesce(v_step ->> 'whenExhausted', 'fail'));
  end loop;
end;
$$;
`,
      `create function pgflow._sync_flow_options(p_flow_slug text, p_shape jsonb)
returns void
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_step jsonb;
begin
  perform pgflow._assert_option('max_attempts', (p_shape #>> '{options,maxAttempts}')::int, 0);
  perform pgflow._assert_option('base_delay', (p_shape #>> '{options,baseDelay}')::int, 0);
  perform pgflow._assert_option('timeout', (p_shape #>> '{options,timeout}')::int, 1);
  update pgflow.flows f
     set opt_max_attempts = coalesce((p_shape #>> '{options,maxAttempts}')::int, 3),
         opt_base_delay = coalesce((p_shape #>> '{options,baseDelay}')::int, 5),
         opt_timeout = coalesce((p_shape #>> '{options,timeout}')::int, 60)
   where f.flow_slug = p_flow_slug
     and (f.opt_max_attempts, f.opt_base_delay, f.opt_timeout) is distinct from
         (coalesce((p_shape #>> '{options,maxAttempts}')::int, 3), coalesce((p_shape #>> '{options,baseDelay}')::int, 5),
          coalesce((p_shape #>> '{options,timeout}')::int, 60));
  for v_step in select e from jsonb_array_elements(p_shape -> 'steps') e loop
    perform pgflow._assert_option('max_attempts', (v_step #>> '{options,maxAttempts}')::int, 0);
    perform pgflow._assert_option('base_delay', (v_step #>> '{options,baseDelay}')::int, 0);
    perform pgflow._assert_option('timeout', (v_step #>> '{options,timeout}')::int, 1);
    perform pgflow._assert_option('start_delay', (v_step #>> '{options,startDelay}')::int, 0);
    update pgflow.steps s
       set opt_max_attempts = (v_step #>> '{options,maxAttempts}')::int,
           opt_base_delay = (v_step #>> '{options,baseDelay}')::int,
           opt_timeout = (v_step #>> '{options,timeout}')::int,
           opt_start_delay = (v_step #>> '{options,startDelay}')::int
     where s.flow_slug = p_flow_slug and s.step_slug = v_step ->> 'slug'
       and (s.opt_max_attempts, s.opt_base_delay, s.opt_timeout, s.opt_start_delay) is distinct from
           ((v_step #>> '{options,maxAttempts}')::int, (v_step #>> '{options,baseDelay}')::int,
            (v_step #>> '{options,timeout}')::int, (v_step #>> '{options,startDelay}')::int);
  end loop;
end;
$$;
`,
      `create function pgflow.delete_flow_and_data(flow_slug text)
returns void
language plpgsql
volatile
set search_path to ''
as $$
begin
  delete from pgflow.step_tasks t where t.flow_slug = delete_flow_and_data.flow_slug;
  delete from pgflow.step_states s where s.flow_slug = delete_flow_and_data.flow_slug;
  delete from pgflow.runs r where r.flow_slug = delete_flow_and_data.flow_slug;
  delete from pgflow.deps d where d.flow_slug = delete_flow_and_data.flow_slug;
  delete from pgflow.steps s where s.flow_slug = delete_flow_and_data.flow_slug;
  delete from pgflow.flows f where f.flow_slug = delete_flow_and_data.flow_slug;
  if exists (select 1 from pgmq.list_queues() q where q.queue_name = delete_flow_and_data.flow_slug) then
    perform pgmq.drop_queue(delete_flow_and_data.flow_slug);
  end if;
end;
$$;
`,
      `create function pgflow.ensure_flow_compiled(flow_slug text, shape jsonb, allow_data_loss boolean default false)
returns jsonb
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_differences text[];
begin
  -- Many workers boot at once: one compiles, the others wait here and then find it compiled.
  perform pg_advisory_xact_lock(hashtext('pgflow:compile'), hashtext(ensure_flow_compiled.flow_slug));

  if not exists (select 1 from pgflow.flows f where f.flow_slug = ensure_flow_compiled.flow_slug) then
    perform pgflow._create_flow_from_shape(ensure_flow_compiled.flow_slug, ensure_flow_compiled.shape);
    return jsonb_build_object('status', 'compiled', 'differences', '[]'::jsonb);
  end if;

  v_differences := pgflow._compare_flow_shapes(ensure_flow_compiled.shape,
                                               pgflow._get_flow_shape(ensure_flow_compiled.flow_slug));
  if cardinality(v_differences) = 0 then
    perform pgflow._sync_flow_options(ensure_flow_compiled.flow_slug, ensure_flow_compiled.shape);
    return jsonb_build_object('status', 'verified', 'differences', '[]'::jsonb);
  end if;
  if ensure_flow_compiled.allow_data_loss then
    perform pgflow.delete_flow_and_data(ensure_flow_compiled.flow_slug);
    perform pgflow._create_flow_from_shape(ensure_flow_compiled.flow_slug, ensure_flow_compiled.shape);
    return jsonb_build_object('status', 'recompiled', 'differences', to_jsonb(v_differences));
  end if;
  return jsonb_build_object('status', 'mismatch', 'differences', to_jsonb(v_differences));
end;
$$;
`,
      `create function pgflow.get_run_with_states(run_id uuid)
returns jsonb
language sql
stable
set search_path to ''
as $$
  select jsonb_build_object(
           'run', to_jsonb(r),
           'steps', coalesce((select jsonb_agg(to_jsonb(s) order by step.step_index)
                                from pgflow.step_states s
                                join pgflow.steps step on step.flow_slug = s.flow_slug and step.step_slug = s.step_slug
                               where s.run_id = r.run_id), '[]'::jsonb))
    from pgflow.runs r
   where r.run_id = get_run_with_states.run_id
$$;
`,
      `create function pgflow.start_flow_with_states(flow_slug text, input jsonb, run_id uuid default null)
returns jsonb
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_run_id uuid;
begin
  select r.run_id into v_run_id
    from pgflow.start_flow(start_flow_with_states.flow_slug, start_flow_with_states.input,
                           start_flow_with_states.run_id) r;
  return pgflow.get_run_with_states(v_run_id);
end;
$$;
`,
      `create function pgflow.mark_worker_stopped(worker_id uuid)
returns void
language sql
volatile
set search_path to ''
as $$
  update pgflow.workers w set stopped_at = now() where w.worker_id = mark_worker_stopped.worker_id;
$$;
`,
      `revoke execute on all functions in schema pgflow from public;
`,
    ],
  },
  down: {
    engine: [
      `do $$
   declare
     v_flow text;
   begin
     for v_flow in select f.flow_slug from pgflow.flows f loop
       if exists (select 1 from pgmq.list_queues() q where q.queue_name = v_flow) then
         perform pgmq.drop_queue(v_flow);
       end if;
     end loop;
   end;
   $$;
`,
      `drop schema pgflow cascade;
`,
    ],
  },
};

export class Engine1764150100000 implements MigrationInterface {
  static readonly sql = sql;
  readonly name = 'Engine1764150100000';

  up(queryRunner: QueryRunner): Promise<void> {
    return applyMigration(queryRunner, this.name, 'up', sql);
  }

  down(queryRunner: QueryRunner): Promise<void> {
    return applyMigration(queryRunner, this.name, 'down', sql);
  }
}
