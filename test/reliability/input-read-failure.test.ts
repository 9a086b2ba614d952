/**
 * A claimed task whose run input the worker must read from pgflow.runs (the engine left it out as
 * known, but the worker no longer holds it), when that read fails. It used to be an unhandled
 * rejection (which ends the process under Node's defaults), and the claimed tasks were never run:
 * now a read that keeps failing hands the tasks back to the queue (the next claim carries their
 * input), a read that fails for a reason of the moment is tried again, and the run completes.
 */
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { Flow, Step, type StepContext } from 'nestjs-pgflow';
import { sql } from '../../libs/pgflow/src/db/engine.sql.ts';
import { PgflowDatabase } from '../../libs/pgflow/src/db/pgflow-database.ts';
import { useApps } from '../library/fixtures/pgflow-app.ts';
import { useTestDatabase } from '../support/test-database.ts';

@Flow({ slug: 'rel_input_read', maxAttempts: 1 })
class EchoFlow {
  calls = 0;

  @Step()
  echo(input: { n: number }, ctx: StepContext) {
    this.calls += 1;
    return { input, flowInput: ctx.flowInput };
  }
}

/** A statement that the database refuses with `sqlState`, as a real refusal of the read would. */
function refusal(sqlState: string): string {
  return `do $$ begin raise exception 'the test refuses this read' using errcode = '${sqlState}'; end $$`;
}

const db = useTestDatabase();
const apps = useApps();
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});

afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  jest.restoreAllMocks();
});

/**
 * Runs the worker's statements on the test database, except that its claims (round trips, and starts
 * that claim for it) name `runId` as a run
 * whose input the worker holds (until a claim takes a task of that run), and that the first
 * `failures` reads of run inputs are refused with `sqlState`.
 */
function forgetInputOf(runId: string, sqlState: string, failures: number): { reads: number; refused: number } {
  const counts = { reads: 0, refused: 0 };
  let forgotten: string | undefined = runId;
  const query = PgflowDatabase.prototype.query;
  jest.spyOn(PgflowDatabase.prototype, 'query').mockImplementation(async function (
    this: PgflowDatabase,
    text: string,
    values: readonly unknown[] = [],
    ...rest: unknown[]
  ) {
    // The worker's claims: its round trips, and the starts that claim for it (their known runs: $7, $12).
    const knownAt = text === sql.reportAndClaim ? 6 : text === sql.startAndClaim ? 11 : undefined;
    if (knownAt !== undefined && forgotten !== undefined) {
      const known = [...(values[knownAt] as string[]), forgotten];
      const withKnown = [...values.slice(0, knownAt), known, ...values.slice(knownAt + 1)];
      const rows = await query.call(this, text, withKnown, ...(rest as []));
      const claimedIt = (row: { run_id: string | null; kind?: string }) =>
        row.run_id === forgotten && row.kind !== 'run';
      if ((rows as Array<{ run_id: string | null; kind?: string }>).some(claimedIt)) forgotten = undefined;
      return rows;
    }
    if (text === sql.runInputs) {
      counts.reads += 1;
      if (counts.refused < failures) {
        counts.refused += 1;
        return query.call(this, refusal(sqlState));
      }
    }
    return query.call(this, text, values, ...(rest as []));
  } as typeof query);
  return counts;
}

it('a read refused for good: the tasks go back to the queue, run with their input, and no rejection goes unhandled', async () => {
  const runId = randomUUID();
  // 42501: what the read gets when SELECT on pgflow.runs is revoked from the worker's role.
  const counts = forgetInputOf(runId, '42501', Number.POSITIVE_INFINITY);
  const { app, client, logger } = await apps.start({ url: db.url, providers: [EchoFlow] });

  const run = await client.start(EchoFlow, { n: 5 }, { runId });
  await expect(run.wait({ timeoutMs: 15_000 })).resolves.toMatchObject({
    output: { echo: { input: { n: 5 }, flowInput: { n: 5 } } },
  });

  expect(counts.refused).toBeGreaterThanOrEqual(1);
  expect(unhandled).toEqual([]);
  expect(app.get(EchoFlow).calls).toBe(1);
  // Handed back, the attempt did not count.
  const tasks = await db.query('select status, attempts_count from pgflow.step_tasks where run_id = $1', [runId]);
  expect(tasks).toEqual([{ status: 'completed', attempts_count: 1 }]);
  const logged = logger.errors.map((args) => args.map(String).join('\n')).find((text) => text.includes(runId));
  expect(logged).toMatch(/the test refuses this read/);
  expect(logged).toMatch(/\n\s+at /);
}, 30_000);

it('a read that failed for a reason of the moment (a statement timeout) is tried again, and the task runs', async () => {
  const runId = randomUUID();
  const counts = forgetInputOf(runId, '57014', 2);
  const { app, client } = await apps.start({ url: db.url, providers: [EchoFlow] });

  const run = await client.start(EchoFlow, { n: 6 }, { runId });
  await expect(run.wait({ timeoutMs: 15_000 })).resolves.toMatchObject({
    output: { echo: { input: { n: 6 }, flowInput: { n: 6 } } },
  });

  expect(counts).toEqual({ reads: 3, refused: 2 });
  expect(unhandled).toEqual([]);
  expect(app.get(EchoFlow).calls).toBe(1);
}, 30_000);
