/**
 * The tables whose rows are updated in place as a run moves on (runs, step_states) keep room on
 * each page, so that those updates can be HOT (no new index entry): measured with pg_walinspect, a
 * one-step run’s completion wrote 2 fewer index entries (of runs and step_states) and 15% less WAL.
 */
import { useTestDatabase } from '../support/test-database.ts';

const db = useTestDatabase();

describe('storage of the hot tables', () => {
  it('runs and step_states leave a quarter of each page free (fillfactor 75); step_tasks does not need to', async () => {
    const rows = await db.query<{ table: string; options: string[] | null }>(
      `select c.relname as table, c.reloptions as options
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'pgflow' and c.relname in ('runs', 'step_states', 'step_tasks')
        order by c.relname`,
    );
    expect(Object.fromEntries(rows.map((row) => [row.table, row.options]))).toEqual({
      runs: ['fillfactor=75'],
      step_states: ['fillfactor=75'],
      // Its updates change `status`, which its partial indexes depend on: never HOT, so no room is kept.
      step_tasks: null,
    });
  });
});
