/** Starting runs of the fanout flow straight through the engine, and waiting for them to end. */
import { FANOUT_SLUG } from '../../processes/reliability-flows.ts';
import type { TestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';

type Sql = Pick<TestDatabase, 'query'>;

/**
 * Starts `count` runs in one transaction; run n maps over `size` items n, n+1, ... The flow must be
 * compiled (a worker deployment has booted).
 */
export async function startFanoutRuns(db: Sql, count: number, size = 5): Promise<string[]> {
  const rows = await db.query<{ run_id: string }>(
    `select r.run_id
       from generate_series(1, $2::int) as n
       cross join lateral pgflow.start_flow($1, jsonb_build_object('items',
         (select jsonb_agg(n + i order by i) from generate_series(0, $3::int - 1) as i))) as r`,
    [FANOUT_SLUG, count, size],
  );
  return rows.map((row) => row.run_id);
}

/** Waits until every run has ended (completed or failed); returns how many completed. */
export async function waitForRunsToEnd(db: Sql, runIds: readonly string[], timeoutMs: number): Promise<number> {
  const ended = await waitFor(
    async () => {
      const [row] = await db.query<{ ended: number; completed: number }>(
        `select count(*) filter (where status <> 'started')::int as ended,
                count(*) filter (where status = 'completed')::int as completed
           from pgflow.runs where run_id = any($1::uuid[])`,
        [runIds],
      );
      return row?.ended === runIds.length ? row : undefined;
    },
    { timeoutMs, intervalMs: 100, description: `${runIds.length} runs to end` },
  );
  return ended.completed;
}

/** The database's clock now, as epoch ms (timestamps in the engine's tables use it). */
export async function databaseNow(db: Sql): Promise<number> {
  const [row] = await db.query<{ now: Date }>('select clock_timestamp() as now');
  return Number(row?.now);
}
