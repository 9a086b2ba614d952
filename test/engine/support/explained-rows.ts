/**
 * Counts the work of statements instead of timing it: auto_explain (loaded into a session, at NOTICE
 * level) returns the executed plan of every statement, nested ones included, and the rows each plan
 * node produced and filtered out, over all its loops, are added up.
 */
import type pg from 'pg';
import type { TestDatabase } from '../../support/test-database.ts';

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

export interface ExplainingSession {
  readonly client: pg.Client;
  /** The rows counted since the last call. */
  rowsSince(): number;
}

/** A session whose every statement, nested ones included, sends its executed plan as a notice. */
export async function explainingSession(db: TestDatabase, name: string): Promise<ExplainingSession> {
  const client = await db.connect(name);
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
