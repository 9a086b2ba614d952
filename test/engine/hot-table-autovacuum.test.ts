/**
 * Autovacuum settings of the hot tables (migration hot-table-autovacuum): the engine's runs,
 * step_states and step_tasks are vacuumed at 5% dead rows with a larger cost budget, and the queue
 * table of every flow create_flow makes is vacuumed at 1,000 dead rows, unthrottled. The soak
 * (test/reliability/soak.test.ts) measured what they bound; here, that they are set.
 */
import { useRole } from '../reliability/support/roles.ts';
import { useTestDatabase } from '../support/test-database.ts';

const db = useTestDatabase();
const owner = useRole(db, 'hot_owner');
const caller = useRole(db, 'hot_caller');

async function options(table: string): Promise<string[]> {
  const [row] = await db.query<{ options: string[] | null }>(
    'select c.reloptions as options from pg_class c where c.oid = $1::regclass',
    [table],
  );
  return row?.options ?? [];
}

describe('autovacuum settings of the hot tables', () => {
  it.each(['pgflow.runs', 'pgflow.step_states', 'pgflow.step_tasks'])(
    '%s: vacuumed at 5%% dead rows',
    async (table) => {
      expect(await options(table)).toEqual(
        expect.arrayContaining(['autovacuum_vacuum_scale_factor=0.05', 'autovacuum_vacuum_cost_limit=1000']),
      );
    },
  );

  it("create_flow sets them on the new flow's queue table, not on its archive", async () => {
    await db.query("select pgflow.create_flow('hot_queue')");
    expect(await options('pgmq.q_hot_queue')).toEqual(
      expect.arrayContaining([
        'autovacuum_vacuum_scale_factor=0',
        'autovacuum_vacuum_threshold=1000',
        'autovacuum_vacuum_cost_delay=0',
      ]),
    );
    expect(await options('pgmq.a_hot_queue')).toEqual([]);
  });

  it('leaves the defaults, with a notice, where its role does not own the queue table', async () => {
    await db.query("select pgmq.create('hot_owned')");
    await db.query(`alter table pgmq.q_hot_owned owner to ${owner.name}`);
    await db.query(`grant usage on schema pgflow, pgmq to ${caller.name}`);
    await db.query(
      `grant execute on function pgflow._tune_queue_table(text), pgmq.format_table_name(text, text) to ${caller.name}`,
    );
    const client = await caller.connect();
    const notices: string[] = [];
    client.on('notice', (notice) => notices.push(notice.message ?? ''));
    await client.query("select pgflow._tune_queue_table('hot_owned')");
    expect(await options('pgmq.q_hot_owned')).toEqual([]);
    expect(notices).toEqual([expect.stringContaining('hot_owned keeps the default autovacuum settings')]);
  });
});
