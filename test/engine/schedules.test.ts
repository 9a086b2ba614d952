/**
 * Schedules in the engine: sync_schedules creates, updates and removes a flow's schedules;
 * fire_schedule fires each tick exactly once (tick key + compare-and-set on next_tick_at), starting
 * its run in the same transaction, skipping ticks under overlap 'skip' and recording why;
 * pause_schedule / resume_schedule, and PF020 for an unknown name.
 */

import { useTestDatabase } from '../support/test-database.ts';
import { defineFlow, json, onClient, type Sql, startRun } from './support/engine-driver.ts';
import { expectEngineError } from './support/engine-errors.ts';

const db = useTestDatabase();

let flows = 0;
async function flow(): Promise<string> {
  const slug = `sched_${++flows}`;
  await defineFlow(db, slug, [{ slug: 'only' }]);
  return slug;
}

interface ScheduleRow {
  schedule_name: string;
  flow_slug: string;
  cron: string;
  time_zone: string;
  input: unknown;
  overlap: string;
  catch_up: string;
  paused_at: Date | null;
  next_tick_at: Date | null;
}

async function sync(sql: Sql, slug: string, schedules: unknown): Promise<Record<string, string[]>> {
  const [row] = await sql.query<{ r: Record<string, string[]> }>('select pgflow.sync_schedules($1, $2::jsonb) as r', [
    slug,
    json(schedules),
  ]);
  return row?.r ?? {};
}

async function schedules(slug: string): Promise<ScheduleRow[]> {
  return db.query<ScheduleRow>('select * from pgflow.schedules where flow_slug = $1 order by schedule_name', [slug]);
}

interface FireResult {
  advanced: boolean;
  ticks: Array<{ tick_at: string; outcome: string; run_id: string | null; error_message?: string | null }>;
}

async function fire(
  sql: Sql,
  name: string,
  expected: string | null,
  ticks: Array<{ at: string; run?: boolean }>,
  next: string,
): Promise<FireResult> {
  const [row] = await sql.query<{ r: FireResult }>(
    'select pgflow.fire_schedule($1, $2::timestamptz, $3::jsonb, $4::timestamptz) as r',
    [name, expected, json(ticks), next],
  );
  return row?.r as FireResult;
}

async function ticksOf(name: string) {
  return db.query<{ tick_at: Date; outcome: string; run_id: string | null; error_message: string | null }>(
    'select tick_at, outcome, run_id, error_message from pgflow.schedule_ticks where schedule_name = $1 order by tick_at',
    [name],
  );
}

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:01:00.000Z';
const T2 = '2026-01-01T00:02:00.000Z';
const T3 = '2026-01-01T00:03:00.000Z';

/** A schedule of a new flow whose next tick is T0. */
async function scheduleAtT0(options: Record<string, unknown> = {}): Promise<{ slug: string; name: string }> {
  const slug = await flow();
  const name = `${slug}_every_minute`;
  await sync(db, slug, [{ name, cron: '* * * * *', ...options }]);
  expect((await fire(db, name, null, [], T0)).advanced).toBe(true);
  return { slug, name };
}

describe('sync_schedules', () => {
  it('creates the declared schedules with their defaults, and a second identical sync changes nothing', async () => {
    const slug = await flow();
    const declared = [
      { name: `${slug}_a`, cron: '*/5 * * * *' },
      {
        name: `${slug}_b`,
        cron: '0 0 3 * * *',
        time_zone: 'Europe/Paris',
        input: { n: 1 },
        overlap: 'skip',
        catch_up: 'all',
      },
    ];
    expect(await sync(db, slug, declared)).toEqual({ created: [`${slug}_a`, `${slug}_b`], updated: [], removed: [] });
    expect(await schedules(slug)).toMatchObject([
      {
        schedule_name: `${slug}_a`,
        cron: '*/5 * * * *',
        time_zone: 'UTC',
        input: null,
        overlap: 'allow',
        catch_up: 'latest',
        next_tick_at: null,
      },
      {
        schedule_name: `${slug}_b`,
        cron: '0 0 3 * * *',
        time_zone: 'Europe/Paris',
        input: { n: 1 },
        overlap: 'skip',
        catch_up: 'all',
      },
    ]);
    expect(await sync(db, slug, declared)).toEqual({ created: [], updated: [], removed: [] });
  });

  it('updates a changed schedule (a new cron recomputes the next tick), keeps its pause, and removes the undeclared', async () => {
    const { slug, name } = await scheduleAtT0();
    await sync(db, slug, [
      { name, cron: '* * * * *' },
      { name: `${slug}_gone`, cron: '0 * * * *' },
    ]);
    await db.query('select pgflow.pause_schedule($1)', [name]);

    // Only the input changes: the next tick stays.
    expect(
      await sync(db, slug, [
        { name, cron: '* * * * *', input: 7 },
        { name: `${slug}_gone`, cron: '0 * * * *' },
      ]),
    ).toEqual({ created: [], updated: [name], removed: [] });
    expect((await schedules(slug))[0]).toMatchObject({ input: 7, next_tick_at: new Date(T0) });
    expect(await sync(db, slug, [{ name, cron: '*/2 * * * *', input: 7 }])).toEqual({
      created: [],
      updated: [name],
      removed: [`${slug}_gone`],
    });
    const [row] = await schedules(slug);
    expect(row).toMatchObject({ cron: '*/2 * * * *', next_tick_at: null });
    expect(row?.paused_at).toBeInstanceOf(Date);
    expect(await schedules(slug)).toHaveLength(1);
  });

  it('emits schedule:created, updated and removed', async () => {
    const slug = await flow();
    const client = await db.connect();
    const events: Array<Record<string, unknown>> = [];
    client.on('notification', (n) => events.push(JSON.parse(n.payload ?? '{}')));
    await client.query('listen "pgflow:schedules"');
    await sync(db, slug, [{ name: `${slug}_x`, cron: '* * * * *' }]);
    await sync(db, slug, [{ name: `${slug}_x`, cron: '0 * * * *' }]);
    await sync(db, slug, []);
    await client.query('select 1');
    expect(events.map((event) => [event.event_type, event.schedule_name, event.flow_slug])).toEqual([
      ['schedule:created', `${slug}_x`, slug],
      ['schedule:updated', `${slug}_x`, slug],
      ['schedule:removed', `${slug}_x`, slug],
    ]);
  });

  it('removes every schedule of the flow, with its ticks, when none is declared', async () => {
    const { slug, name } = await scheduleAtT0();
    await fire(db, name, T0, [{ at: T0 }], T1);
    expect(await sync(db, slug, [])).toEqual({ created: [], updated: [], removed: [name] });
    expect(await schedules(slug)).toEqual([]);
    expect(await ticksOf(name)).toEqual([]);
  });

  it("refuses a name another flow's schedule has (PF021), and invalid declarations (PF022), changing nothing", async () => {
    const { name } = await scheduleAtT0();
    const other = await flow();
    await expectEngineError(sync(db, other, [{ name, cron: '* * * * *' }]), { code: 'PF021', naming: [name, other] });
    for (const [bad, naming] of [
      [{ name: 'x y', cron: '* * * * *' }, '"x y"'],
      [{ name: `${other}_c`, cron: '* * *' }, '"* * *"'],
      [{ name: `${other}_c`, cron: '* * * * *', overlap: 'queue' }, '"queue"'],
      [{ name: `${other}_c`, cron: '* * * * *', catch_up: 'some' }, '"some"'],
    ] as const) {
      await expectEngineError(sync(db, other, [bad]), { code: 'PF022', naming: [naming] });
    }
    await expectEngineError(
      sync(db, other, [
        { name: 'dup', cron: '* * * * *' },
        { name: 'dup', cron: '0 * * * *' },
      ]),
      {
        code: 'PF022',
        naming: ['dup'],
      },
    );
    await expectEngineError(sync(db, 'no_such_flow', []), { code: 'PF002', naming: ['no_such_flow'] });
    expect(await schedules(other)).toEqual([]);
  });

  it('lets a newer version of a flow (same alias) take a schedule over', async () => {
    const v1 = await flow();
    const v2 = await flow();
    await db.query("update pgflow.flows set alias = 'sched_versions' where flow_slug = any($1)", [[v1, v2]]);
    await sync(db, v1, [{ name: 'versioned', cron: '* * * * *' }]);
    expect(await sync(db, v2, [{ name: 'versioned', cron: '* * * * *' }])).toMatchObject({ updated: ['versioned'] });
    expect((await schedules(v2)).map((row) => row.schedule_name)).toEqual(['versioned']);
  });
});

describe('fire_schedule', () => {
  it('starts one run per tick with { scheduledAt } as its input, and moves the next tick forward', async () => {
    const { name } = await scheduleAtT0();
    const result = await fire(db, name, T0, [{ at: T0 }, { at: T1 }], T2);
    expect(result.advanced).toBe(true);
    expect(result.ticks.map((tick) => tick.outcome)).toEqual(['started', 'started']);
    const runs = await db.query<{ input: unknown }>(
      'select r.input from pgflow.schedule_ticks t join pgflow.runs r using (run_id) where t.schedule_name = $1 order by t.tick_at',
      [name],
    );
    expect(runs).toEqual([{ input: { scheduledAt: T0 } }, { input: { scheduledAt: T1 } }]);
    const [row] = await db.query<ScheduleRow & { last_tick_at: Date }>(
      'select * from pgflow.schedules where schedule_name = $1',
      [name],
    );
    expect(row).toMatchObject({ next_tick_at: new Date(T2), last_tick_at: new Date(T1) });
  });

  it('fires a tick once when many workers fire it at the same moment', async () => {
    const { slug, name } = await scheduleAtT0({ input: { fixed: true } });
    const clients = await Promise.all(Array.from({ length: 6 }, () => db.connect()));
    const results = await Promise.all(clients.map((client) => fire(onClient(client), name, T0, [{ at: T0 }], T1)));
    expect(results.filter((result) => result.advanced)).toHaveLength(1);
    expect(await db.query('select input from pgflow.runs where flow_slug = $1', [slug])).toEqual([
      { input: { fixed: true } },
    ]);
    expect((await ticksOf(name)).map((tick) => tick.outcome)).toEqual(['started']);
  });

  it('never fires a recorded tick again, even when next_tick_at is set back', async () => {
    const { slug, name } = await scheduleAtT0();
    await fire(db, name, T0, [{ at: T0 }], T1);
    await db.query('update pgflow.schedules set next_tick_at = $2, last_tick_at = null where schedule_name = $1', [
      name,
      T0,
    ]);
    const again = await fire(db, name, T0, [{ at: T0 }, { at: T1 }], T2);
    expect(again.ticks.map((tick) => tick.tick_at)).toEqual(['2026-01-01T00:01:00+00:00']);
    expect(await db.query('select 1 from pgflow.runs where flow_slug = $1', [slug])).toHaveLength(2);
  });

  it("skips ticks while the previous run is in progress under overlap 'skip', and records why", async () => {
    const { name } = await scheduleAtT0({ overlap: 'skip' });
    await fire(db, name, T0, [{ at: T0 }], T1);
    const skipped = await fire(db, name, T1, [{ at: T1 }], T2);
    expect(skipped.ticks).toEqual([
      { tick_at: '2026-01-01T00:01:00+00:00', outcome: 'skipped_overlap', run_id: null, error_message: null },
    ]);
    // The first run ends: the next tick starts a run again.
    const [first] = await ticksOf(name);
    await db.query("select pgflow.cancel_run($1::uuid, 'done')", [first?.run_id]);
    expect((await fire(db, name, T2, [{ at: T2 }], T3)).ticks.map((tick) => tick.outcome)).toEqual(['started']);
  });

  it("starts overlapping runs under overlap 'allow'", async () => {
    const { name } = await scheduleAtT0();
    await fire(db, name, T0, [{ at: T0 }], T1);
    expect((await fire(db, name, T1, [{ at: T1 }], T2)).ticks.map((tick) => tick.outcome)).toEqual(['started']);
  });

  it('records ticks left out by catch-up, and a run that cannot start as failed, without stopping', async () => {
    const slug = `sched_map_${++flows}`;
    await defineFlow(db, slug, [{ slug: 'each', type: 'map' }]);
    const name = `${slug}_s`;
    await sync(db, slug, [{ name, cron: '* * * * *' }]);
    await fire(db, name, null, [], T0);
    const result = await fire(db, name, T0, [{ at: T0, run: false }, { at: T1 }], T2);
    expect(result.advanced).toBe(true);
    const ticks = await ticksOf(name);
    expect(ticks.map((tick) => tick.outcome)).toEqual(['skipped_catch_up', 'failed']);
    // { scheduledAt } is not an array, and the flow maps over its input.
    expect(ticks[1]?.error_message).toMatch(/PF006/);
  });

  it('does nothing when next_tick_at moved on, or the schedule is paused or gone', async () => {
    const { slug, name } = await scheduleAtT0();
    expect((await fire(db, name, T1, [{ at: T1 }], T2)).advanced).toBe(false);
    await db.query('select pgflow.pause_schedule($1)', [name]);
    expect((await fire(db, name, T0, [{ at: T0 }], T1)).advanced).toBe(false);
    expect((await fire(db, 'no_such_schedule', T0, [{ at: T0 }], T1)).advanced).toBe(false);
    expect(await db.query('select 1 from pgflow.runs where flow_slug = $1', [slug])).toEqual([]);
  });

  it('refuses ticks outside [next_tick_at, next) with PF022', async () => {
    const { name } = await scheduleAtT0();
    await expectEngineError(fire(db, name, T1, [{ at: T0 }], T2), { code: 'PF022', naming: [name] });
    await expectEngineError(fire(db, name, T0, [{ at: T2 }], T2), { code: 'PF022', naming: [name] });
  });
});

describe('pause_schedule and resume_schedule', () => {
  it('pause and resume (resuming recomputes the next tick), say when nothing changed, and emit events', async () => {
    const { slug, name } = await scheduleAtT0();
    const client = await db.connect();
    const events: Array<Record<string, unknown>> = [];
    client.on('notification', (n) => events.push(JSON.parse(n.payload ?? '{}')));
    await client.query('listen "pgflow:schedules"');

    const [paused] = await db.query<{ r: Record<string, unknown> }>('select pgflow.pause_schedule($1) as r', [name]);
    expect(paused?.r).toMatchObject({ schedule_name: name, flow_slug: slug, paused: true, changed: true });
    const [again] = await db.query<{ r: Record<string, unknown> }>('select pgflow.pause_schedule($1) as r', [name]);
    expect(again?.r).toMatchObject({ paused: true, changed: false });
    const [resumed] = await db.query<{ r: Record<string, unknown> }>('select pgflow.resume_schedule($1) as r', [name]);
    expect(resumed?.r).toMatchObject({ paused: false, paused_at: null, changed: true });
    expect((await schedules(slug))[0]?.next_tick_at).toBeNull();
    await fire(db, name, null, [], T2);
    await fire(db, name, T2, [{ at: T2 }], T3);
    await client.query('select 1');
    expect(events.map((event) => event.event_type)).toEqual([
      'schedule:paused',
      'schedule:resumed',
      'schedule:advanced',
      'schedule:tick',
    ]);
    expect(new Date(events[2]?.next_tick_at as string)).toEqual(new Date(T2));
    expect(events[3]).toMatchObject({
      schedule_name: name,
      flow_slug: slug,
      outcome: 'started',
      run_id: expect.any(String),
    });
  });

  it('refuses an unknown schedule with PF020 naming it', async () => {
    await expectEngineError(db.query("select pgflow.pause_schedule('nope_schedule')"), {
      code: 'PF020',
      naming: ['nope_schedule'],
    });
    await expectEngineError(db.query("select pgflow.resume_schedule('nope_schedule')"), {
      code: 'PF020',
      naming: ['nope_schedule'],
    });
  });
});

it('a run a schedule started is an ordinary run of its flow', async () => {
  const { slug, name } = await scheduleAtT0();
  await fire(db, name, T0, [{ at: T0 }], T1);
  const direct = await startRun(db, slug, { scheduledAt: T0 });
  expect(
    await db.query('select status from pgflow.runs where flow_slug = $1 order by run_id = $2', [slug, direct.run_id]),
  ).toEqual([{ status: 'started' }, { status: 'started' }]);
});
