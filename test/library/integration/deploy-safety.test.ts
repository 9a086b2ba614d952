/**
 * Deploying a changed flow safely (issue "From a new app to a safe deploy", item 5, and the options
 * that change silently): a worker whose code lacks a step of the flow in the database hands its
 * tasks back untouched and stops serving the flow; waits on runs deleted by a recompile reject;
 * 'recompile' is refused in production unless forced; changed options are logged.
 */
import { Flow, InvalidOptionsError, RunNotFoundError, Step, type StepInput } from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

@Flow({ slug: 'deploy_safety', maxAttempts: 3 })
class OldVersion {
  @Step()
  first(input: { n: number }) {
    return input.n + 1;
  }
}

@Flow({ slug: 'deploy_safety', maxAttempts: 3 })
class NewVersion {
  @Step()
  first(input: { n: number }) {
    return input.n + 1;
  }

  @Step({ dependsOn: ['first'] })
  second(deps: StepInput<NewVersion, 'first'>) {
    return deps.first * 10;
  }
}

@Flow({ slug: 'deploy_options', maxAttempts: 3 })
class OptionsV1 {
  @Step()
  only() {
    return 1;
  }
}

@Flow({ slug: 'deploy_options', maxAttempts: 5 })
class OptionsV2 {
  @Step({ timeout: 30 })
  only() {
    return 1;
  }
}

const db = useTestDatabase();
const apps = useApps();

// Each test deploys its own versions: start from no flow.
beforeEach(() =>
  db.query("select pgflow.delete_flow_and_data(f.flow_slug) from pgflow.flows f where f.flow_slug like 'deploy\\_%'"),
);

describe('a worker older than the flow in the database', () => {
  it('hands the new step’s tasks back without an attempt and stops serving the flow; the new workers finish every run', async () => {
    const old = await apps.start({ url: db.url, providers: [OldVersion] });
    // Another deployment replaces the flow (with 'recompile': the structure changed) and serves it.
    const next = await apps.start({ url: db.url, providers: [NewVersion], pgflow: { compilation: 'recompile' } });
    const runs = await Promise.all(Array.from({ length: 20 }, (_, n) => next.client.start(NewVersion, { n })));
    for (const [n, run] of runs.entries()) {
      expect((await run.wait({ timeoutMs: 30_000 })).output).toEqual({ second: (n + 1) * 10 });
    }
    const attempts = await db.query<{ attempts: number }>(
      "select distinct attempts_count as attempts from pgflow.step_tasks where flow_slug = 'deploy_safety' and step_slug = 'second'",
    );
    expect(attempts).toEqual([{ attempts: 1 }]);
    // Whether the old worker got a task of 'second' first depends on timing; if it did, it said so once
    // (Nest's Logger writes to the logger of the application created last).
    const retired = [...old.logger.errors, ...next.logger.errors].filter((entry) =>
      String(entry[0]).includes("step(s) 'second'"),
    );
    expect(retired.length).toBeLessThanOrEqual(1);
  });

  it('a claim of a step it does not know hands the task back untouched and retires the flow, with one log line', async () => {
    const old = await apps.start({ url: db.url, providers: [OldVersion] });
    const api = await apps.start({
      url: db.url,
      providers: [NewVersion],
      pgflow: { compilation: 'recompile', worker: { enabled: false } },
    });
    const run = await api.client.start(NewVersion, { n: 1 });
    // Nest's Logger writes to the logger of the application created last, whichever logs.
    const errors = () => [...old.logger.errors, ...api.logger.errors];
    // The old worker runs 'first' (it knows it), then claims 'second', which it does not know.
    await waitFor(() => errors().some((entry) => String(entry[0]).includes("step(s) 'second'")), {
      description: 'the old worker to retire the flow',
      timeoutMs: 20_000,
    });
    const [second] = await db.query(
      "select status, attempts_count from pgflow.step_tasks where run_id = $1 and step_slug = 'second'",
      [run.runId],
    );
    expect(second).toEqual({ status: 'queued', attempts_count: 0 });
    expect(errors().filter((entry) => String(entry[0]).includes('stopped serving it'))).toHaveLength(1);

    // A process with the new code finishes the run: the task's first attempt is its only one.
    await apps.start({ url: db.url, providers: [NewVersion], pgflow: { compilation: 'verify' } });
    expect((await run.wait({ timeoutMs: 20_000 })).output).toEqual({ second: 20 });
    const [done] = await db.query(
      "select status, attempts_count from pgflow.step_tasks where run_id = $1 and step_slug = 'second'",
      [run.runId],
    );
    expect(done).toEqual({ status: 'completed', attempts_count: 1 });
  });
});

describe('waits on runs deleted by a recompile', () => {
  it('reject with RunNotFoundError instead of hanging', async () => {
    const api = await apps.start({ url: db.url, providers: [OldVersion], pgflow: { worker: { enabled: false } } });
    const run = await api.client.start(OldVersion, { n: 1 });
    const waited = run.wait({ timeoutMs: 60_000 }).catch((error) => error);
    await waitFor(
      async () =>
        (await db.query('select 1 from pg_stat_activity where query = $1', [`listen "pgflow:run:${run.runId}"`]))
          .length > 0,
      { description: 'the wait listening' },
    );
    await apps.start({
      url: db.url,
      providers: [NewVersion],
      pgflow: { compilation: 'recompile', worker: { enabled: false } },
    });
    expect(await waited).toBeInstanceOf(RunNotFoundError);
  });
});

describe("compilation 'recompile'", () => {
  const nodeEnv = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = nodeEnv;
  });

  it("is refused when NODE_ENV is 'production', changing nothing, unless forceRecompileInProduction says so", async () => {
    await apps.start({ url: db.url, providers: [OldVersion], pgflow: { worker: { enabled: false } } });
    process.env.NODE_ENV = 'production';
    const refused = await apps
      .start({ url: db.url, providers: [NewVersion], pgflow: { compilation: 'recompile', worker: { enabled: false } } })
      .catch((error) => error);
    expect(refused).toBeInstanceOf(InvalidOptionsError);
    expect(refused.message).toMatch(/NODE_ENV is 'production'.*forceRecompileInProduction: true/s);
    const steps = await db.query(
      "select step_slug from pgflow.steps where flow_slug = 'deploy_safety' order by step_index",
    );
    expect(steps).toEqual([{ step_slug: 'first' }]);

    await apps.start({
      url: db.url,
      providers: [NewVersion],
      pgflow: { compilation: 'recompile', forceRecompileInProduction: true, worker: { enabled: false } },
    });
    const after = await db.query(
      "select step_slug from pgflow.steps where flow_slug = 'deploy_safety' order by step_index",
    );
    expect(after).toEqual([{ step_slug: 'first' }, { step_slug: 'second' }]);
  });
});

describe('options changed in the code', () => {
  it('are brought to the database and logged, saying what changed', async () => {
    await apps.start({ url: db.url, providers: [OptionsV1], pgflow: { worker: { enabled: false } } });
    const { logger } = await apps.start({
      url: db.url,
      providers: [OptionsV2],
      pgflow: { worker: { enabled: false } },
    });
    expect(logger.logs).toContainEqual([
      `Flow 'deploy_options': options updated in the database to the code's: max_attempts 3 -> 5; step "only": timeout default -> 30.`,
      'PgflowCompiler',
    ]);
  });
});
