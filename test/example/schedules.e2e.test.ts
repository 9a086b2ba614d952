/**
 * The example application's schedule: `nightly_link_check` on check_links, synced at boot, its next
 * tick computed by the worker, listed, paused and resumed over HTTP; a past-due tick fires a run
 * with the schedule's input.
 */
import type { ScheduleInfo, SchedulePauseState } from 'nestjs-pgflow';
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import { useExampleServer } from './support/example-app.ts';

const db = useTestDatabase();
const startServer = useExampleServer(() => db.url);

async function nightly(server: Awaited<ReturnType<typeof startServer>>): Promise<ScheduleInfo | undefined> {
  const { status, body } = await server.get<{ schedules: ScheduleInfo[] }>('/schedules');
  expect(status).toBe(200);
  return body.schedules.find((schedule) => schedule.name === 'nightly_link_check');
}

it('lists the nightly schedule with its next tick at 03:00 UTC, and pauses and resumes it', async () => {
  const server = await startServer();
  const listed = await waitFor(async () => {
    const schedule = await nightly(server);
    return schedule?.nextTickAt ? schedule : undefined;
  });
  expect(listed).toMatchObject({ flowSlug: 'check_links', cron: '0 3 * * *', timeZone: 'UTC', paused: false });
  expect(new Date(listed.nextTickAt as unknown as string).toISOString()).toMatch(/T03:00:00\.000Z$/);

  const paused = await server.post<SchedulePauseState>('/schedules/nightly_link_check/pause', {});
  expect(paused).toMatchObject({ status: 200, body: { name: 'nightly_link_check', paused: true, changed: true } });
  expect(await nightly(server)).toMatchObject({ paused: true, nextTickAt: null });
  const resumed = await server.post<SchedulePauseState>('/schedules/nightly_link_check/resume', {});
  expect(resumed).toMatchObject({ status: 200, body: { paused: false, changed: true } });

  const unknown = await server.post<{ code: string; message: string }>('/schedules/weekly_nothing/pause', {});
  expect(unknown).toMatchObject({
    status: 404,
    body: { code: 'PGFLOW_SCHEDULE_NOT_FOUND', message: expect.stringContaining('nightly_link_check') },
  });
});

it('fires a due tick once: a run of check_links with the schedule input', async () => {
  const server = await startServer();
  await waitFor(async () => (await nightly(server))?.nextTickAt);
  // As if the app had been down since the last 03:00 UTC: that tick is due (catchUp 'latest' runs it).
  await db.query(
    `update pgflow.schedules set next_tick_at = date_trunc('day', now() - interval '3 hours', 'UTC') + interval '3 hours'
      where schedule_name = 'nightly_link_check'`,
  );
  await db.query(`select pg_notify('pgflow:schedules', '{}')`);
  const run = await waitFor(
    async () => {
      const [row] = await db.query<{ input: unknown; output: unknown; status: string }>(
        `select r.input, r.output, r.status from pgflow.schedule_ticks t join pgflow.runs r using (run_id)
          where t.schedule_name = 'nightly_link_check'`,
      );
      return row?.status === 'completed' ? row : undefined;
    },
    { timeoutMs: 20_000, description: 'the nightly run to complete' },
  );
  expect(run.input).toEqual(['https://example.com/', 'https://example.com/docs', 'https://example.com/old-page']);
  expect(run.output).toMatchObject({ tally: { checked: 3 } });
});
