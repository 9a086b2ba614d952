import { CronSchedule } from './schedule-cron.ts';
import { MAX_CATCH_UP_TICKS, ON_TIME_MS, planTicks } from './schedule-ticks.ts';

const everyMinute = new CronSchedule('* * * * *', 'UTC');
const at = (iso: string) => new Date(iso);
const iso = (ticks: ReadonlyArray<{ at: Date; run: boolean }>) =>
  ticks.map((tick) => `${tick.at.toISOString().slice(11, 16)}${tick.run ? '' : ' skip'}`);

describe('planTicks', () => {
  it('fires the due tick and names the next one', () => {
    const plan = planTicks(everyMinute, 'none', at('2026-01-01T10:00:00Z'), at('2026-01-01T10:00:00.200Z'));
    expect(iso(plan.ticks)).toEqual(['10:00']);
    expect(plan.next).toEqual(at('2026-01-01T10:01:00Z'));
  });

  it.each([
    ['none', ['10:00 skip', '10:01 skip', '10:02 skip', '10:03 skip', '10:04']],
    ['latest', ['10:00 skip', '10:01 skip', '10:02 skip', '10:03', '10:04']],
    ['all', ['10:00', '10:01', '10:02', '10:03', '10:04']],
  ] as const)(
    'after downtime, catchUp %s runs the on-time tick and what the policy catches up',
    (catchUp, expected) => {
      const plan = planTicks(everyMinute, catchUp, at('2026-01-01T10:00:00Z'), at('2026-01-01T10:04:30Z'));
      expect(iso(plan.ticks)).toEqual(expected);
      expect(plan.next).toEqual(at('2026-01-01T10:05:00Z'));
    },
  );

  it(`counts the latest tick as missed too when it is more than ${ON_TIME_MS} ms late`, () => {
    const daily = new CronSchedule('0 3 * * *', 'UTC');
    const plan = planTicks(daily, 'latest', at('2026-01-01T03:00:00Z'), at('2026-01-03T12:00:00Z'));
    expect(plan.ticks.map((tick) => [tick.at.toISOString().slice(0, 10), tick.run])).toEqual([
      ['2026-01-01', false],
      ['2026-01-02', false],
      ['2026-01-03', true],
    ]);
    expect(
      planTicks(daily, 'none', at('2026-01-01T03:00:00Z'), at('2026-01-03T12:00:00Z')).ticks.some((t) => t.run),
    ).toBe(false);
  });

  it(`catches up at most ${MAX_CATCH_UP_TICKS} ticks, the latest ones`, () => {
    const plan = planTicks(everyMinute, 'all', at('2026-01-01T00:00:00Z'), at('2026-01-02T00:00:30Z'));
    expect(plan.ticks).toHaveLength(MAX_CATCH_UP_TICKS + 1);
    expect(plan.ticks.every((tick) => tick.run)).toBe(true);
    expect(plan.ticks.at(-1)?.at).toEqual(at('2026-01-02T00:00:00Z'));
  });

  it('reads the cron in its time zone (03:00 in Paris is 02:00 UTC in winter)', () => {
    const paris = new CronSchedule('0 3 * * *', 'Europe/Paris');
    expect(paris.nextAfter(at('2026-01-01T00:00:00Z'))).toEqual(at('2026-01-01T02:00:00Z'));
  });

  it('has nothing due when no tick falls between the next tick and now (a cron changed by hand)', () => {
    const hourly = new CronSchedule('0 * * * *', 'UTC');
    const plan = planTicks(hourly, 'all', at('2026-01-01T10:30:00Z'), at('2026-01-01T10:45:00Z'));
    expect(plan.ticks).toEqual([]);
    expect(plan.next).toEqual(at('2026-01-01T11:00:00Z'));
  });
});

describe('CronSchedule', () => {
  it('refuses an invalid cron and an unknown time zone', () => {
    expect(() => new CronSchedule('61 * * * *', 'UTC')).toThrow();
    expect(() => new CronSchedule('* * * * *', 'Mars/Olympus')).toThrow(RangeError);
  });

  it('takes 6 fields with seconds first', () => {
    const everyTenSeconds = new CronSchedule('*/10 * * * * *', 'UTC');
    expect(everyTenSeconds.nextAfter(at('2026-01-01T00:00:01Z'))).toEqual(at('2026-01-01T00:00:10Z'));
  });
});
