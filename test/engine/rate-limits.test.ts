/**
 * Rate limits: a shape's options.rateLimit sets pgflow.flows.opt_rate_limit / opt_rate_period; the
 * claim (pgflow._claim_tasks, and pgflow's start_tasks) starts at most `limit` tasks per window of
 * `periodSeconds` (aligned to the epoch) per runs.rate_limit_key, counted in
 * pgflow.rate_limit_windows; the messages over the limit wait, invisible, for the next window.
 * Windows of an hour keep every claim of a test in one window, except the test of the next window.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { useTestDatabase } from '../support/test-database.ts';
import { json, registerWorker, type Sql, startTasks } from './support/engine-driver.ts';
import { expectEngineError } from './support/engine-errors.ts';

const db = useTestDatabase();

const STEPS = [
  {
    slug: 'call',
    stepType: 'single',
    dependencies: [],
    whenUnmet: 'skip',
    whenExhausted: 'fail',
    requiredInputPattern: { defined: false },
    forbiddenInputPattern: { defined: false },
  },
];

async function compile(flowSlug: string, rateLimit?: unknown): Promise<{ status: string; options_changed?: string[] }> {
  const shape = rateLimit === undefined ? { steps: STEPS } : { steps: STEPS, options: { rateLimit } };
  const [row] = await db.query<{ r: { status: string; options_changed?: string[] } }>(
    'select pgflow.ensure_flow_compiled($1, $2::jsonb) as r',
    [flowSlug, JSON.stringify(shape)],
  );
  if (!row) throw new Error('ensure_flow_compiled returned no row');
  return row.r;
}

async function rateLimitOf(flowSlug: string): Promise<unknown> {
  const [row] = await db.query('select opt_rate_limit, opt_rate_period from pgflow.flows where flow_slug = $1', [
    flowSlug,
  ]);
  return row;
}

/** Starts n runs, all with the given rate limit key (null: none). */
async function startRuns(flowSlug: string, n: number, key: string | null = null): Promise<void> {
  await db.query('select 1 from pgflow.start_flows($1, $2::jsonb, rate_limit_keys => $3::text[])', [
    flowSlug,
    json(Array.from({ length: n }, (_, i) => ({ i }))),
    Array.from({ length: n }, () => key),
  ]);
}

interface Claimed {
  run_id: string;
  msg_id: string;
}

async function claim(sql: Sql, flowSlug: string, qty = 100): Promise<Claimed[]> {
  const worker = await registerWorker(db, flowSlug);
  return sql.query<Claimed>('select run_id, msg_id from pgflow._claim_tasks($1, $2, 30, $3::uuid)', [
    flowSlug,
    qty,
    worker,
  ]);
}

async function taskCounts(flowSlug: string): Promise<Record<string, number>> {
  const rows = await db.query<{ status: string; n: number; attempts: number }>(
    `select status, count(*)::int as n, sum(attempts_count)::int as attempts
       from pgflow.step_tasks where flow_slug = $1 group by status`,
    [flowSlug],
  );
  return Object.fromEntries(
    rows.flatMap((row) => [
      [row.status, row.n],
      [`${row.status} attempts`, row.attempts],
    ]),
  );
}

describe('compiling a rate limit', () => {
  it('stores options.rateLimit, changes it on a later verify, and clears it when the shape has none', async () => {
    expect(await compile('rl_compile', { limit: 5, periodSeconds: 1 })).toMatchObject({ status: 'compiled' });
    expect(await rateLimitOf('rl_compile')).toEqual({ opt_rate_limit: 5, opt_rate_period: 1 });
    const changed = await compile('rl_compile', { limit: 10, periodSeconds: 60 });
    expect(changed).toMatchObject({ status: 'verified', options_changed: ['rate_limit 5 per 1 s -> 10 per 60 s'] });
    expect(await rateLimitOf('rl_compile')).toEqual({ opt_rate_limit: 10, opt_rate_period: 60 });
    // pgflow's DSL has no rate limits: its shape still verifies, and the flow then has none.
    expect(await compile('rl_compile')).toMatchObject({ status: 'verified' });
    expect(await rateLimitOf('rl_compile')).toEqual({ opt_rate_limit: null, opt_rate_period: null });
  });

  it.each([
    ['a zero limit', { limit: 0, periodSeconds: 1 }],
    ['a negative period', { limit: 5, periodSeconds: -1 }],
    ['a fractional limit', { limit: 1.5, periodSeconds: 1 }],
    ['a string', { limit: '5', periodSeconds: 1 }],
    ['a missing period', { limit: 5 }],
    ['a number', 5],
  ])('refuses %s (PF070) and changes nothing', async (_name, rateLimit) => {
    const slug = `rl_bad_${randomUUID().slice(0, 8)}`;
    await expectEngineError(compile(slug, rateLimit), { code: 'PF070', naming: [slug] });
    expect(await db.query('select 1 from pgflow.flows where flow_slug = $1', [slug])).toEqual([]);
    await compile(slug, { limit: 2, periodSeconds: 2 });
    await expectEngineError(compile(slug, rateLimit), { code: 'PF070', naming: [slug] });
    expect(await rateLimitOf(slug)).toEqual({ opt_rate_limit: 2, opt_rate_period: 2 });
  });

  it('is refused by the table for a limit without a period or a non-positive one', async () => {
    await compile('rl_table');
    for (const [limit, period] of [
      [5, null],
      [0, 1],
      [1, 0],
    ]) {
      await expect(
        db.query('update pgflow.flows set opt_rate_limit = $2, opt_rate_period = $3 where flow_slug = $1', [
          'rl_table',
          limit,
          period,
        ]),
      ).rejects.toMatchObject({ code: '23514' });
    }
  });
});

describe('claiming under a rate limit', () => {
  it('starts up to the limit; the rest wait for the next window, with no attempt counted and an event each', async () => {
    await compile('rl_window', { limit: 3, periodSeconds: 3600 });
    await startRuns('rl_window', 5);
    const listener = await db.connect();
    const events: { event_type: string; visible_at?: string }[] = [];
    listener.on('notification', (n) => events.push(JSON.parse(n.payload ?? '{}')));
    const runs = await db.query<{ run_id: string }>("select run_id from pgflow.runs where flow_slug = 'rl_window'");
    for (const run of runs) await listener.query(`listen "pgflow:run:${run.run_id}"`);

    expect(await claim(db, 'rl_window')).toHaveLength(3);
    expect(await taskCounts('rl_window')).toEqual({
      started: 3,
      'started attempts': 3,
      queued: 2,
      'queued attempts': 0,
    });
    const [held] = await db.query<{ ok: boolean; n: number }>(
      `select count(*)::int as n,
              bool_and(q.vt = to_timestamp(floor(extract(epoch from now()) / 3600) * 3600 + 3600)) as ok
         from pgmq.q_rl_window q join pgflow.step_tasks t on t.message_id = q.msg_id and t.flow_slug = 'rl_window'
        where t.status = 'queued'`,
    );
    expect(held).toEqual({ n: 2, ok: true });
    expect(await db.query("select key, used from pgflow.rate_limit_windows where flow_slug = 'rl_window'")).toEqual([
      { key: '', used: 3 },
    ]);
    // Nothing more in this window, even for messages that become visible again.
    await db.query("update pgmq.q_rl_window set vt = now() - interval '1 second'");
    expect(await claim(db, 'rl_window')).toHaveLength(0);
    expect(await taskCounts('rl_window')).toMatchObject({ started: 3, queued: 2, 'queued attempts': 0 });

    const deadline = Date.now() + 20_000;
    while (events.filter((e) => e.event_type === 'task:rate_limited').length < 4 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const limited = events.filter((e) => e.event_type === 'task:rate_limited');
    expect(limited).toHaveLength(4);
    expect(limited.every((e) => typeof e.visible_at === 'string')).toBe(true);
  });

  it("holds back the key's other visible messages once its window is spent, so they are not read again", async () => {
    await compile('rl_spent', { limit: 2, periodSeconds: 3600 });
    await startRuns('rl_spent', 10);
    await startRuns('rl_spent', 2, 'other');
    expect(await claim(db, 'rl_spent', 3)).toHaveLength(2);
    const rows = await db.query<{ key: string | null; held: number; visible: number }>(
      `select r.rate_limit_key as key,
              count(*) filter (where q.vt = to_timestamp(floor(extract(epoch from now()) / 3600) * 3600 + 3600))::int as held,
              count(*) filter (where q.vt <= clock_timestamp())::int as visible
         from pgmq.q_rl_spent q
         join pgflow.step_tasks t on t.message_id = q.msg_id and t.flow_slug = 'rl_spent' and t.status = 'queued'
         join pgflow.runs r on r.run_id = t.run_id
        group by 1 order by 1`,
    );
    // The spent bucket's 8 waiting messages wait for the next window; the other key's stay visible.
    expect(rows).toEqual([
      { key: 'other', held: 0, visible: 2 },
      { key: null, held: 8, visible: 0 },
    ]);
    expect(await claim(db, 'rl_spent')).toHaveLength(2);
  });

  it('starts held tasks in the next window', async () => {
    await compile('rl_next', { limit: 1, periodSeconds: 1 });
    await startRuns('rl_next', 3);
    await db.query(
      `insert into pgflow.rate_limit_windows (flow_slug, key, window_start, used)
       values ('rl_next', '', date_trunc('second', now()) - interval '2 hours', 1)`,
    );
    let started = 0;
    const deadline = Date.now() + 60_000;
    while (started < 3 && Date.now() < deadline) {
      started += (await claim(db, 'rl_next')).length;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(started).toBe(3);
    // One start per window: the tasks' start times fall in three different seconds.
    const [row] = await db.query<{ windows: number }>(
      `select count(distinct floor(extract(epoch from started_at)))::int as windows
         from pgflow.step_tasks where flow_slug = 'rl_next'`,
    );
    expect(row?.windows).toBe(3);
    // Opening a new window pruned the key's windows older than a minute, and kept the recent ones.
    const [ledger] = await db.query<{ old: number; recent: number }>(
      `select count(*) filter (where window_start < now() - interval '1 hour')::int as old,
              count(*) filter (where window_start >= now() - interval '1 minute')::int as recent
         from pgflow.rate_limit_windows where flow_slug = 'rl_next'`,
    );
    expect(ledger).toEqual({ old: 0, recent: 3 });
  });

  it('never grants more than the limit to two claims at once', async () => {
    await compile('rl_race', { limit: 4, periodSeconds: 3600 });
    await startRuns('rl_race', 20);
    const clients: pg.Client[] = [await db.connect(), await db.connect()];
    const wrapped = clients.map((client) => ({
      query: async <Row extends pg.QueryResultRow>(sql: string, params?: unknown[]) =>
        (await client.query<Row>(sql, params)).rows,
    }));
    await Promise.all(clients.map((client) => client.query('begin')));
    const claims = await Promise.all([
      claim(wrapped[0] as Sql, 'rl_race', 10).then(async (rows) => {
        await clients[0]?.query('commit');
        return rows;
      }),
      claim(wrapped[1] as Sql, 'rl_race', 10).then(async (rows) => {
        await clients[1]?.query('commit');
        return rows;
      }),
    ]);
    expect(claims[0].length + claims[1].length).toBe(4);
    expect(await taskCounts('rl_race')).toMatchObject({ started: 4, queued: 16, 'queued attempts': 0 });
  });

  it('gives each key its own budget', async () => {
    await compile('rl_keys', { limit: 2, periodSeconds: 3600 });
    await startRuns('rl_keys', 3, 'tenant-a');
    await startRuns('rl_keys', 3, 'tenant-b');
    await startRuns('rl_keys', 3);
    const claimed = await claim(db, 'rl_keys');
    const rows = await db.query<{ key: string | null; n: number }>(
      `select r.rate_limit_key as key, count(*)::int as n from pgflow.step_tasks t join pgflow.runs r using (run_id)
        where t.flow_slug = 'rl_keys' and t.status = 'started' group by 1 order by 1`,
    );
    expect(claimed).toHaveLength(6);
    expect(rows).toEqual([
      { key: 'tenant-a', n: 2 },
      { key: 'tenant-b', n: 2 },
      { key: null, n: 2 },
    ]);
  });

  it("also limits pgflow's own start_tasks", async () => {
    await compile('rl_compat', { limit: 2, periodSeconds: 3600 });
    await startRuns('rl_compat', 4);
    const messages = await db.query<{ msg_id: string }>("select msg_id from pgmq.read('rl_compat', 30, 10)");
    expect(
      await startTasks(
        db,
        'rl_compat',
        messages.map((m) => m.msg_id),
      ),
    ).toHaveLength(2);
  });

  it('costs a flow without a rate limit no call and no ledger row', async () => {
    await compile('rl_none');
    await compile('rl_some', { limit: 100, periodSeconds: 3600 });
    await startRuns('rl_none', 5);
    await startRuns('rl_some', 5);
    const client = await db.connect();
    const sql: Sql = { query: async (text, params) => (await client.query(text, params)).rows };
    await client.query("set track_functions = 'pl'");
    const calls = async (): Promise<number> => {
      const [row] = await sql.query<{ n: number }>(
        `select coalesce(sum(calls), 0)::int as n from pg_stat_xact_user_functions
          where schemaname = 'pgflow' and funcname = '_rate_limit_messages'`,
      );
      return row?.n ?? -1;
    };
    await client.query('begin');
    expect(await claim(sql, 'rl_none')).toHaveLength(5);
    expect(await calls()).toBe(0);
    expect(await claim(sql, 'rl_some')).toHaveLength(5);
    expect(await calls()).toBe(1);
    await client.query('commit');
    expect(await db.query("select 1 from pgflow.rate_limit_windows where flow_slug = 'rl_none'")).toEqual([]);
  });
});

describe('pruning the ledger', () => {
  it('apply_retention deletes windows that are over and those of flows without a rate limit, and keeps current ones', async () => {
    await compile('rl_prune', { limit: 1, periodSeconds: 3600 });
    await compile('rl_prune_gone');
    await db.query(
      `insert into pgflow.rate_limit_windows (flow_slug, key, window_start, used) values
         ('rl_prune', 'old', date_trunc('hour', now()) - interval '3 hours', 1),
         ('rl_prune', 'current', date_trunc('hour', now()), 1),
         ('rl_prune_gone', '', date_trunc('hour', now()), 1)`,
    );
    await db.query("select pgflow.apply_retention(interval '30 days', null)");
    const rows = await db.query(
      "select flow_slug, key from pgflow.rate_limit_windows where flow_slug like 'rl_prune%' order by 1, 2",
    );
    expect(rows).toEqual([{ flow_slug: 'rl_prune', key: 'current' }]);
  });
});

describe('rate limit keys at start', () => {
  it('stores the key on the run (start_flow and start_flows)', async () => {
    await compile('rl_start', { limit: 1, periodSeconds: 1 });
    const [one] = await db.query<{ rate_limit_key: string }>(
      "select rate_limit_key from pgflow.start_flow('rl_start', '{}'::jsonb, rate_limit_key => 'host-1')",
    );
    expect(one?.rate_limit_key).toBe('host-1');
  });

  it.each([
    ['an empty key', [''], 1],
    ['a key over 255 characters', ['x'.repeat(256)], 1],
    ['one key for two inputs', ['a'], 2],
  ])('refuses %s (PF071) and starts nothing', async (_name, keys, inputs) => {
    await compile('rl_badkey', { limit: 1, periodSeconds: 1 });
    await expectEngineError(
      db.query('select 1 from pgflow.start_flows($1, $2::jsonb, rate_limit_keys => $3::text[])', [
        'rl_badkey',
        json(Array.from({ length: inputs }, () => ({}))),
        keys,
      ]),
      { code: 'PF071' },
    );
    expect(await db.query("select 1 from pgflow.runs where flow_slug = 'rl_badkey'")).toEqual([]);
  });
});
