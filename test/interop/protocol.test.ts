/**
 * pgflow's own worker protocol runs flows here to the same rows as this library's worker: a chain,
 * a map, a retry and a condition (with pgflow's rule for a map over a skipped step: no task, and
 * output []). Each flow exists twice, one served by a Nest worker and one by a loop that speaks
 * pgflow 0.14's SQL protocol (support/pgflow-protocol-worker.ts); their runs' rows are compared.
 */
import { Flow, type MapStepContext, Step, type StepContext, type StepInput } from 'nestjs-pgflow';
import { flowDefinitionOf } from '../../libs/pgflow/src/definition/flow-definition.builder.ts';
import { toFlowShape } from '../../libs/pgflow/src/definition/flow-shape.ts';
import { useApps } from '../library/fixtures/pgflow-app.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { PgflowProtocolWorker, type ProtocolHandler, type ProtocolTask } from './support/pgflow-protocol-worker.ts';
import { comparableRows } from './support/run-rows.ts';

@Flow({ slug: 'interop_chain' })
class ChainFlow {
  @Step()
  a(input: { n: number }) {
    return input.n + 1;
  }

  @Step({ dependsOn: ['a'] })
  b(deps: StepInput<ChainFlow, 'a'>) {
    return deps.a * 2;
  }

  @Step({ dependsOn: ['b'] })
  c(deps: StepInput<ChainFlow, 'b'>) {
    return { result: deps.b + 1 };
  }
}

@Flow({ slug: 'interop_map' })
class MapFlow {
  @Step()
  list(input: { size: number }) {
    return Array.from({ length: input.size }, (_, i) => i);
  }

  @Step({ dependsOn: ['list'], map: true })
  double(item: number, _ctx: MapStepContext) {
    return item * 2;
  }

  @Step({ dependsOn: ['double'] })
  sum(deps: StepInput<MapFlow, 'double'>) {
    return deps.double.reduce((total, value) => total + value, 0);
  }
}

@Flow({ slug: 'interop_retry', maxAttempts: 3, baseDelay: 0 })
class RetryFlow {
  @Step()
  flaky(_input: unknown, ctx: StepContext) {
    if (ctx.attempt === 1) throw new Error('first attempt fails');
    return 'ok';
  }
}

@Flow({ slug: 'interop_condition' })
class ConditionFlow {
  @Step({ if: { go: true } })
  gate(_input: { go: boolean }) {
    return [1, 2, 3];
  }

  @Step({ dependsOn: ['gate'] })
  after(deps: Partial<StepInput<ConditionFlow, 'gate'>>) {
    return { sawGate: deps.gate !== undefined };
  }

  @Step({ dependsOn: ['gate'], map: true })
  each(item: number, _ctx: MapStepContext) {
    return item;
  }

  @Step({ dependsOn: ['each'] })
  total(deps: StepInput<ConditionFlow, 'each'>) {
    return deps.each.length;
  }
}

/** The same handlers, as the protocol worker calls them (pgflow hands root steps the flow input). */
const seen = new Set<string>();
const HANDLERS: Record<string, Record<string, ProtocolHandler>> = {
  chain: {
    a: (t) => (t.flow_input as { n: number }).n + 1,
    b: (t) => (t.input as { a: number }).a * 2,
    c: (t) => ({ result: (t.input as { b: number }).b + 1 }),
  },
  map: {
    list: (t) => Array.from({ length: (t.flow_input as { size: number }).size }, (_, i) => i),
    double: (t) => (t.input as number) * 2,
    sum: (t) => (t.input as { double: number[] }).double.reduce((total, value) => total + value, 0),
  },
  retry: {
    flaky: (t: ProtocolTask) => {
      const key = `${t.run_id}:${t.step_slug}:${t.task_index}`;
      if (!seen.has(key)) {
        seen.add(key);
        throw new Error('first attempt fails');
      }
      return 'ok';
    },
  },
  condition: {
    gate: () => [1, 2, 3],
    after: (t) => ({ sawGate: (t.input as { gate?: unknown }).gate !== undefined }),
    each: (t) => t.input,
    total: (t) => (t.input as { each: unknown[] }).each.length,
  },
};

const CASES = [
  { name: 'chain', flow: ChainFlow, inputs: [{ n: 1 }, { n: 41 }] },
  { name: 'map', flow: MapFlow, inputs: [{ size: 5 }, { size: 0 }] },
  { name: 'retry', flow: RetryFlow, inputs: [{}] },
  { name: 'condition', flow: ConditionFlow, inputs: [{ go: true }, { go: false }] },
] as const;

const db = useTestDatabase();
const apps = useApps();

describe("pgflow's worker protocol and this library's worker", () => {
  it.each(CASES)('run the $name flow to the same rows', async ({ name, flow, inputs }) => {
    // The protocol worker's twin: the same definition under another slug (so each has its queue).
    const slug = `interop_pg_${name}`;
    const shape = toFlowShape(flowDefinitionOf(new flow()));
    await db.query('select pgflow.ensure_flow_compiled($1, $2::jsonb)', [slug, JSON.stringify(shape)]);
    const session = await db.connect('pgflow protocol worker');
    const worker = new PgflowProtocolWorker(session, slug, HANDLERS[name] ?? {});
    await worker.register('interop-edge-function');
    const pgflowRuns: string[] = [];
    for (const input of inputs) {
      const [run] = await db.query<{ run_id: string }>('select run_id from pgflow.start_flow($1, $2::jsonb)', [
        slug,
        JSON.stringify(input),
      ]);
      pgflowRuns.push(run?.run_id as string);
    }
    await worker.runUntil(async () => {
      const open = await db.query("select 1 from pgflow.runs where run_id = any($1::uuid[]) and status = 'started'", [
        pgflowRuns,
      ]);
      return open.length === 0;
    });
    await worker.stop();

    const { client } = await apps.start({ url: db.url, providers: [flow] });
    const nestRuns: string[] = [];
    for (const input of inputs) {
      const run = await client.start(flow as never, input as never);
      await run.wait({ timeoutMs: 20_000 });
      nestRuns.push(run.runId);
    }

    for (const [index, runId] of pgflowRuns.entries()) {
      expect(await comparableRows(db, runId)).toEqual(await comparableRows(db, nestRuns[index] as string));
    }
    const [registered] = await db.query(
      'select function_name, stopped_at is not null as stopped from pgflow.workers where worker_id = $1',
      [worker.workerId],
    );
    expect(registered).toEqual({ function_name: 'interop-edge-function', stopped: true });
  });

  it('gives a map over a skipped step no task and the output [] (pgflow’s rule), and the rows say so', async () => {
    const { client } = await apps.start({ url: db.url, providers: [ConditionFlow] });
    const run = await client.start(ConditionFlow, { go: false });
    expect((await run.wait({ timeoutMs: 20_000 })).output).toEqual({ after: { sawGate: false }, total: 0 });
    const rows = (await comparableRows(db, run.runId)) as { steps: Array<Record<string, unknown>> };
    expect(rows.steps.find((step) => step.step_slug === 'gate')).toMatchObject({
      status: 'skipped',
      skip_reason: 'condition_unmet',
      remaining_tasks: null,
    });
    expect(rows.steps.find((step) => step.step_slug === 'each')).toMatchObject({
      status: 'completed',
      output: [],
      initial_tasks: 0,
      remaining_deps: 0,
      remaining_tasks: 0,
      started: true,
      completed: true,
    });
  });
});
