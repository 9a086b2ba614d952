/**
 * What happens to flow definitions when an application boots: an invalid flow class stops the boot
 * before anything reaches the database; compilation 'verify' creates a missing flow, accepts an
 * identical one and refuses a different one, listing the differences; 'recompile' replaces it;
 * false leaves the database alone.
 */
import {
  Flow,
  FlowNotFoundError,
  FlowShapeMismatchError,
  InvalidFlowDefinitionError,
  Step,
  type StepInput,
} from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

@Flow({ slug: 'boot_shape' })
class ShapeV1 {
  @Step()
  fetch() {
    return 1;
  }

  @Step()
  audit() {
    return 'audited';
  }
}

/** The same slug, with `audit` now depending on `fetch`. */
@Flow({ slug: 'boot_shape' })
class ShapeV2 {
  @Step()
  fetch() {
    return 2;
  }

  @Step({ dependsOn: ['fetch'] })
  audit(deps: StepInput<ShapeV2, 'fetch'>) {
    return `audited ${deps.fetch}`;
  }
}

@Flow({ slug: 'boot_cycle' })
class CyclicFlow {
  @Step({ dependsOn: ['second'] })
  first() {
    return 1;
  }

  @Step({ dependsOn: ['first'] })
  second() {
    return 2;
  }
}

@Flow({ slug: 'boot_never_compiled' })
class NeverCompiledFlow {
  @Step()
  only() {
    return 1;
  }
}

const db = useTestDatabase();
const apps = useApps();

async function dependenciesOf(flowSlug: string): Promise<string[]> {
  const rows = await db.query<{ edge: string }>(
    "select dep_slug || ' -> ' || step_slug as edge from pgflow.deps where flow_slug = $1 order by 1",
    [flowSlug],
  );
  return rows.map((row) => row.edge);
}

async function flowExists(flowSlug: string): Promise<boolean> {
  return (await db.query('select 1 from pgflow.flows where flow_slug = $1', [flowSlug])).length > 0;
}

async function bootError(providers: Array<new (...args: never[]) => object>, compilation?: 'verify'): Promise<unknown> {
  return apps.start({ url: db.url, providers, ...(compilation === undefined ? {} : { pgflow: { compilation } }) }).then(
    () => new Error('expected the application to refuse to boot'),
    (error: unknown) => error,
  );
}

// Each test starts from a database without the test flows (the previous test's apps are closed).
beforeEach(async () => {
  for (const slug of ['boot_shape', 'boot_cycle', 'boot_never_compiled']) {
    await db.query('select pgflow.delete_flow_and_data(p_flow_slug => $1)', [slug]);
  }
});

describe('flow definitions at boot', () => {
  it('an invalid flow class stops app.init() with InvalidFlowDefinitionError, compiling nothing', async () => {
    const error = await bootError([CyclicFlow, NeverCompiledFlow]);

    expect(error).toBeInstanceOf(InvalidFlowDefinitionError);
    expect(error).toMatchObject({ code: 'PGFLOW_INVALID_DEFINITION', flowClass: 'CyclicFlow' });
    expect((error as Error).message).toMatch(/CyclicFlow/);
    expect((error as Error).message).toMatch(/cycle/i);
    expect(await flowExists('boot_cycle')).toBe(false);
    expect(await flowExists('boot_never_compiled')).toBe(false);
  });

  it("compilation 'verify' (the default) creates a missing flow with its steps and dependencies", async () => {
    await apps.start({ url: db.url, providers: [ShapeV1] });

    expect(await flowExists('boot_shape')).toBe(true);
    const steps = await db.query(
      "select step_slug, step_type, deps_count from pgflow.steps where flow_slug = 'boot_shape' order by step_index",
    );
    expect(steps).toEqual([
      { step_slug: 'fetch', step_type: 'single', deps_count: 0 },
      { step_slug: 'audit', step_type: 'single', deps_count: 0 },
    ]);
  });

  it("compilation 'verify' boots on an identical flow, keeping its runs", async () => {
    const first = await apps.start({ url: db.url, providers: [ShapeV1] });
    const run = await first.client.start(ShapeV1, {});
    await run.wait({ timeoutMs: 10_000 });
    await first.close();

    const second = await apps.start({ url: db.url, providers: [ShapeV1], pgflow: { compilation: 'verify' } });
    expect((await second.client.getRun(run.runId)).status).toBe('completed');
  });

  it("compilation 'verify' refuses to boot on a flow whose shape differs, listing the differences", async () => {
    await (await apps.start({ url: db.url, providers: [ShapeV1] })).close();

    const error = await bootError([ShapeV2], 'verify');
    expect(error).toBeInstanceOf(FlowShapeMismatchError);
    expect(error).toMatchObject({ code: 'PGFLOW_SHAPE_MISMATCH', flowSlug: 'boot_shape' });
    const { differences, message } = error as FlowShapeMismatchError;
    expect(differences).toEqual([expect.stringMatching(/audit.*dependencies/)]);
    expect(message).toContain(differences[0]);
    expect(await dependenciesOf('boot_shape')).toEqual([]);
  });

  it('a refused boot starts no worker and executes nothing', async () => {
    const api = await apps.start({ url: db.url, providers: [ShapeV1], pgflow: { worker: { enabled: false } } });
    const run = await api.client.start(ShapeV1, {});
    const [{ now: since } = { now: new Date() }] = await db.query<{ now: Date }>('select now() as now');

    await bootError([ShapeV2], 'verify');
    expect(await db.query('select 1 from pgflow.workers where started_at >= $1', [since])).toEqual([]);
    expect((await api.client.getRun(run.runId)).status).toBe('started');
  });

  it("compilation 'recompile' replaces a different flow, deleting its runs, and runs the new shape", async () => {
    const old = await apps.start({ url: db.url, providers: [ShapeV1] });
    const oldRun = await old.client.start(ShapeV1, {});
    await oldRun.wait({ timeoutMs: 10_000 });
    await old.close();

    const app = await apps.start({ url: db.url, providers: [ShapeV2], pgflow: { compilation: 'recompile' } });
    expect(await dependenciesOf('boot_shape')).toEqual(['fetch -> audit']);
    expect(await db.query('select 1 from pgflow.runs where run_id = $1', [oldRun.runId])).toEqual([]);
    const run = await app.client.start(ShapeV2, {});
    await expect(run.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { audit: 'audited 2' } });
  });

  it('compilation false leaves the database alone: a missing flow stays missing', async () => {
    await apps.start({ url: db.url, providers: [NeverCompiledFlow], pgflow: { compilation: false } });
    expect(await flowExists('boot_never_compiled')).toBe(false);
  });

  it('compilation false: starting a flow the database does not have fails with FlowNotFoundError', async () => {
    const { client } = await apps.start({
      url: db.url,
      providers: [NeverCompiledFlow],
      pgflow: { compilation: false },
    });

    const error = await client.start(NeverCompiledFlow, {}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FlowNotFoundError);
    expect(error).toMatchObject({ flow: 'boot_never_compiled' });
    expect(await flowExists('boot_never_compiled')).toBe(false);
  });

  it('compilation false boots even where the shape in the database differs', async () => {
    await (await apps.start({ url: db.url, providers: [ShapeV1] })).close();

    await apps.start({ url: db.url, providers: [ShapeV2], pgflow: { compilation: false } });
    expect(await dependenciesOf('boot_shape')).toEqual([]);
  });
});
