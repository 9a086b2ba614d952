/**
 * The soak's load: keeps a number of runs of each soak flow in flight (test/processes/soak-flows.ts),
 * starting new ones in batches as others end, and remembers every run it started until the checker
 * (soak-checks.ts) sees it end. Runs get their ids here, so a start whose outcome a lost connection
 * hid is looked up by id afterwards: a run is tracked exactly when it exists.
 */
import { randomUUID } from 'node:crypto';
import { expectedSoakOutput, type SoakFlowSlug, type SoakInput } from '../../processes/soak-flows.ts';
import type { TestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';

export type Sql = Pick<TestDatabase, 'query'>;

export interface SoakRun {
  readonly slug: SoakFlowSlug;
  readonly input: SoakInput;
  /** Epoch ms. */
  readonly startedAt: number;
  readonly expected: { readonly output: unknown; readonly tasks: number };
}

/** Runs of each flow kept in flight, and the map flow's array length. */
export interface SoakMix {
  readonly inFlight: Readonly<Record<SoakFlowSlug, number>>;
  readonly mapSize: number;
}

export const SOAK_MIX: SoakMix = {
  inFlight: { soak_map: 4, soak_chain: 30, soak_diamond: 30, soak_retry: 15, soak_condition: 30 },
  mapSize: 1_000,
};

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class SoakLoad {
  /** Started, not yet seen ended, by run id. */
  readonly pending = new Map<string, SoakRun>();
  readonly startedByFlow: Record<string, number> = {};
  started = 0;
  /** Start statements that failed (a lost connection; the runs were then looked up by id). */
  startErrors = 0;
  private counter = 0;
  private stopped = false;
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;
  private batch: Promise<void> = Promise.resolve();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly db: Sql,
    private readonly mix: SoakMix = SOAK_MIX,
  ) {}

  begin(): void {
    this.loop = this.run();
  }

  /** Stops starting runs; resolves when the last batch is settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.resume();
    await this.loop;
  }

  /** Holds new starts (before a server restart); resolves when no start statement is in flight. */
  async hold(): Promise<void> {
    if (!this.gate) this.gate = new Promise((resolve) => (this.openGate = resolve));
    await this.batch;
  }

  resume(): void {
    this.openGate?.();
    this.gate = undefined;
    this.openGate = undefined;
  }

  /** The checker saw the run end: it leaves the pending set (undefined: not one of ours, or seen before). */
  ended(runId: string): SoakRun | undefined {
    const run = this.pending.get(runId);
    this.pending.delete(runId);
    return run;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.gate) await this.gate;
      if (this.stopped) break;
      const inFlight: Record<string, number> = {};
      for (const run of this.pending.values()) inFlight[run.slug] = (inFlight[run.slug] ?? 0) + 1;
      for (const [slug, target] of Object.entries(this.mix.inFlight) as Array<[SoakFlowSlug, number]>) {
        const missing = target - (inFlight[slug] ?? 0);
        if (missing <= 0 || this.gate || this.stopped) continue;
        this.batch = this.startBatch(slug, missing);
        await this.batch;
      }
      await pause(50);
    }
  }

  private async startBatch(slug: SoakFlowSlug, count: number): Promise<void> {
    const ids = Array.from({ length: count }, () => randomUUID());
    const inputs: SoakInput[] = ids.map(() => {
      this.counter += 1;
      return slug === 'soak_map' ? { n: this.counter, size: this.mix.mapSize } : { n: this.counter };
    });
    let exists: boolean;
    try {
      await this.db.query('select 1 from pgflow.start_flows($1, $2::jsonb, $3::uuid[])', [
        slug,
        JSON.stringify(inputs),
        ids,
      ]);
      exists = true;
    } catch {
      this.startErrors += 1;
      // All or nothing: the batch exists if its first run does. Asked until the server answers.
      exists = await waitFor(
        async () => {
          const rows = await this.db.query<{ n: number }>(
            'select count(*)::int as n from pgflow.runs where run_id = any($1::uuid[])',
            [ids],
          );
          return { found: (rows[0]?.n ?? 0) > 0 };
        },
        { timeoutMs: 300_000, intervalMs: 200, description: 'the server to say whether a batch of runs started' },
      ).then((answer) => answer.found);
    }
    if (!exists) return;
    const now = Date.now();
    ids.forEach((id, i) => {
      const input = inputs[i] as SoakInput;
      this.pending.set(id, { slug, input, startedAt: now, expected: expectedSoakOutput(slug, input) });
    });
    this.started += count;
    this.startedByFlow[slug] = (this.startedByFlow[slug] ?? 0) + count;
  }
}
