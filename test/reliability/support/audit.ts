/**
 * Instruments a test database to tell executions from completions:
 * - `reliability_executions`: one row per handler execution (the flows in
 *   test/processes/reliability-flows.ts insert it): at-least-once shows here;
 * - `reliability_completions`: one row each time the engine marks a task, a step state or a run
 *   completed (or rewrites a completed row's output), written by triggers on the engine's tables:
 *   exactly-once shows here.
 * The triggers are test instrumentation in the test's own database; the engine is not changed.
 */
import type { TestDatabase } from '../../support/test-database.ts';

type Sql = Pick<TestDatabase, 'query'>;

const INSTRUMENT = /* sql */ `
create table if not exists public.reliability_executions (
  id bigserial primary key,
  run_id uuid not null,
  step_slug text not null,
  task_index int not null,
  attempt int not null,
  pid int not null,
  worker text not null,
  at timestamptz not null default clock_timestamp()
);

create table if not exists public.reliability_completions (
  id bigserial primary key,
  kind text not null,
  run_id uuid not null,
  step_slug text,
  task_index int,
  at timestamptz not null default clock_timestamp()
);

create or replace function public.reliability_log_completion()
returns trigger
language plpgsql
set search_path to ''
as $$
begin
  insert into public.reliability_completions (kind, run_id, step_slug, task_index)
  values (tg_argv[0], new.run_id,
          case when tg_argv[0] <> 'run' then to_jsonb(new) ->> 'step_slug' end,
          case when tg_argv[0] = 'task' then (to_jsonb(new) ->> 'task_index')::int end);
  return null;
end;
$$;

create or replace trigger reliability_task_completed after update on pgflow.step_tasks for each row
  when (new.status = 'completed' and (old.status <> 'completed' or new.output is distinct from old.output))
  execute function public.reliability_log_completion('task');
create or replace trigger reliability_step_completed after update on pgflow.step_states for each row
  when (new.status = 'completed' and (old.status <> 'completed' or new.output is distinct from old.output))
  execute function public.reliability_log_completion('step');
create or replace trigger reliability_run_completed after update on pgflow.runs for each row
  when (new.status = 'completed' and (old.status <> 'completed' or new.output is distinct from old.output))
  execute function public.reliability_log_completion('run');
`;

export async function instrument(db: Sql): Promise<void> {
  await db.query(INSTRUMENT);
}

/** What happened to a set of runs, from the engine's tables and the instrumentation. */
export interface RunsAudit {
  /** Runs by status. */
  readonly runs: Record<string, number>;
  /** Tasks by status. */
  readonly tasks: Record<string, number>;
  /** Completion events per kind, and the largest number of them for one task / step / run. */
  readonly completions: { task: number; step: number; run: number; maxPerKey: number };
  /** Handler executions in all; tasks executed more than once; completed tasks never executed. */
  readonly executions: number;
  readonly reexecutedTasks: number;
  readonly completedWithoutExecution: number;
}

export async function auditRuns(db: Sql, runIds: readonly string[]): Promise<RunsAudit> {
  const count = async (sql: string): Promise<Record<string, number>> =>
    Object.fromEntries((await db.query<{ key: string; n: number }>(sql, [runIds])).map((row) => [row.key, row.n]));
  const runs = await count(
    'select status as key, count(*)::int as n from pgflow.runs where run_id = any($1::uuid[]) group by status',
  );
  const tasks = await count(
    'select status as key, count(*)::int as n from pgflow.step_tasks where run_id = any($1::uuid[]) group by status',
  );
  const [completions] = await db.query<RunsAudit['completions']>(
    `select count(*) filter (where kind = 'task')::int as task,
            count(*) filter (where kind = 'step')::int as step,
            count(*) filter (where kind = 'run')::int as run,
            coalesce(max(n), 0)::int as "maxPerKey"
       from (select kind, count(*) over (partition by kind, run_id, step_slug, task_index) as n
               from public.reliability_completions where run_id = any($1::uuid[])) c`,
    [runIds],
  );
  type ExecutionCounts = Pick<RunsAudit, 'executions' | 'reexecutedTasks' | 'completedWithoutExecution'>;
  const [executions] = await db.query<ExecutionCounts>(
    `with per_task as (
       select t.run_id, t.step_slug, t.task_index, t.status, count(e.id) as n
         from pgflow.step_tasks t
         left join public.reliability_executions e
           on e.run_id = t.run_id and e.step_slug = t.step_slug and e.task_index = t.task_index
        where t.run_id = any($1::uuid[])
        group by 1, 2, 3, 4)
     select coalesce(sum(n), 0)::int as executions,
            count(*) filter (where n > 1)::int as "reexecutedTasks",
            count(*) filter (where status = 'completed' and n = 0)::int as "completedWithoutExecution"
       from per_task`,
    [runIds],
  );
  return {
    runs,
    tasks,
    completions: completions as RunsAudit['completions'],
    ...(executions as ExecutionCounts),
  };
}

/** Runs whose output is not what their input says it must be (see expectedFanoutOutput). */
export async function wrongFanoutOutputs(db: Sql, runIds: readonly string[]): Promise<unknown[]> {
  return db.query(
    `select run_id, input, output from pgflow.runs r
      where r.run_id = any($1::uuid[])
        and r.output is distinct from jsonb_build_object('total',
              (select coalesce(sum(power(i::numeric, 2)), 0)::bigint
                 from jsonb_array_elements_text(r.input -> 'items') i))`,
    [runIds],
  );
}

export interface StartedTask {
  readonly run_id: string;
  readonly step_slug: string;
  readonly task_index: number;
  readonly started_at: Date;
}

/** Tasks in status started whose last worker is one of process `pid`'s (pgflow.workers.function_name). */
export function tasksStartedBy(db: Sql, pid: number): Promise<StartedTask[]> {
  return db.query<StartedTask>(
    `select t.run_id, t.step_slug, t.task_index, t.started_at
       from pgflow.step_tasks t join pgflow.workers w on w.worker_id = t.last_worker_id
      where t.status = 'started' and w.function_name like '%:' || $1::text`,
    [pid],
  );
}

/** The tasks named by `keys`, with their status and the labels of the workers that executed them. */
export function tasksWithExecutions(
  db: Sql,
  keys: ReadonlyArray<Pick<StartedTask, 'run_id' | 'step_slug' | 'task_index'>>,
): Promise<
  Array<{ status: string; attempts_count: number; requeued_count: number; completed_at: Date | null; by: string[] }>
> {
  return db.query(
    `select t.status, t.attempts_count, t.requeued_count, t.completed_at,
            array(select e.worker from public.reliability_executions e
                   where (e.run_id, e.step_slug, e.task_index) = (t.run_id, t.step_slug, t.task_index)
                   order by e.id) as by
       from pgflow.step_tasks t
       join jsonb_to_recordset($1::jsonb) as k(run_id uuid, step_slug text, task_index int)
         on (k.run_id, k.step_slug, k.task_index) = (t.run_id, t.step_slug, t.task_index)`,
    [JSON.stringify(keys)],
  );
}
