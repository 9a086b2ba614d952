/**
 * Rate limits across processes (issue 13): `@Flow({ rateLimit: { limit: 5, periodSeconds: 1 } })`
 * served by two applications (two workers) with a backlog starts at most 5 tasks in any second of
 * the database's clock, and 45 to 55 over 10 s; with a key, each key gets its own 5 per second.
 * Neither worker alone can start 5 tasks a second (2 slots, handlers of 500 ms), so both must claim
 * under the one limit: a limit counted per worker would let them start about 8 a second.
 * Counted from step_tasks.started_at (the database decides the windows); the test waits for
 * conditions only. Bad options refuse the boot, bad keys the start, and nothing is written.
 */
import { Flow, InvalidFlowDefinitionError, InvalidRunInputError, Step } from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

const LIMIT = 5;
const SECONDS = 10;

/** Two slots per worker, each task held 500 ms: at most 4 task starts a second per worker. */
const SMALL_WORKER = { maxConcurrent: 2, batchSize: 2 } as const;
const HANDLER_MS = 500;

@Flow({ slug: 'rl_outbound', maxAttempts: 1, rateLimit: { limit: LIMIT, periodSeconds: 1 } })
class OutboundFlow {
  @Step()
  async call(input: { n: number }) {
    await new Promise((resolve) => setTimeout(resolve, HANDLER_MS));
    return input.n;
  }
}

@Flow({
  slug: 'rl_per_host',
  maxAttempts: 1,
  rateLimit: { limit: LIMIT, periodSeconds: 1, key: (input: { host: string }) => input.host },
})
class PerHostFlow {
  @Step()
  call(input: { host: string }) {
    return input.host;
  }
}

const db = useTestDatabase();
const apps = useApps();

interface Window {
  second: number;
  key: string | null;
  n: number;
}

/** Task starts of a flow per second of the database's clock (and per key), oldest first. */
async function startsPerSecond(flowSlug: string): Promise<Window[]> {
  return db.query<Window>(
    `select floor(extract(epoch from t.started_at))::bigint::int as second, r.rate_limit_key as key, count(*)::int as n
       from pgflow.step_tasks t join pgflow.runs r using (run_id)
      where t.flow_slug = $1 and t.started_at is not null
      group by 1, 2 order by 1, 2`,
    [flowSlug],
  );
}

async function startTwoWorkers(providers: unknown[], worker = {}) {
  const first = await apps.start({ url: db.url, providers: providers as never[], pgflow: { worker } });
  await apps.start({ url: db.url, providers: providers as never[], pgflow: { worker } });
  return first.client;
}

it(`starts ${LIMIT} tasks per second over ${SECONDS} s with two workers and a backlog`, async () => {
  const client = await startTwoWorkers([OutboundFlow], SMALL_WORKER);
  await client.startMany(
    OutboundFlow,
    Array.from({ length: 150 }, (_, n) => ({ n })),
  );
  // The first second may be partial (the backlog arrives during it): count from the next one.
  const windows = await waitFor(
    async () => {
      const rows = await startsPerSecond('rl_outbound');
      const first = rows[0]?.second;
      return first !== undefined && (rows.at(-1)?.second ?? 0) >= first + SECONDS + 1 ? rows : undefined;
    },
    { timeoutMs: 80_000, description: `${SECONDS + 2} seconds of task starts` },
  );
  const from = (windows[0]?.second ?? 0) + 1;
  const measured = windows.filter((w) => w.second >= from && w.second < from + SECONDS);
  const total = measured.reduce((sum, w) => sum + w.n, 0);
  console.log(`rate limit ${LIMIT}/s: ${total} task starts in ${SECONDS} s (${measured.map((w) => w.n).join(' ')})`);
  expect(Math.max(...windows.map((w) => w.n))).toBeLessThanOrEqual(LIMIT);
  expect(total).toBeGreaterThanOrEqual(45);
  expect(total).toBeLessThanOrEqual(55);
  // Nothing was dropped: every run is either done or still waiting its turn.
  const [runs] = await db.query<{ failed: number }>(
    "select count(*) filter (where status = 'failed')::int as failed from pgflow.runs where flow_slug = 'rl_outbound'",
  );
  expect(runs?.failed).toBe(0);
  // Both workers claimed under the one limit (neither could keep up with it alone).
  const [workers] = await db.query<{ n: number }>(
    "select count(distinct last_worker_id)::int as n from pgflow.step_tasks where flow_slug = 'rl_outbound'",
  );
  expect(workers?.n).toBe(2);
});

it('gives each key its own budget', async () => {
  const client = await startTwoWorkers([PerHostFlow]);
  await client.startMany(PerHostFlow, [
    ...Array.from({ length: 40 }, () => ({ host: 'a.example' })),
    ...Array.from({ length: 40 }, () => ({ host: 'b.example' })),
  ]);
  const windows = await waitFor(
    async () => {
      const rows = await startsPerSecond('rl_per_host');
      const seconds = new Set(rows.map((w) => w.second));
      return seconds.size >= 5 ? rows : undefined;
    },
    { timeoutMs: 60_000, description: '5 seconds of task starts' },
  );
  expect(Math.max(...windows.map((w) => w.n))).toBeLessThanOrEqual(LIMIT);
  // Both hosts were served side by side: more than one key's limit started in some second.
  const perSecond = new Map<number, number>();
  for (const w of windows) perSecond.set(w.second, (perSecond.get(w.second) ?? 0) + w.n);
  expect(Math.max(...perSecond.values())).toBeGreaterThan(LIMIT);
  expect(new Set(windows.map((w) => w.key))).toEqual(new Set(['a.example', 'b.example']));
});

describe('bad rate limits', () => {
  it.each([
    ['a zero limit', { limit: 0, periodSeconds: 1 }, 'limit'],
    ['a negative period', { limit: 5, periodSeconds: -2 }, 'periodSeconds'],
    ['a key that is not a function', { limit: 5, periodSeconds: 1, key: 'tenant' }, 'key'],
  ])(
    'refuses to boot with %s, naming the flow and the option, and compiles nothing',
    async (_name, rateLimit, option) => {
      @Flow({ slug: 'rl_bad', rateLimit: rateLimit as never })
      class BadFlow {
        @Step()
        call() {
          return 1;
        }
      }
      const error = await apps.start({ url: db.url, providers: [BadFlow] }).then(
        () => new Error('expected the application to refuse to boot'),
        (refused: unknown) => refused,
      );
      expect(error).toBeInstanceOf(InvalidFlowDefinitionError);
      expect((error as Error).message).toContain('BadFlow');
      expect((error as Error).message).toContain(`rateLimit: { ${option} }`);
      expect(await db.query("select 1 from pgflow.flows where flow_slug = 'rl_bad'")).toEqual([]);
    },
  );

  it.each([
    [
      'throws',
      (input: { tenant?: string }) => {
        if (input.tenant === undefined) throw new Error('no tenant');
        return input.tenant;
      },
    ],
    ['returns a number', () => 42 as unknown as string],
    ['returns an empty string', () => ''],
  ])('refuses a start whose key function %s, and starts nothing', async (_name, key) => {
    @Flow({ slug: 'rl_bad_key', rateLimit: { limit: 1, periodSeconds: 1, key } })
    class BadKeyFlow {
      @Step()
      call() {
        return 1;
      }
    }
    const { client } = await apps.start({ url: db.url, providers: [BadKeyFlow] });
    const single = await client.start(BadKeyFlow, {}).then(
      () => new Error('expected start() to refuse'),
      (refused: unknown) => refused,
    );
    expect(single).toBeInstanceOf(InvalidRunInputError);
    expect((single as Error).message).toContain("'rl_bad_key'");
    expect((single as Error).message).toContain('rateLimit: { key }');
    const many = await client.startMany(BadKeyFlow, [{ tenant: 't1' }, {}]).then(
      () => new Error('expected startMany() to refuse'),
      (refused: unknown) => refused,
    );
    expect(many).toBeInstanceOf(InvalidRunInputError);
    expect(await db.query("select 1 from pgflow.runs where flow_slug = 'rl_bad_key'")).toEqual([]);
  });
});
