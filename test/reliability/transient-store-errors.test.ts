/**
 * Storing a result fails for a reason of the moment: another transaction holds the task's row longer
 * than the worker's lock_timeout or statement_timeout allows. Such a failure says nothing about the
 * result, so the worker keeps it and reports it again later; it used to turn the successful attempt
 * into a failed one ("The output could not be stored").
 */
import { jest } from '@jest/globals';
import { Inject } from '@nestjs/common';
import { Flow, RunFailedError, Step, type StepContext } from 'nestjs-pgflow';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { PgflowDatabase } from '../../libs/pgflow/src/db/pgflow-database.ts';
import { useApps } from '../library/fixtures/pgflow-app.ts';
import { CallLog, Gate } from '../library/fixtures/recorders.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';

const GATE = 'TRANSIENT_STORE_GATE';

@Flow({ slug: 'rel_store_retry', maxAttempts: 2, baseDelay: 0 })
class HeldFlow {
  constructor(
    private readonly log: CallLog,
    @Inject(GATE) private readonly gate: Gate,
  ) {}

  @Step()
  async double(input: { n: number }, ctx: StepContext) {
    this.log.record(input, ctx);
    await this.gate.opened;
    return input.n * 2;
  }
}

@Flow({ slug: 'rel_store_refused', maxAttempts: 1 })
class RefusedFlow {
  @Step()
  poison(input: { label: string }) {
    return { label: input.label };
  }
}

const db = useTestDatabase();
const apps = useApps();

afterEach(() => jest.restoreAllMocks());

/** Counts the library's statements that fail with `sqlState` (they still run on the test database). */
function countFailures(sqlState: string): { count: number } {
  const failures = { count: 0 };
  const query = PgflowDatabase.prototype.query;
  jest.spyOn(PgflowDatabase.prototype, 'query').mockImplementation(async function (this: PgflowDatabase, ...args) {
    try {
      return await query.apply(this, args);
    } catch (error) {
      if ((error as { code?: unknown }).code === sqlState) failures.count += 1;
      throw error;
    }
  } as typeof query);
  return failures;
}

/**
 * From now on every statement of the application's pool gives up after `ms` (lock_timeout or
 * statement_timeout): each connection gets the setting when first checked out, before the statement
 * it was checked out for (a pg client runs its statements in order). 250 ms is long enough for the
 * other statements on a busy machine and short enough to fail often while the task's row is held.
 */
function limitEveryStatement(dataSource: DataSource, setting: string, ms: number): void {
  const pool = (dataSource.driver as unknown as { master: pg.Pool }).master;
  const limited = new WeakSet<pg.PoolClient>();
  pool.on('acquire', (connection) => {
    if (limited.has(connection)) return;
    limited.add(connection);
    connection.query(`set ${setting} = ${ms}`).catch(() => undefined); // a lost connection fails its next statement too
  });
}

describe.each([
  ['lock_timeout', '55P03'],
  ['statement_timeout', '57014'],
])('a %s while storing a result', (setting, sqlState) => {
  it('is retried until the result is stored: the task completes on its first attempt', async () => {
    const failures = countFailures(sqlState);
    const gate = new Gate();
    // The application boots and starts the run without the setting: on a loaded machine the boot's
    // statements (compiling the flow) and the start (the first call of the engine's functions in its
    // session) may take longer than 250 ms, and neither is what is tested here: storing the result is.
    const { app, client, logger, dataSource } = await apps.start({
      url: db.url,
      providers: [CallLog, HeldFlow, { provide: GATE, useValue: gate }],
    });
    const run = await client.start(HeldFlow, { n: 21 });
    await waitFor(() => app.get(CallLog).of('double', run.runId).length === 1, { description: 'the handler running' });
    limitEveryStatement(dataSource(), setting, 250);

    const locker = await db.connect('task row locker');
    await locker.query('begin');
    await locker.query('select 1 from pgflow.step_tasks where run_id = $1 for update', [run.runId]);
    gate.open();
    await waitFor(() => failures.count >= 3, { description: `three ${sqlState} failures of the worker's statements` });
    await locker.query('rollback');

    await expect(run.wait({ timeoutMs: 15_000 })).resolves.toMatchObject({ output: { double: 42 } });
    const tasks = await db.query(
      'select status, attempts_count, error_message from pgflow.step_tasks where run_id = $1',
      [run.runId],
    );
    expect(tasks).toEqual([{ status: 'completed', attempts_count: 1, error_message: null }]);
    expect(app.get(CallLog).of('double', run.runId)).toHaveLength(1);
    const refusals = logger.errors.map((args) => args.map(String).join(' ')).filter((text) => text.includes('refused'));
    expect(refusals).toEqual([]);
  }, 30_000);
});

describe('an output the database refuses for what it is', () => {
  it('still fails the attempt, with the reason', async () => {
    // A rule of the database about the data itself (a trigger here; a constraint, a size limit...).
    await db.query(`
      create function public.refuse_poison_output() returns trigger language plpgsql as $$
      begin
        if new.output @> '{"label": "poison"}' then
          raise exception 'outputs labelled poison are not stored' using errcode = '23514';
        end if;
        return new;
      end $$`);
    await db.query(`create trigger refuse_poison before update on pgflow.step_tasks
                    for each row execute function public.refuse_poison_output()`);
    try {
      const { client } = await apps.start({ url: db.url, providers: [RefusedFlow] });
      const run = await client.start(RefusedFlow, { label: 'poison' });

      const failure = await run.wait({ timeoutMs: 15_000 }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(RunFailedError);
      expect(failure).toMatchObject({
        stepSlug: 'poison',
        errorMessage: 'The output could not be stored: outputs labelled poison are not stored',
      });
    } finally {
      await db.query('drop trigger refuse_poison on pgflow.step_tasks');
      await db.query('drop function public.refuse_poison_output()');
    }
  }, 30_000);
});
