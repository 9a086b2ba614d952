/**
 * The engine's static statements for the flows' queues (pgflow._write_queue_statements) at boot: a
 * flow that create_flow could not write them for (another transaction was writing them, as another
 * application booting at the same moment may be) gets them when an application that has the flow
 * boots, and its runs then reach the queue without pgmq's dynamic functions.
 */
import { Flow, Step } from 'nestjs-pgflow';
import { queueStatementsOf } from '../../engine/support/engine-state.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

@Flow({ slug: 'boot_queue_statements' })
class LateStatementsFlow {
  @Step()
  only() {
    return 'done';
  }
}

const db = useTestDatabase();
const apps = useApps();

describe('static queue statements at boot', () => {
  it('are written at boot for a flow whose creation could not write them', async () => {
    const holder = await db.connect();
    await holder.query('begin');
    await holder.query(`select pg_advisory_xact_lock(hashtext('pgflow:queue-statements'))`);
    try {
      await db.query(`select pgflow.create_flow('boot_queue_statements')`);
      await db.query(`select pgflow.add_step('boot_queue_statements', 'only')`);
    } finally {
      await holder.query('commit');
    }
    expect(await queueStatementsOf(db, 'boot_queue_statements')).toEqual([false, false, false, false]);

    const app = await apps.start({ url: db.url, providers: [LateStatementsFlow] });
    expect(await queueStatementsOf(db, 'boot_queue_statements')).toEqual([true, true, true, true]);
    const run = await app.client.start(LateStatementsFlow, {});
    await expect(run.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { only: 'done' } });
  });
});
