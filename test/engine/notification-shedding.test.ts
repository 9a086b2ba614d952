/**
 * NOTIFY's queue is one per server and fills up behind any listener that stops reading; once it
 * is full, every commit that notifies fails. Past pgflow.limits.notify_queue_shed_at of the queue
 * the engine stops notifying, so its commits never fail for that reason (workers and clients then
 * find their work and outcomes by polling). A run's input never goes into a notification.
 */
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '../support/test-database.ts';
import { completeTask, defineFlow, pollOne, runRow, startRun } from './support/engine-driver.ts';
import { listen, runChannel } from './support/engine-events.ts';

const db = useTestDatabase();

beforeAll(async () => {
  await defineFlow(db, 'shed', [{ slug: 'first' }, { slug: 'second', deps: ['first'] }]);
});

afterEach(async () => {
  await db.query('update pgflow.limits set notify_queue_shed_at = default');
});

async function runWhileListening(): Promise<{ channels: string[]; received: number; status: string }> {
  const runId = randomUUID();
  const listener = await listen(db, [runChannel(runId), 'pgflow:work']);
  await startRun(db, 'shed', { secret: 'input' }, runId);
  for (const step of ['first', 'second']) {
    const task = await pollOne(db, 'shed', step);
    await completeTask(db, runId, task.step_slug, task.task_index, { from: step });
  }
  await listener.settle();
  const received = listener.notifications.length;
  const channels = [...new Set(listener.notifications.map((n) => n.channel))].sort();
  const payloads = listener.notifications.map((n) => n.payload);
  await listener.close();
  for (const payload of payloads) expect(payload).not.toContain('secret');
  return { channels, received, status: (await runRow(db, runId)).status };
}

describe('notifications and the server’s notification queue', () => {
  it('below the threshold, every state change and wake-up is notified, without the run input', async () => {
    const { channels, received, status } = await runWhileListening();
    expect(status).toBe('completed');
    expect(channels).toEqual(expect.arrayContaining(['pgflow:work']));
    expect(channels.some((channel) => channel.startsWith('pgflow:run:'))).toBe(true);
    // run:started, 2 × (step:started, step:completed), run:completed, and the wake-ups.
    expect(received).toBeGreaterThanOrEqual(6);
  });

  it('past the threshold, the engine notifies nothing and every commit still succeeds', async () => {
    // 0: the queue's usage is always at or above it, as if it were full.
    await db.query('update pgflow.limits set notify_queue_shed_at = 0');
    const { received, status } = await runWhileListening();
    expect(status).toBe('completed');
    expect(received).toBe(0);
  });

  it('reports the queue usage the decision is based on', async () => {
    const [row] = await db.query<{ usage: number; allowed: boolean }>(
      'select pg_notification_queue_usage() as usage, pgflow._notifications_allowed() as allowed',
    );
    expect(row?.usage).toBeGreaterThanOrEqual(0);
    expect(row?.usage).toBeLessThan(0.5);
    expect(row?.allowed).toBe(true);
  });
});
