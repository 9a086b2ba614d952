/**
 * The retention option in real Nest applications: 10,000 runs that ended long ago are deleted in
 * batches by two workers' applications, one batch at a time, while new runs keep starting and
 * completing; nothing younger than the limits is touched. The longest time the retention lock was
 * held is sampled from pg_locks and printed (docs/RELIABILITY.md records it), never asserted.
 */
import { cpus, loadavg } from 'node:os';
import { Injectable } from '@nestjs/common';
import { Flow, PgflowRetention, Step } from 'nestjs-pgflow';
import { insertArchivedMessages, insertEndedRuns } from '../../engine/support/old-runs.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

@Injectable()
@Flow({ slug: 'retention_live' })
class LiveFlow {
  @Step()
  only(input: { n: number }) {
    return { n: input.n };
  }
}

const db = useTestDatabase();
const apps = useApps();

/** How long each session holding the retention lock has held it, sampled every few milliseconds. */
class LockSampler {
  longestMs = 0;
  samples = 0;
  mostHoldersAtOnce = 0;
  /** The longest sample of each lock-holding transaction (backend pid and transaction start). */
  readonly byTx = new Map<string, number>();
  private running = true;
  private done: Promise<void> | undefined;

  start(): void {
    this.done = (async () => {
      const client = await db.connect('retention lock sampler');
      while (this.running) {
        const { rows } = await client.query<{ held_ms: number; tx: string }>(
          `select extract(epoch from clock_timestamp() - a.xact_start) * 1000 as held_ms, a.pid || ':' || a.xact_start as tx
             from pg_catalog.pg_locks l join pg_catalog.pg_stat_activity a on a.pid = l.pid
            where l.locktype = 'advisory' and l.granted and l.objsubid = 2 and l.objid = 0
              -- pg_locks spans the server: other test files' databases apply retention too.
              and l.database = (select d.oid from pg_catalog.pg_database d where d.datname = current_database())
              and l.classid = (hashtext('pgflow:retention')::bigint & 4294967295)::oid`,
        );
        this.samples += 1;
        this.mostHoldersAtOnce = Math.max(this.mostHoldersAtOnce, rows.length);
        // xact_start is null when the holder committed between the two views' readings.
        for (const row of rows.filter((r) => r.tx !== null)) {
          this.longestMs = Math.max(this.longestMs, Number(row.held_ms));
          this.byTx.set(row.tx, Math.max(this.byTx.get(row.tx) ?? 0, Number(row.held_ms)));
        }
      }
    })();
  }

  /** The p-th percentile of the transactions' longest samples. */
  percentile(p: number): number {
    const sorted = [...this.byTx.values()].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

async function runCount(where: string, params: unknown[] = []): Promise<number> {
  const [row] = await db.query<{ n: number }>(`select count(*)::int as n from pgflow.runs where ${where}`, params);
  return row?.n ?? 0;
}

it('prunes 10,000 old runs in batches, one worker at a time, while new runs complete, touching nothing younger', async () => {
  const retention = { completedRuns: 30, failedRuns: 60, intervalMs: 100 };
  // The flow exists before the old runs are inserted: the first application creates it.
  const first = await apps.start({ url: db.url, providers: [LiveFlow], pgflow: { worker: { enabled: false } } });
  await first.close();

  const ended = (status: 'completed' | 'failed' | 'cancelled', count: number, endedDaysAgo: number) =>
    insertEndedRuns(db, { flowSlug: 'retention_live', stepSlug: 'only', status, count, endedDaysAgo });
  await ended('completed', 9_000, 45);
  await ended('failed', 600, 90);
  await ended('cancelled', 400, 61);
  const kept = [
    ...(await ended('completed', 50, 29.9)),
    ...(await ended('failed', 50, 45)),
    ...(await ended('cancelled', 50, 59.9)),
  ];
  await insertArchivedMessages(db, { flowSlug: 'retention_live', count: 3_000, daysAgo: 61 });
  await insertArchivedMessages(db, { flowSlug: 'retention_live', count: 100, daysAgo: 59, firstId: 10_000 });
  expect(await runCount('true')).toBe(10_150);

  const sampler = new LockSampler();
  sampler.start();
  const started = Date.now();
  const workers = [
    await apps.start({ url: db.url, providers: [LiveFlow], pgflow: { retention } }),
    await apps.start({ url: db.url, providers: [LiveFlow], pgflow: { retention } }),
  ];

  // New runs keep starting and completing while the old ones go.
  const newRuns: string[] = [];
  const completions: Array<Promise<unknown>> = [];
  for (let n = 0; newRuns.length < 20 || (await runCount("started_at < now() - interval '1 day'")) > 150; n++) {
    const run = await workers[n % 2]?.client.start(LiveFlow, { n });
    if (run === undefined) throw new Error('no application');
    newRuns.push(run.runId);
    completions.push(run.wait({ timeoutMs: 60_000 }));
    if (Date.now() - started > 120_000) throw new Error('the old runs were not pruned within 2 minutes');
  }
  const prunedInMs = Date.now() - started;
  await Promise.all(completions);
  await waitFor(
    async () =>
      (await db.query("select 1 from pgmq.a_retention_live where archived_at < now() - interval '60 days'")).length ===
      0,
    { timeoutMs: 30_000, description: 'the old archived messages to be pruned' },
  );
  await sampler.stop();

  const left = await db.query<{ run_id: string; status: string }>('select run_id, status from pgflow.runs');
  expect(left.map((row) => row.run_id).sort()).toEqual([...kept, ...newRuns].sort());
  expect(left.filter((row) => newRuns.includes(row.run_id)).every((row) => row.status === 'completed')).toBe(true);
  const [archived] = await db.query<{ young: number }>(
    "select count(*) filter (where archived_at > now() - interval '60 days')::int as young from pgmq.a_retention_live",
  );
  expect(archived?.young).toBeGreaterThanOrEqual(100 + newRuns.length);
  expect(sampler.mostHoldersAtOnce).toBe(1);

  // Each application logged its passes: together they deleted the 10,000 runs and 3,000 messages.
  const passes = workers.flatMap((app) =>
    app.logger.logs
      .map((args) =>
        /Retention: deleted (\d+) run\(s\), (\d+) archived message\(s\) and \d+ schedule tick\(s\) in (\d+) batch\(es\) \(longest (\d+) ms\)/.exec(
          String(args[0]),
        ),
      )
      .filter((match) => match !== null),
  );
  const sum = (index: number) => passes.reduce((total, match) => total + Number(match[index]), 0);
  expect(sum(1)).toBe(10_000);
  expect(sum(3)).toBeGreaterThanOrEqual(50); // 200 runs at most per batch
  console.log(
    `retention: 10,000 runs + ${sum(2)} archived messages pruned in ${sum(3)} batches of at most ` +
      `200 runs within ${prunedInMs} ms, while ${newRuns.length} new runs completed; ` +
      `longest batch as timed by the workers ${Math.max(...passes.map((m) => Number(m[4])))} ms; ` +
      `retention lock held (sampled from pg_locks, ${sampler.byTx.size} transactions seen): median ` +
      `${sampler.percentile(50).toFixed(0)} ms, p95 ${sampler.percentile(95).toFixed(0)} ms, longest ` +
      `${sampler.longestMs.toFixed(0)} ms; load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores`,
  );
  expect(workers[0]?.app.get(PgflowRetention)).toBeInstanceOf(PgflowRetention);
}, 180_000);

it('leaves retention to the processes that run a worker: an API-only process deletes nothing', async () => {
  const api = await apps.start({
    url: db.url,
    providers: [LiveFlow],
    pgflow: { worker: { enabled: false }, retention: { completedRuns: 1, intervalMs: 50 } },
  });
  const old = await insertEndedRuns(db, {
    flowSlug: 'retention_live',
    stepSlug: 'only',
    status: 'completed',
    count: 3,
    endedDaysAgo: 10,
  });
  expect(await api.app.get(PgflowRetention).applyOnce()).toEqual({
    runs: 0,
    messages: 0,
    ticks: 0,
    batches: 0,
    longestBatchMs: 0,
    busy: false,
  });
  expect(await runCount('run_id = any($1::uuid[])', [old])).toBe(3);
});
