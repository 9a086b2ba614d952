/**
 * "Refused, and nothing written": a snapshot of every table the engine and the queue layer write
 * (row counts, and the messages in every queue and archive), taken before and after a call that
 * must fail, so that a bad input is shown to leave no partial write behind.
 */
import type { TestDatabase } from '../../support/test-database.ts';

type Sql = Pick<TestDatabase, 'query'>;

const SNAPSHOT = /* sql */ `
select (select count(*) from pgflow.flows)::int as flows,
       (select count(*) from pgflow.steps)::int as steps,
       (select count(*) from pgflow.deps)::int as deps,
       (select count(*) from pgflow.runs)::int as runs,
       (select count(*) from pgflow.step_states)::int as step_states,
       (select count(*) from pgflow.step_tasks)::int as step_tasks,
       (select count(*) from pgflow.workers)::int as workers,
       (select count(*) from pgmq.meta)::int as queues,
       (select coalesce(sum((xpath('/row/n/text()', query_to_xml(
                 format('select count(*) as n from pgmq.%I', pgmq.format_table_name(m.queue_name, 'q')),
                 false, true, '')))[1]::text::int), 0)
          from pgmq.meta m)::int as messages,
       (select coalesce(sum((xpath('/row/n/text()', query_to_xml(
                 format('select count(*) as n from pgmq.%I', pgmq.format_table_name(m.queue_name, 'a')),
                 false, true, '')))[1]::text::int), 0)
          from pgmq.meta m)::int as archived
`;

export async function writeCounts(db: Sql): Promise<Record<string, number>> {
  const [row] = await db.query<Record<string, number>>(SNAPSHOT);
  return row as Record<string, number>;
}

/**
 * Runs `action`, which must fail, and returns what it threw, after checking that no table of the
 * engine or the queue layer changed.
 */
export async function refusedWithoutWrites(db: Sql, action: () => unknown): Promise<Error> {
  const before = await writeCounts(db);
  let thrown: unknown;
  try {
    await action();
  } catch (error) {
    thrown = error;
  }
  if (thrown === undefined) throw new Error('Expected the call to be refused, but it succeeded.');
  expect(await writeCounts(db)).toEqual(before);
  return thrown as Error;
}

/** A pg error's fields, for expectations. */
export function sqlErrorOf(error: unknown): { code?: string; message: string; hint?: string } {
  const { code, message, hint } = error as { code?: string; message: string; hint?: string };
  return { code, message, hint };
}
