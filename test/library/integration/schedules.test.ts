/**
 * Schedules in real Nest applications: @FlowSchedule validated at boot (nothing written when it is
 * wrong), synced at boot (created, changed, removed), fired by the worker with { scheduledAt } as
 * the input, catch-up after downtime ('none' / 'latest' / 'all'), overlap 'skip', and
 * listSchedules / pauseSchedule / resumeSchedule.
 */
import { Injectable } from '@nestjs/common';
import {
  Flow,
  type FlowClient,
  FlowSchedule,
  InvalidFlowDefinitionError,
  type MapStepContext,
  ScheduleNotFoundError,
  Step,
  type StepContext,
} from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

const db = useTestDatabase();
const apps = useApps();

@FlowSchedule('* * * * * *', { name: 'lib_every_second', catchUp: 'all' })
@Flow({ slug: 'lib_sched_tick' })
class EverySecondFlow {
  @Step()
  tick(input: { scheduledAt: string }) {
    return input.scheduledAt;
  }
}

/** Once a year: every due tick of the tests below is long past, so all of them count as missed. */
const YEARLY = '0 0 1 1 *';

@FlowSchedule(YEARLY, { name: 'lib_catch_up_none', catchUp: 'none' })
@FlowSchedule(YEARLY, { name: 'lib_catch_up_latest', catchUp: 'latest' })
@FlowSchedule(YEARLY, { name: 'lib_catch_up_all', catchUp: 'all', input: { all: true } })
@Flow({ slug: 'lib_sched_yearly' })
class YearlyFlow {
  @Step()
  report(input: unknown) {
    return input;
  }
}

/** Lets the tests hold a run in progress. */
@Injectable()
class Gate {
  private release: (() => void) | undefined;
  readonly opened = new Promise<void>((resolve) => {
    this.release = resolve;
  });
  open(): void {
    this.release?.();
  }
}

@FlowSchedule('* * * * * *', { name: 'lib_no_overlap', overlap: 'skip' })
@Flow({ slug: 'lib_sched_slow' })
class SlowFlow {
  constructor(private readonly gate: Gate) {}

  @Step()
  async work(_input: unknown, ctx: StepContext) {
    await Promise.race([this.gate.opened, new Promise((resolve) => ctx.signal.addEventListener('abort', resolve))]);
    return 'done';
  }
}

async function runsOf(slug: string) {
  return db.query<{ run_id: string; input: unknown; status: string }>(
    'select run_id, input, status from pgflow.runs where flow_slug = $1 order by started_at',
    [slug],
  );
}

async function ticksOf(name: string) {
  return db.query<{ tick_at: Date; outcome: string; run_id: string | null }>(
    'select tick_at, outcome, run_id from pgflow.schedule_ticks where schedule_name = $1 order by tick_at',
    [name],
  );
}

describe('@FlowSchedule at boot', () => {
  it.each([
    ['a cron that is not 5 or 6 fields', '* * *', {}, /5 fields/],
    ['an invalid cron', '61 * * * *', {}, /not a valid cron expression/],
    ['an unknown time zone', '0 3 * * *', { timeZone: 'Mars/Olympus' }, /"Mars\/Olympus", which is not a time zone/],
    ['an unknown overlap', '0 3 * * *', { overlap: 'queue' }, /overlap "queue"; expected 'allow' or 'skip'/],
    ['a misspelled option', '0 3 * * *', { catchup: 'all' }, /did you mean 'catchUp'/],
  ])('refuses %s, naming the flow and the fix, and writes nothing', async (_what, cron, options, message) => {
    @FlowSchedule(cron, options as object)
    @Flow({ slug: 'lib_sched_bad' })
    class BadFlow {
      @Step()
      only() {
        return 1;
      }
    }
    const failure = apps.start({ url: db.url, providers: [BadFlow] });
    await expect(failure).rejects.toThrow(InvalidFlowDefinitionError);
    await expect(failure).rejects.toThrow(/BadFlow \(flow 'lib_sched_bad'\)/);
    await expect(failure).rejects.toThrow(message);
    expect(await db.query("select 1 from pgflow.flows where flow_slug = 'lib_sched_bad'")).toEqual([]);
  });

  it('refuses two schedules of a flow with the same name (the default name is the flow slug)', async () => {
    @FlowSchedule('0 3 * * *')
    @FlowSchedule('0 4 * * *')
    @Flow({ slug: 'lib_sched_twice' })
    class TwiceFlow {
      @Step()
      only() {
        return 1;
      }
    }
    await expect(apps.start({ url: db.url, providers: [TwiceFlow] })).rejects.toThrow(
      /two @FlowSchedule\(\) decorations are named 'lib_sched_twice' \(the default name is the flow slug\)/,
    );
  });

  it('refuses one schedule name on two flows, before anything is written', async () => {
    @FlowSchedule('0 3 * * *', { name: 'lib_shared_name' })
    @Flow({ slug: 'lib_sched_one' })
    class OneFlow {
      @Step()
      only() {
        return 1;
      }
    }
    @FlowSchedule('0 4 * * *', { name: 'lib_shared_name' })
    @Flow({ slug: 'lib_sched_other' })
    class OtherFlow {
      @Step()
      only() {
        return 1;
      }
    }
    await expect(apps.start({ url: db.url, providers: [OneFlow, OtherFlow] })).rejects.toThrow(
      /OtherFlow and OneFlow \(flow 'lib_sched_one'\) both declare a schedule named 'lib_shared_name'/,
    );
    expect(
      await db.query("select 1 from pgflow.flows where flow_slug in ('lib_sched_one', 'lib_sched_other')"),
    ).toEqual([]);
  });

  it('refuses a schedule without an array input on a flow that maps over its input', async () => {
    @FlowSchedule('0 3 * * *')
    @Flow({ slug: 'lib_sched_map' })
    class MapFlow {
      @Step({ map: true })
      each(item: string, _ctx: MapStepContext) {
        return item;
      }
    }
    await expect(apps.start({ url: db.url, providers: [MapFlow] })).rejects.toThrow(/give the schedule an input/);
  });

  it('creates the declared schedules, changes them, and removes them with their decorator', async () => {
    @FlowSchedule('0 3 * * *', { name: 'lib_sync_a' })
    @FlowSchedule('0 4 * * *', { name: 'lib_sync_b', timeZone: 'Europe/Paris' })
    @Flow({ slug: 'lib_sched_sync' })
    class First {
      @Step()
      only() {
        return 1;
      }
    }
    const first = await apps.start({ url: db.url, providers: [First] });
    expect((await first.client.listSchedules()).filter((s) => s.flowSlug === 'lib_sched_sync')).toMatchObject([
      { name: 'lib_sync_a', cron: '0 3 * * *', timeZone: 'UTC', overlap: 'allow', catchUp: 'latest', paused: false },
      { name: 'lib_sync_b', cron: '0 4 * * *', timeZone: 'Europe/Paris' },
    ]);
    await first.close();

    @FlowSchedule('30 3 * * *', { name: 'lib_sync_a', overlap: 'skip' })
    @Flow({ slug: 'lib_sched_sync' })
    class Second {
      @Step()
      only() {
        return 1;
      }
    }
    const second = await apps.start({ url: db.url, providers: [Second] });
    const schedules = (await second.client.listSchedules()).filter((s) => s.flowSlug === 'lib_sched_sync');
    expect(schedules).toMatchObject([{ name: 'lib_sync_a', cron: '30 3 * * *', overlap: 'skip' }]);
    // The worker computed the next tick of the new cron: 03:30 UTC.
    const next = await waitFor(
      async () => (await second.client.listSchedules()).find((s) => s.name === 'lib_sync_a')?.nextTickAt,
    );
    expect([next.getUTCHours(), next.getUTCMinutes()]).toEqual([3, 30]);
  });
});

describe('firing', () => {
  it('starts one run per tick, once, with { scheduledAt } as its input', async () => {
    const { client, close } = await apps.start({ url: db.url, providers: [EverySecondFlow] });
    await waitFor(
      async () => (await runsOf('lib_sched_tick')).filter((run) => run.status === 'completed').length >= 3,
      {
        timeoutMs: 20_000,
        description: 'three completed scheduled runs',
      },
    );
    const listed = (await client.listSchedules()).find((s) => s.name === 'lib_every_second');
    await close(); // no tick fires between the two reads below
    const runs = await runsOf('lib_sched_tick');
    const ticks = (await ticksOf('lib_every_second')).filter((tick) => tick.outcome === 'started');
    expect(runs.length).toBe(ticks.length);
    expect(runs.map((run) => (run.input as { scheduledAt: string }).scheduledAt).sort()).toEqual(
      ticks.map((tick) => tick.tick_at.toISOString()),
    );
    expect(listed).toMatchObject({
      flowSlug: 'lib_sched_tick',
      lastRunId: expect.any(String),
    });
  });

  it("after downtime, catchUp 'none' starts no run for the missed ticks, 'latest' one, 'all' one per tick", async () => {
    const yearly = async (client: FlowClient) =>
      (await client.listSchedules()).filter((schedule) => schedule.flowSlug === 'lib_sched_yearly');
    const booted = await apps.start({ url: db.url, providers: [YearlyFlow] });
    await waitFor(async () => (await yearly(booted.client)).every((schedule) => schedule.nextTickAt !== null));
    await booted.close();
    // Down for five ticks: the next tick was January 1st four years ago.
    await db.query(
      `update pgflow.schedules
          set next_tick_at = make_timestamptz(extract(year from now() at time zone 'UTC')::int - 4, 1, 1, 0, 0, 0, 'UTC')
        where flow_slug = 'lib_sched_yearly'`,
    );
    const restarted = await apps.start({ url: db.url, providers: [YearlyFlow] });
    const thisYear = new Date().getUTCFullYear();
    await waitFor(async () =>
      (await yearly(restarted.client)).every((schedule) => schedule.nextTickAt?.getUTCFullYear() === thisYear + 1),
    );
    const outcomes = async (name: string) => (await ticksOf(name)).map((tick) => tick.outcome);
    expect(await outcomes('lib_catch_up_none')).toEqual(Array(5).fill('skipped_catch_up'));
    expect(await outcomes('lib_catch_up_latest')).toEqual([...Array(4).fill('skipped_catch_up'), 'started']);
    expect(await outcomes('lib_catch_up_all')).toEqual(Array(5).fill('started'));
    const inputs = (await runsOf('lib_sched_yearly')).map((run) => run.input);
    expect(inputs).toHaveLength(6);
    expect(inputs.filter((input) => JSON.stringify(input) === '{"all":true}')).toHaveLength(5);
    expect(inputs).toContainEqual({ scheduledAt: `${thisYear}-01-01T00:00:00.000Z` });
  });

  it("skips ticks while the previous run is in progress under overlap 'skip', and records why", async () => {
    const { app } = await apps.start({ url: db.url, providers: [SlowFlow, Gate] });
    const skipped = await waitFor(
      async () => (await ticksOf('lib_no_overlap')).filter((tick) => tick.outcome === 'skipped_overlap').length >= 2,
      { timeoutMs: 20_000, description: 'two ticks skipped for overlap' },
    );
    expect(skipped).toBe(true);
    expect((await runsOf('lib_sched_slow')).filter((run) => run.status === 'started')).toHaveLength(1);
    app.get(Gate).open();
    await waitFor(async () => (await runsOf('lib_sched_slow')).some((run) => run.status === 'completed'), {
      timeoutMs: 20_000,
    });
  });
});

describe('listSchedules, pauseSchedule and resumeSchedule', () => {
  it('pauses a schedule on every process until resumed, then fires from the resume on', async () => {
    const worker = await apps.start({ url: db.url, providers: [EverySecondFlow] });
    const api = await apps.start({ url: db.url, providers: [EverySecondFlow], pgflow: { worker: { enabled: false } } });
    await waitFor(async () => (await ticksOf('lib_every_second')).length > 0, { timeoutMs: 20_000 });

    const paused = await api.client.pauseSchedule('lib_every_second');
    expect(paused).toMatchObject({ name: 'lib_every_second', flowSlug: 'lib_sched_tick', paused: true, changed: true });
    expect(await api.client.pauseSchedule('lib_every_second')).toMatchObject({ changed: false });
    const listed = (await worker.client.listSchedules()).find((s) => s.name === 'lib_every_second');
    expect(listed).toMatchObject({ name: 'lib_every_second', paused: true, nextTickAt: null });
    const ticksWhenPaused = (await ticksOf('lib_every_second')).length;

    const resumed = await api.client.resumeSchedule('lib_every_second');
    expect(resumed).toMatchObject({ paused: false, pausedAt: null, changed: true });
    // Ticks of the pause are not caught up: the next tick is after the resume.
    const after = await waitFor(
      async () => (await ticksOf('lib_every_second')).slice(ticksWhenPaused).find((tick) => tick.outcome === 'started'),
      { timeoutMs: 20_000, description: 'a tick after the resume' },
    );
    expect(after.tick_at.getTime()).toBeGreaterThan(paused.pausedAt?.getTime() ?? 0);
  });

  it('refuses an unknown schedule with ScheduleNotFoundError naming it and the known ones', async () => {
    const { client } = await apps.start({ url: db.url, providers: [EverySecondFlow] });
    const refusal = client.pauseSchedule('lib_no_such_schedule');
    await expect(refusal).rejects.toThrow(ScheduleNotFoundError);
    await expect(refusal).rejects.toThrow(/No schedule is named 'lib_no_such_schedule'.*'lib_every_second'/);
    await expect(client.resumeSchedule('lib_no_such_schedule')).rejects.toMatchObject({
      code: 'PGFLOW_SCHEDULE_NOT_FOUND',
      scheduleName: 'lib_no_such_schedule',
    });
  });
});
