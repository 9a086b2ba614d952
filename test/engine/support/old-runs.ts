/**
 * Ended runs inserted in bulk with SQL, `endedDaysAgo` days in the past, for the retention tests:
 * each run of a one-step flow with its step state, its task, and an archived queue message, as the
 * engine leaves them. Thousands take one statement, where running them would take minutes.
 */
import type { Sql } from './engine-driver.ts';

export type EndedStatus = 'completed' | 'failed' | 'cancelled';

/** Archived messages get ids from here on, far above any the queue hands out in a test. */
const ARCHIVE_ID_BASE = 1_000_000_000;

/**
 * Inserts `count` runs of `flowSlug` (whose only step is `stepSlug`) that ended with `status`
 * `endedDaysAgo` days ago, and returns their ids.
 */
export async function insertEndedRuns(
  db: Sql,
  spec: { flowSlug: string; stepSlug: string; status: EndedStatus; count: number; endedDaysAgo: number },
): Promise<string[]> {
  const rows = await db.query<{ run_id: string }>(
    `with ended as (
       select $3::text as status, now() - make_interval(secs => $5::float8 * 86400) as at
     ),
     runs as (
       insert into pgflow.runs (flow_slug, status, input, output, remaining_steps, started_at,
                                completed_at, failed_at, cancelled_at)
       select $1, e.status, jsonb_build_object('n', g), case when e.status = 'completed' then '{}'::jsonb end,
              case when e.status = 'completed' then 0 else 1 end, e.at - interval '1 minute',
              case when e.status = 'completed' then e.at end, case when e.status = 'failed' then e.at end,
              case when e.status = 'cancelled' then e.at end
         from ended e, generate_series(1, $4::int) g
       returning run_id, status, started_at
     ),
     states as (
       insert into pgflow.step_states (flow_slug, run_id, step_slug, status, remaining_tasks, initial_tasks,
                                       output, error_message, created_at, started_at, completed_at, failed_at,
                                       cancelled_at)
       select $1, r.run_id, $2, r.status, case when r.status = 'completed' then 0 else 1 end, 1,
              case when r.status = 'completed' then '"done"'::jsonb end,
              case when r.status = 'failed' then 'boom' end, r.started_at, r.started_at,
              case when r.status = 'completed' then e.at end, case when r.status = 'failed' then e.at end,
              case when r.status = 'cancelled' then e.at end
         from runs r, ended e
       returning run_id
     ),
     tasks as (
       insert into pgflow.step_tasks (flow_slug, run_id, step_slug, status, attempts_count, output, error_message,
                                      queued_at, started_at, completed_at, failed_at, cancelled_at)
       select $1, r.run_id, $2, r.status, 1, case when r.status = 'completed' then '"done"'::jsonb end,
              case when r.status = 'failed' then 'boom' end, r.started_at, r.started_at,
              case when r.status = 'completed' then e.at end, case when r.status = 'failed' then e.at end,
              case when r.status = 'cancelled' then e.at end
         from runs r, ended e
        where exists (select 1 from states s where s.run_id = r.run_id)
       returning run_id
     )
     select r.run_id from runs r where exists (select 1 from tasks t where t.run_id = r.run_id)`,
    [spec.flowSlug, spec.stepSlug, spec.status, spec.count, spec.endedDaysAgo],
  );
  return rows.map((row) => row.run_id);
}

/** Inserts `count` messages into the archive of queue `flowSlug`, archived `daysAgo` days ago. */
export async function insertArchivedMessages(
  db: Sql,
  spec: { flowSlug: string; count: number; daysAgo: number; firstId?: number },
): Promise<void> {
  const table = `pgmq.${quote(`a_${spec.flowSlug}`)}`;
  await db.query(
    `insert into ${table} (msg_id, read_ct, enqueued_at, archived_at, vt, message)
     select $1::bigint + g, 1, at, at, at, jsonb_build_object('flow_slug', $2::text)
       from (select now() - make_interval(secs => $4::float8 * 86400) as at) t, generate_series(1, $3::int) g`,
    [ARCHIVE_ID_BASE + (spec.firstId ?? 0), spec.flowSlug, spec.count, spec.daysAgo],
  );
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
