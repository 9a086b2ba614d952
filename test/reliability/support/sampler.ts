/**
 * Sampling the engine's tables while workers run: one query, again and again, each sample a
 * consistent snapshot (one statement), until the test stops it. What "never more than N at once"
 * assertions read: the largest value each column took.
 */
import type { TestDatabase } from '../../support/test-database.ts';

type Sql = Pick<TestDatabase, 'query'>;

export interface Sampler<Row extends Record<string, number>> {
  /** Stops sampling; resolves with every sample taken (at least one: the last, taken on stop). */
  stop(): Promise<Row[]>;
}

/**
 * Runs `sql` (one row of integer columns) every `intervalMs`, from now until stop(). A sample that
 * takes longer than the interval delays the next one: on a busy machine there are fewer samples,
 * never overlapping ones.
 */
export function sampleEvery<Row extends Record<string, number>>(
  db: Sql,
  intervalMs: number,
  sql: string,
  params: unknown[] = [],
): Sampler<Row> {
  const samples: Row[] = [];
  let stopped = false;
  let failure: unknown;
  const take = async (): Promise<void> => {
    const [row] = await db.query<Row>(sql, params);
    if (row) samples.push(row);
  };
  const loop = (async () => {
    while (!stopped) {
      const next = Date.now() + intervalMs;
      try {
        await take();
      } catch (error) {
        failure = error;
        return;
      }
      // The pause between two samples, not a wait for a condition.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      if (failure !== undefined) throw new Error('Sampling the database failed', { cause: failure });
      await take();
      return samples;
    },
  };
}

/** The largest value of `column` over the samples. */
export function maxOf<Row extends Record<string, number>>(samples: readonly Row[], column: keyof Row): number {
  return Math.max(...samples.map((sample) => Number(sample[column])));
}
