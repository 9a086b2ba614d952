/**
 * Very large inputs and outputs, end to end through FlowClient.start, the worker and wait(): a
 * 10 MB run input reaches its handler whole, a 10 MB step output is stored, handed to the dependent
 * step and returned by wait() (run events leave large outputs out of the notification, and wait()
 * reads the run from the tables), and a root map over a 10 MB array runs one task per element.
 * Timings are recorded as figures.
 */
import { randomBytes } from 'node:crypto';
import { Flow, type MapStepContext, Step, type StepInput } from 'nestjs-pgflow';
import { useApps } from '../../library/fixtures/pgflow-app.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { recordFigure } from '../support/figures.ts';

const MB = 1024 * 1024;

@Flow({ slug: 'rel_large', maxAttempts: 1, timeout: 120 })
class LargeFlow {
  @Step()
  inflate(input: { blob: string }) {
    return { blob: input.blob, received: input.blob.length };
  }

  @Step({ dependsOn: ['inflate'] })
  echo(deps: StepInput<LargeFlow, 'inflate'>) {
    return { blob: deps.inflate.blob, received: deps.inflate.received };
  }
}

@Flow({ slug: 'rel_large_map', maxAttempts: 1, timeout: 120 })
class LargeMapFlow {
  @Step({ map: true })
  size(item: string, _ctx: MapStepContext) {
    return item.length;
  }
}

/** Base64 of random bytes: jsonb cannot compress it away. */
function randomText(length: number): string {
  return randomBytes(Math.ceil((length * 3) / 4))
    .toString('base64')
    .slice(0, length);
}

const db = useTestDatabase();
const apps = useApps();

describe('very large payloads', () => {
  it('a 10 MB input reaches its handler whole; a 10 MB output is stored, passed on, and returned by wait()', async () => {
    const { client } = await apps.start({ url: db.url, providers: [LargeFlow] });
    const blob = randomText(10 * MB);

    const started = Date.now();
    const run = await client.start(LargeFlow, { blob });
    const startMs = Date.now() - started;
    const done = await run.wait({ timeoutMs: 60_000 });
    const totalMs = Date.now() - started;

    expect(done.output.echo?.received).toBe(10 * MB);
    expect(done.output.echo?.blob === blob).toBe(true);
    const [sizes] = await db.query<{ input: number; output: number }>(
      'select pg_column_size(input) as input, pg_column_size(output) as output from pgflow.runs where run_id = $1',
      [run.runId],
    );
    expect(sizes?.input).toBeGreaterThan(10 * MB);
    expect(sizes?.output).toBeGreaterThan(10 * MB);
    recordFigure('10 MB input → 2 steps echoing 10 MB → wait() resolved', totalMs / 1000, 's', {
      startSeconds: startMs / 1000,
    });
  }, 90_000);

  it('a root map over a 10 MB array of 1,000 elements runs 1,000 tasks and outputs their results in order', async () => {
    const { client } = await apps.start({
      url: db.url,
      providers: [LargeMapFlow],
      pgflow: { worker: { maxConcurrent: 50 } },
    });
    const items = Array.from({ length: 1_000 }, (_, index) => randomText(10 * 1024 + index));

    const started = Date.now();
    const run = await client.start(LargeMapFlow, items);
    const done = await run.wait({ timeoutMs: 90_000 });
    const seconds = (Date.now() - started) / 1000;

    expect(done.output).toEqual({ size: items.map((item) => item.length) });
    recordFigure('root map over a 10 MB array (1,000 × 10 KB) → wait() resolved', seconds, 's', {
      tasksPerSecond: Math.round(1_000 / seconds),
    });
  }, 120_000);
});
