/**
 * The second half of adopting a pgflow 0.14 database (see AdoptPgflow1764150050000): copies the
 * definitions, runs, step states, tasks, workers and worker functions of schema pgflow_adopted into
 * the engine's tables, with the element each queued map task works on (the engine keeps it on the
 * task), and drops pgflow's functions, which would otherwise act on these tables. The queues stay in
 * pgmq with their messages: the runs in flight go on under this library's workers. pgflow_adopted
 * keeps pgflow's tables as they were, until an operator drops it. Does nothing where no adoption is
 * under way. Written by hand; frozen once released (migrations/frozen.json).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { applyMigration, type MigrationSql } from './support/apply-migration.ts';

const sql: MigrationSql = {
  up: {
    engine: [
      `do $$
declare
  v_function regprocedure;
begin
  if coalesce(obj_description(to_regnamespace('pgflow_adopted'), 'pg_namespace'), '')
     not like 'pgflow 0.14 installation being adopted%' then
    return;
  end if;

  insert into pgflow.flows (flow_slug, opt_max_attempts, opt_base_delay, opt_timeout, created_at)
  select f.flow_slug, f.opt_max_attempts, f.opt_base_delay, f.opt_timeout, f.created_at from pgflow_adopted.flows f;
  insert into pgflow.steps (flow_slug, step_slug, step_type, step_index, deps_count, opt_max_attempts, opt_base_delay,
                            opt_timeout, opt_start_delay, required_input_pattern, forbidden_input_pattern, when_unmet,
                            when_exhausted, created_at)
  select s.flow_slug, s.step_slug, s.step_type, s.step_index, s.deps_count, s.opt_max_attempts, s.opt_base_delay,
         s.opt_timeout, s.opt_start_delay, s.required_input_pattern, s.forbidden_input_pattern, s.when_unmet,
         s.when_exhausted, s.created_at
    from pgflow_adopted.steps s;
  insert into pgflow.deps (flow_slug, dep_slug, step_slug, created_at)
  select d.flow_slug, d.dep_slug, d.step_slug, d.created_at from pgflow_adopted.deps d;
  insert into pgflow.workers (worker_id, queue_name, function_name, started_at, deprecated_at, stopped_at,
                              last_heartbeat_at)
  select w.worker_id, w.queue_name, w.function_name, w.started_at, w.deprecated_at, w.stopped_at, w.last_heartbeat_at
    from pgflow_adopted.workers w;
  if to_regclass('pgflow_adopted.worker_functions') is not null then
    insert into pgflow.worker_functions (function_name, enabled, debounce, last_invoked_at, created_at, updated_at)
    select f.function_name, f.enabled, f.debounce, f.last_invoked_at, f.created_at, f.updated_at
      from pgflow_adopted.worker_functions f;
  end if;
  insert into pgflow.runs (run_id, flow_slug, status, input, output, remaining_steps, started_at, completed_at,
                           failed_at)
  select r.run_id, r.flow_slug, r.status, r.input, r.output, r.remaining_steps, r.started_at, r.completed_at,
         r.failed_at
    from pgflow_adopted.runs r;
  insert into pgflow.step_states (flow_slug, run_id, step_slug, status, remaining_tasks, initial_tasks,
                                  remaining_deps, output, error_message, skip_reason, created_at, started_at,
                                  completed_at, failed_at, skipped_at)
  select s.flow_slug, s.run_id, s.step_slug, s.status, s.remaining_tasks, s.initial_tasks, s.remaining_deps,
         s.output, s.error_message, s.skip_reason, s.created_at, s.started_at, s.completed_at, s.failed_at,
         s.skipped_at
    from pgflow_adopted.step_states s;
  insert into pgflow.step_tasks (flow_slug, run_id, step_slug, message_id, task_index, status, attempts_count,
                                 error_message, output, queued_at, started_at, completed_at, failed_at,
                                 last_worker_id, requeued_count, last_requeued_at, permanently_stalled_at, input)
  select t.flow_slug, t.run_id, t.step_slug, t.message_id, t.task_index, t.status, t.attempts_count,
         t.error_message, t.output, t.queued_at, t.started_at, t.completed_at, t.failed_at, t.last_worker_id,
         t.requeued_count, t.last_requeued_at, t.permanently_stalled_at,
         -- The element a map task still to run works on: of the run input (a root map) or of its one
         -- dependency's output.
         case when step.step_type = 'map' and t.status in ('queued', 'started') then
                case when step.deps_count = 0 then r.input -> t.task_index
                     else (select dep_state.output -> t.task_index
                             from pgflow_adopted.deps dep
                             join pgflow_adopted.step_states dep_state
                               on dep_state.run_id = t.run_id and dep_state.step_slug = dep.dep_slug
                            where dep.flow_slug = t.flow_slug and dep.step_slug = t.step_slug) end
         end
    from pgflow_adopted.step_tasks t
    join pgflow_adopted.steps step on step.flow_slug = t.flow_slug and step.step_slug = t.step_slug
    join pgflow_adopted.runs r on r.run_id = t.run_id;

  -- pgflow's functions name schema pgflow in their bodies: left here, they would act on these tables.
  for v_function in
    select p.oid::regprocedure from pg_catalog.pg_proc p where p.pronamespace = 'pgflow_adopted'::regnamespace
  loop
    execute format('drop function %s', v_function);
  end loop;
  comment on schema pgflow_adopted is
    'pgflow 0.14''s tables as they were when nestjs-pgflow adopted this database; their rows are now in schema '
    'pgflow. Drop this schema once you no longer need the copy.';
end;
$$
`,
    ],
  },
  // Adoption is not undone by a migration: the adopted rows are the engine's now (the README says how to go back).
  down: { engine: [] },
};

export class AdoptPgflowData1796406357120 implements MigrationInterface {
  static readonly sql = sql;
  readonly name = 'AdoptPgflowData1796406357120';

  up(queryRunner: QueryRunner): Promise<void> {
    return applyMigration(queryRunner, this.name, 'up', sql);
  }

  down(queryRunner: QueryRunner): Promise<void> {
    return applyMigration(queryRunner, this.name, 'down', sql);
  }
}
