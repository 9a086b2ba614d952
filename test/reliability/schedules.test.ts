/**
 * A schedule fires exactly once per tick across worker processes: three real processes serve a flow
 * with an every-second schedule for about ten seconds, one of them killed with SIGKILL halfway.
 * Every second of the window has its tick, each tick started exactly one run (the tick is a key in
 * the database, not a timer per process), and no tick was lost to the kill. And with every process
 * down for five ticks, the first one back catches them up (the flow's catchUp is 'all'), each once.
 */
import { EVERY_SECOND_SCHEDULE } from '../processes/scheduled-flows.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import { databaseNow } from './support/fanout-runs.ts';
import { useWorkerProcesses } from './support/worker-processes.ts';

const db = useTestDatabase();
const workers = useWorkerProcesses();

/** Ticks recorded at or after `from` (epoch ms, whole seconds). */
async function ticksSince(from: number) {
  return db.query<{ tick_at: Date; outcome: string; run_id: string | null }>(
    'select tick_at, outcome, run_id from pgflow.schedule_ticks where schedule_name = $1 and tick_at >= $2 order by tick_at',
    [EVERY_SECOND_SCHEDULE, new Date(from)],
  );
}

/**
 * The ticks of [from, to], once as many as its seconds are recorded (a loaded machine may fire the
 * last one late), or what there is after 15 s: the assertions then say which are missing.
 */
async function windowTicks(from: number, to: number, count: number) {
  const inWindow = async () => (await ticksSince(from)).filter((tick) => tick.tick_at.getTime() <= to);
  await waitFor(async () => (await inWindow()).length >= count, { timeoutMs: 15_000 }).catch(() => undefined);
  return inWindow();
}

it('three processes, one of them killed with SIGKILL: each tick of an every-second schedule starts exactly one run', async () => {
  const processes = await Promise.all(
    ['first', 'second', 'victim'].map((label) => workers.start({ url: db.url, label, flow: 'scheduled' })),
  );
  // The window starts at the first whole second after all three serve the schedule.
  const from = Math.ceil((await databaseNow(db)) / 1000) * 1000 + 1000;
  await waitFor(async () => (await ticksSince(from)).length >= 5, {
    timeoutMs: 30_000,
    description: 'five ticks with all three processes up',
  });
  const victim = processes[2];
  await victim?.killNow();
  const killedAt = await databaseNow(db);
  await waitFor(async () => (await ticksSince(killedAt)).length >= 5 && (await databaseNow(db)) >= from + 11_000, {
    timeoutMs: 30_000,
    description: 'five ticks after the kill, and eleven seconds of window',
  });
  // The window ends at a tick the survivors had a full second to fire.
  const to = Math.floor((await databaseNow(db)) / 1000) * 1000 - 1000;

  const seconds = Array.from({ length: (to - from) / 1000 + 1 }, (_, i) => new Date(from + i * 1000).toISOString());
  const ticks = await windowTicks(from, to, seconds.length);
  expect(seconds.length).toBeGreaterThanOrEqual(10);
  expect(ticks.map((tick) => tick.tick_at.toISOString())).toEqual(seconds);
  expect(ticks.every((tick) => tick.outcome === 'started')).toBe(true);

  // One run per tick: the runs' scheduledAt are the window's seconds, each once.
  const runs = await db.query<{ scheduled_at: string; runs: string }>(
    `select input ->> 'scheduledAt' as scheduled_at, count(*) as runs from pgflow.runs
      where flow_slug = 'rel_scheduled' and (input ->> 'scheduledAt')::timestamptz between $1 and $2
      group by 1 order by 1`,
    [new Date(from), new Date(to)],
  );
  expect(runs).toEqual(seconds.map((second) => ({ scheduled_at: second, runs: '1' })));
  expect(new Set(ticks.map((tick) => tick.run_id)).size).toBe(ticks.length);
  for (const survivor of processes.slice(0, 2)) expect(survivor.logs(['error', 'fatal'])).toEqual([]);
}, 120_000);

it('every process down for five ticks, then one restarted: the missed ticks are caught up (catchUp all), each once', async () => {
  const first = await workers.start({ url: db.url, label: 'before', flow: 'scheduled' });
  const from = Math.ceil((await databaseNow(db)) / 1000) * 1000 + 1000;
  await waitFor(async () => (await ticksSince(from)).length >= 3, { timeoutMs: 30_000, description: 'three ticks' });
  await first.killNow();
  const downAt = await databaseNow(db);
  // Down for five ticks (the database's clock), then a new process.
  await waitFor(async () => (await databaseNow(db)) >= downAt + 5_000, { description: 'five seconds down' });
  await workers.start({ url: db.url, label: 'after', flow: 'scheduled' });
  const upAt = await databaseNow(db);
  await waitFor(async () => (await ticksSince(upAt)).length >= 3, { timeoutMs: 30_000, description: 'ticks after' });
  const to = Math.floor((await databaseNow(db)) / 1000) * 1000 - 1000;

  const seconds = Array.from({ length: (to - from) / 1000 + 1 }, (_, i) => new Date(from + i * 1000).toISOString());
  const ticks = await windowTicks(from, to, seconds.length);
  expect(ticks.map((tick) => tick.tick_at.toISOString())).toEqual(seconds);
  expect(ticks.every((tick) => tick.outcome === 'started')).toBe(true);
  // Due while no process ran: fired when the new one came up.
  const missed = ticks.filter((tick) => tick.tick_at.getTime() > downAt && tick.tick_at.getTime() < upAt);
  expect(missed.length).toBeGreaterThanOrEqual(5);
  const perTick = await db.query<{ runs: string }>(
    `select count(*) as runs from pgflow.runs where flow_slug = 'rel_scheduled'
      and (input ->> 'scheduledAt')::timestamptz between $1 and $2 group by input ->> 'scheduledAt'`,
    [new Date(from), new Date(to)],
  );
  expect(perTick).toEqual(seconds.map(() => ({ runs: '1' })));
}, 120_000);
