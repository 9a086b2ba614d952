/**
 * A batch's work grows with its size, not with its square: starting, claiming and completing N
 * one-step runs in one statement each reads and compares about as many rows per task whether N is
 * 40 or 320. The work is counted, not timed: auto_explain (loaded into the session, at NOTICE
 * level) returns the executed plan of every statement, nested ones included, and the rows each plan
 * node produced and filtered out, over all its loops, are added up. A plan that compares every task
 * of a batch with every other (a nested loop over two sets of the batch, as _start_tasks once had
 * for a batch of runs) makes that sum grow with N².
 */
import type pg from 'pg';
import { useTestDatabase } from '../support/test-database.ts';
import { defineFlow, registerWorker } from './support/engine-driver.ts';

const db = useTestDatabase();

/** An EXPLAIN (FORMAT JSON) plan node, with only what is counted here. */
interface PlanNode {
  readonly 'Actual Rows'?: number;
  readonly 'Actual Loops'?: number;
  readonly 'Rows Removed by Filter'?: number;
  readonly 'Rows Removed by Join Filter'?: number;
  readonly 'Rows Removed by Index Recheck'?: number;
  readonly Plans?: readonly PlanNode[];
}

/** Rows a node and its children produced or looked at and dropped, over all their loops. */
function rowsOf(node: PlanNode): number {
  const loops = node['Actual Loops'] ?? 1;
  const own =
    (node['Actual Rows'] ?? 0) +
    (node['Rows Removed by Filter'] ?? 0) +
    (node['Rows Removed by Join Filter'] ?? 0) +
    (node['Rows Removed by Index Recheck'] ?? 0);
  return own * loops + (node.Plans ?? []).reduce((sum, child) => sum + rowsOf(child), 0);
}

/** A session whose every statement, nested ones included, sends its executed plan as a notice. */
async function explainingSession(): Promise<{ client: pg.Client; rowsSince: () => number }> {
  const client = await db.connect('batch scaling');
  let rows = 0;
  client.on('notice', (notice) => {
    const plan = notice.message?.match(/plan:\s*([\s\S]*)$/)?.[1];
    if (plan === undefined) return;
    const parsed = JSON.parse(plan) as { Plan: PlanNode };
    rows += rowsOf(parsed.Plan);
  });
  await client.query(`load 'auto_explain'`);
  for (const setting of [
    'auto_explain.log_min_duration = 0',
    'auto_explain.log_analyze = on',
    'auto_explain.log_timing = off',
    'auto_explain.log_nested_statements = on',
    'auto_explain.log_format = json',
    'auto_explain.log_level = notice',
    'client_min_messages = notice',
  ]) {
    await client.query(`set ${setting}`);
  }
  return {
    client,
    rowsSince: () => {
      const counted = rows;
      rows = 0;
      return counted;
    },
  };
}

interface Claimed {
  run_id: string;
  step_slug: string;
  task_index: number;
}

/**
 * Starts `size` runs of `flow` in one statement, then reports and claims in batches of `size` until
 * every run is complete (a report claims the next steps it makes ready); the rows counted per task.
 */
async function rowsPerTask(flow: string, size: number, worker: string): Promise<number> {
  const { client, rowsSince } = await explainingSession();
  try {
    rowsSince();
    await client.query(`select count(*) from pgflow.start_flows($1, $2::jsonb)`, [
      flow,
      JSON.stringify(Array.from({ length: size }, (_, n) => ({ n }))),
    ]);
    let tasks = 0;
    let completions: Array<Claimed & { output: unknown }> = [];
    do {
      const claimed = await client.query<Claimed>(
        `select run_id, step_slug, task_index
           from pgflow._report_and_claim($1::jsonb, '[]', $2, $3, 30, $4::uuid) where run_id is not null`,
        [JSON.stringify(completions), flow, size, worker],
      );
      tasks += claimed.rows.length;
      completions = claimed.rows.map((task) => ({ ...task, output: { done: task.task_index } }));
    } while (completions.length > 0);
    const counted = rowsSince();
    const [left] = await db.query<{ left: number }>(
      `select count(*)::int as left from pgflow.runs where flow_slug = $1 and status <> 'completed'`,
      [flow],
    );
    expect(left?.left).toBe(0);
    return counted / tasks;
  } finally {
    await client.end();
  }
}

describe('the work of a batch', () => {
  it.each([
    { shape: 'one step', flow: 'scaling_one', steps: [{ slug: 'only' }] },
    { shape: 'a chain of two steps', flow: 'scaling_chain', steps: [{ slug: 'a' }, { slug: 'b', deps: ['a'] }] },
  ])('grows linearly with its size, for runs of $shape in batches of 40 and 320', async ({ flow, steps }) => {
    await defineFlow(db, flow, steps);
    const worker = await registerWorker(db, flow);
    const small = await rowsPerTask(flow, 40, worker);
    const large = await rowsPerTask(flow, 320, worker);
    // Linear work gives about the same count per task (a little less at 320: fixed costs are shared
    // by more tasks). A nested loop that compares every task of the batch with every other adds rows
    // in proportion to the batch: _start_tasks' join of its tasks with their runs did, and made the
    // ratio 2.2.
    expect(small).toBeGreaterThan(0);
    expect(large / small).toBeLessThan(1.25);
  });
});
