/**
 * Subflows through Nest applications (@Step({ subflow }), subflowInput): a map over 100 inputs with
 * a 3-step child flow yields 100 linked child runs and a parent output of 100 items in element
 * order; a failing child fails the parent step's attempt, retried as a new child run while attempts
 * remain; getRun() lists the children; cancelling the parent cancels them; bad declarations (a
 * subflow class that is not a flow, a cycle) stop boot before anything is written.
 */
import { Injectable } from '@nestjs/common';
import {
  Flow,
  InvalidFlowDefinitionError,
  type MapItem,
  type MapStepContext,
  Step,
  type StepInput,
  subflowInput,
} from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

/** How many times the child's `check` step should still fail, per input. */
@Injectable()
class Failures {
  readonly remaining = new Map<number, number>();
}

@Flow({ slug: 'sf_child', baseDelay: 0 })
class ChildFlow {
  constructor(private readonly failures: Failures) {}

  @Step()
  parse(input: { n: number }) {
    return input.n;
  }

  @Step({ dependsOn: ['parse'] })
  check(deps: StepInput<ChildFlow, 'parse'>) {
    const left = this.failures.remaining.get(deps.parse) ?? 0;
    if (left > 0) {
      this.failures.remaining.set(deps.parse, left - 1);
      throw new Error(`check of ${deps.parse} failed`);
    }
    return deps.parse * 10;
  }

  @Step({ dependsOn: ['check'] })
  label(deps: StepInput<ChildFlow, 'check'>) {
    return `item ${deps.check}`;
  }
}

@Flow({ slug: 'sf_parent' })
class ParentFlow {
  @Step()
  numbers(input: { count: number }): number[] {
    return Array.from({ length: input.count }, (_, n) => n);
  }

  @Step({ dependsOn: ['numbers'], map: true, subflow: ChildFlow, maxAttempts: 2, baseDelay: 0 })
  each(n: MapItem<ParentFlow, 'numbers'>, _ctx: MapStepContext) {
    return subflowInput(ChildFlow, { n });
  }

  @Step({ dependsOn: ['each'] })
  collect(deps: StepInput<ParentFlow, 'each'>): string[] {
    return deps.each.map((child) => child.label ?? 'missing');
  }
}

@Flow({ slug: 'sf_single', maxAttempts: 1 })
class SingleParentFlow {
  @Step({ subflow: ChildFlow })
  delegate(input: { n: number }) {
    return subflowInput(ChildFlow, { n: input.n });
  }
}

class NotAFlow {
  @Step()
  only() {
    return 1;
  }
}

@Flow({ slug: 'sf_not_a_flow_parent' })
class BadChildFlow {
  @Step({ subflow: NotAFlow })
  delegate() {
    return {};
  }
}

@Flow({ slug: 'sf_cycle_a' })
class CycleA {
  @Step({ subflow: class Placeholder {} })
  toB() {
    return {};
  }
}

@Flow({ slug: 'sf_cycle_b' })
class CycleB {
  @Step({ subflow: CycleA })
  toA() {
    return {};
  }
}

const db = useTestDatabase();
const apps = useApps();
const failures = new Failures();
const providers = [{ provide: Failures, useValue: failures }, ChildFlow, ParentFlow, SingleParentFlow];

async function childRuns(parentRunId: string) {
  return db.query<{ run_id: string; status: string; parent_task_index: number; input: { n: number } }>(
    `select run_id, status, parent_task_index, input from pgflow.runs
      where parent_run_id = $1 order by parent_task_index, started_at`,
    [parentRunId],
  );
}

it('a map over 100 inputs with a 3-step child flow: 100 linked child runs, 100 outputs in element order', async () => {
  const app = await apps.start({ url: db.url, providers, pgflow: { worker: { maxConcurrent: 20 } } });
  const run = await app.client.start(ParentFlow, { count: 100 });
  const done = await run.wait({ timeoutMs: 120_000 });
  expect(done.output).toEqual({ collect: Array.from({ length: 100 }, (_, n) => `item ${n * 10}`) });
  const children = await childRuns(run.runId);
  expect(children).toHaveLength(100);
  expect(children.map((child) => child.parent_task_index)).toEqual(Array.from({ length: 100 }, (_, n) => n));
  expect(children.every((child, n) => child.status === 'completed' && child.input.n === n)).toBe(true);

  const snapshot = await app.client.getRun(run.runId);
  expect(snapshot.children).toHaveLength(100);
  expect(snapshot.children[7]).toMatchObject({
    flowSlug: 'sf_child',
    stepSlug: 'each',
    taskIndex: 7,
    status: 'completed',
  });
  const child = await app.client.getRun(snapshot.children[7]?.runId as string);
  expect(child.parent).toEqual({ runId: run.runId, stepSlug: 'each', taskIndex: 7 });
});

it('a failing child fails the attempt; the retry is a new child run, and the parent completes', async () => {
  const app = await apps.start({ url: db.url, providers });
  // Input 1's check fails 3 times: its first child run fails (3 attempts), its second succeeds.
  failures.remaining.set(1, 3);
  const run = await app.client.start(ParentFlow, { count: 3 });
  const done = await run.wait({ timeoutMs: 60_000 });
  expect(done.output).toEqual({ collect: ['item 0', 'item 10', 'item 20'] });
  const children = await childRuns(run.runId);
  expect(children.map((child) => [child.parent_task_index, child.status])).toEqual([
    [0, 'completed'],
    [1, 'failed'],
    [1, 'completed'],
    [2, 'completed'],
  ]);
  const each = (await app.client.getRun(run.runId)).steps.find((step) => step.stepSlug === 'each');
  expect(each?.tasks[1]).toMatchObject({ status: 'completed', attemptsCount: 2 });
});

it('a failing child on the last attempt fails the parent step and run, naming the child', async () => {
  const app = await apps.start({ url: db.url, providers });
  failures.remaining.set(77, 3);
  const run = await app.client.start(SingleParentFlow, { n: 77 });
  const error = await run.wait({ timeoutMs: 60_000 }).catch((thrown: unknown) => thrown);
  expect((error as Error).message).toContain('check of 77 failed');
  const [child] = await childRuns(run.runId);
  expect((error as Error).message).toContain(child?.run_id as string);
  expect(child?.status).toBe('failed');
});

it('cancelling the parent cancels its children', async () => {
  // The worker serves the parent flow only: the child runs stay in progress until the cancel.
  const app = await apps.start({ url: db.url, providers, pgflow: { worker: { flows: [ParentFlow] } } });
  const run = await app.client.start(ParentFlow, { count: 5 });
  await waitFor(async () => ((await childRuns(run.runId)).length === 5 ? true : undefined), {
    description: '5 child runs started',
  });
  await app.client.cancel(run.runId, { reason: 'enough' });
  const children = await childRuns(run.runId);
  expect(children.map((child) => child.status)).toEqual(Array(5).fill('cancelled'));
  expect((await app.client.getRun(run.runId)).children.every((c) => c.status === 'cancelled')).toBe(true);
});

it('bad declarations stop boot with nothing written: a subflow class that is not a flow, a cycle', async () => {
  const notAFlow = await apps.start({ url: db.url, providers: [BadChildFlow] }).catch((thrown: unknown) => thrown);
  expect(notAFlow).toBeInstanceOf(InvalidFlowDefinitionError);
  expect((notAFlow as Error).message).toContain('class NotAFlow has no @Flow() decorator');

  // CycleA's subflow is set to CycleB here: classes cannot name each other before both exist.
  Reflect.defineMetadata('pgflow:step', { options: { subflow: CycleB } }, CycleA.prototype.toB);
  const cycle = await apps.start({ url: db.url, providers: [CycleA, CycleB] }).catch((thrown: unknown) => thrown);
  expect(cycle).toBeInstanceOf(InvalidFlowDefinitionError);
  expect((cycle as Error).message).toMatch(/subflows form a cycle: 'sf_cycle_a' → 'sf_cycle_b' → 'sf_cycle_a'/);

  const [row] = await db.query<{ n: number }>(
    `select count(*)::int as n from pgflow.flows where flow_slug in ('sf_not_a_flow_parent', 'sf_cycle_a', 'sf_cycle_b')`,
  );
  expect(row?.n).toBe(0);
});
