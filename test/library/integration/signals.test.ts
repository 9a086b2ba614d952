/**
 * Signal steps through Nest applications (@Step({ signal }), FlowClient.signal): a signal sent
 * before its step is ready is not lost; a waiting step starts on the signal (woken by notification)
 * with the payload as input and its dependencies in ctx.deps; a second signal is refused and the
 * first payload stands; 200 waiting runs hold no worker slot; a signal timeout with whenExhausted
 * 'skip' lets the run go on; refusals and bad declarations are clear errors.
 */
import { Injectable } from '@nestjs/common';
import {
  Flow,
  InvalidFlowDefinitionError,
  InvalidOptionsError,
  type MapStepContext,
  type RunEvent,
  SignalRefusedError,
  type SignalStepContext,
  Step,
} from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

interface Approval {
  approvedBy: string;
}

/** Lets a test hold the `prepare` step until it says so, and records when `approve` started. */
@Injectable()
class Gate {
  private opened = Promise.resolve();
  private open: () => void = () => {};
  readonly approvedAt = new Map<string, number>();
  hold(): void {
    this.opened = new Promise((resolve) => {
      this.open = resolve;
    });
  }
  release(): void {
    this.open();
  }
  passed(): Promise<void> {
    return this.opened;
  }
}

@Flow({ slug: 'sg_order' })
class OrderFlow {
  constructor(private readonly gate: Gate) {}

  @Step()
  async prepare(input: { total: number }) {
    await this.gate.passed();
    return { total: input.total };
  }

  @Step({ dependsOn: ['prepare'], signal: 'approval' })
  approve(approval: Approval, ctx: SignalStepContext<{ prepare: { total: number } }>) {
    this.gate.approvedAt.set(ctx.runId, Date.now());
    return { approvedBy: approval.approvedBy, total: ctx.deps.prepare.total };
  }

  @Step({ dependsOn: ['approve'] })
  ship(deps: { approve: { approvedBy: string } }) {
    return `shipped, approved by ${deps.approve.approvedBy}`;
  }
}

@Flow({ slug: 'sg_optional' })
class OptionalReviewFlow {
  @Step({ signal: 'review', timeout: 2, whenExhausted: 'skip' })
  review(note: string) {
    return note;
  }

  @Step({ dependsOn: ['review'] })
  publish(deps: { review?: string }) {
    return deps.review ?? 'published without review';
  }
}

@Flow({ slug: 'sg_quick' })
class QuickFlow {
  @Step()
  only(input: { n: number }) {
    return input.n;
  }
}

@Flow({ slug: 'sg_map_signal' })
class MapSignalFlow {
  @Step({ map: true, signal: 'go' })
  each(item: number, _ctx: MapStepContext) {
    return item;
  }
}

@Flow({ slug: 'sg_twice' })
class TwiceFlow {
  @Step({ signal: 'go' })
  first(payload: unknown) {
    return payload;
  }

  @Step({ signal: 'go' })
  second(payload: unknown) {
    return payload;
  }
}

const db = useTestDatabase();
const apps = useApps();
const gate = new Gate();
const providers = [{ provide: Gate, useValue: gate }, OrderFlow, OptionalReviewFlow, QuickFlow];

it('a signal sent 2 s before its step is ready is not lost; a second signal is refused, the first payload stands', async () => {
  const app = await apps.start({ url: db.url, providers });
  gate.hold();
  const run = await app.client.start('sg_order', { total: 42 });
  await expect(app.client.signal(run.runId, 'approval', { approvedBy: 'ana' })).resolves.toMatchObject({
    stepSlug: 'approve',
    delivered: false,
  });
  await expect(app.client.signal(run.runId, 'approval', { approvedBy: 'bob' })).rejects.toMatchObject({
    name: 'SignalRefusedError',
    reason: 'duplicate',
  });
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  gate.release();
  expect(await run.wait({ timeoutMs: 30_000 })).toMatchObject({
    output: { ship: 'shipped, approved by ana' },
  });
  const snapshot = await app.client.getRun(run.runId);
  expect(snapshot.steps.find((step) => step.stepSlug === 'approve')?.output).toEqual({ approvedBy: 'ana', total: 42 });
});

it('a waiting step is visible in getRun() and in events, and starts on the signal', async () => {
  const app = await apps.start({ url: db.url, providers });
  const run = await app.client.start('sg_order', { total: 5 });
  const events: RunEvent[] = [];
  run.on('*', (event) => events.push(event));
  await waitFor(
    async () =>
      (await app.client.getRun(run.runId)).steps.find((step) => step.waitingForSignal === 'approval') ?? undefined,
    { description: 'the approve step to wait for its signal' },
  );
  await waitFor(() => events.find((event) => event.event_type === 'step:waiting'), { description: 'step:waiting' });

  const signalledAt = Date.now();
  await expect(app.client.signal(run.runId, 'approval', { approvedBy: 'cy' })).resolves.toMatchObject({
    delivered: true,
  });
  expect(await run.wait({ timeoutMs: 30_000 })).toMatchObject({ output: { ship: 'shipped, approved by cy' } });
  await waitFor(() => events.find((event) => event.event_type === 'step:signalled'), { description: 'step:signalled' });
  expect(events.find((event) => event.event_type === 'step:signalled')).toMatchObject({ signal_name: 'approval' });
  const after = (await app.client.getRun(run.runId)).steps.find((step) => step.stepSlug === 'approve');
  expect(after?.waitingForSignal).toBeNull();
  console.log(
    `signal: the waiting step started ${(gate.approvedAt.get(run.runId) ?? 0) - signalledAt} ms after signal()`,
  );
});

it('200 runs waiting for a signal hold no worker slot; after 200 signals all complete', async () => {
  const app = await apps.start({ url: db.url, providers, pgflow: { worker: { maxConcurrent: 1 } } });
  const handles = await app.client.startMany(
    'sg_order',
    Array.from({ length: 200 }, (_, n) => ({ total: n })),
  );
  await waitFor(
    async () => {
      const [row] = await db.query<{ n: number }>(
        `select count(*)::int as n from pgflow.step_tasks t join pgflow.runs r using (run_id)
          where r.flow_slug = 'sg_order' and t.step_slug = 'approve' and t.message_id is null
            and t.status = 'queued' and r.run_id = any($1::uuid[])`,
        [handles.map((handle) => handle.runId)],
      );
      return row?.n === 200 ? true : undefined;
    },
    { description: '200 runs waiting for approval', timeoutMs: 60_000 },
  );
  // The only slot is free: another flow's runs go through meanwhile.
  const quick = await app.client.startMany(
    'sg_quick',
    Array.from({ length: 20 }, (_, n) => ({ n })),
  );
  for (const handle of quick) await handle.wait({ timeoutMs: 30_000 });

  for (const handle of handles) await app.client.signal(handle.runId, 'approval', { approvedBy: 'batch' });
  const outcomes = await Promise.all(handles.map((handle) => handle.wait({ timeoutMs: 90_000 })));
  expect(outcomes.every((outcome) => outcome.status === 'completed')).toBe(true);
});

it("a signal timeout with whenExhausted 'skip': the step is skipped after about its timeout and the run goes on", async () => {
  const app = await apps.start({ url: db.url, providers });
  const startedAt = Date.now();
  const run = await app.client.start('sg_optional', {});
  expect(await run.wait({ timeoutMs: 30_000 })).toMatchObject({ output: { publish: 'published without review' } });
  const review = (await app.client.getRun(run.runId)).steps.find((step) => step.stepSlug === 'review');
  expect(review).toMatchObject({ status: 'skipped', skipReason: 'handler_failed' });
  expect(review?.errorMessage).toContain('signal timeout');
  console.log(`signal timeout 2 s: skipped after ${Date.now() - startedAt} ms (sweep at each heartbeat)`);
  await expect(app.client.signal(run.runId, 'review', 'too late')).rejects.toMatchObject({ reason: 'run-ended' });
});

it('refusals are clear errors and change nothing: unknown name, unknown run, bad arguments', async () => {
  const app = await apps.start({ url: db.url, providers });
  const run = await app.client.start('sg_order', { total: 1 });
  const refused = await app.client.signal(run.runId, 'aproval', 1).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(SignalRefusedError);
  expect(refused).toMatchObject({ reason: 'unknown-signal', runId: run.runId, signalName: 'aproval' });
  expect((refused as Error).message).toContain("'approval'");
  await expect(app.client.signal('00000000-0000-4000-8000-000000000000', 'approval', 1)).rejects.toMatchObject({
    name: 'RunNotFoundError',
  });
  await expect(app.client.signal(run.runId, 'not a name', 1)).rejects.toBeInstanceOf(InvalidOptionsError);
  await expect(app.client.signal(run.runId, 'approval', () => 1)).rejects.toBeInstanceOf(InvalidOptionsError);
  const [row] = await db.query<{ n: number }>('select count(*)::int as n from pgflow.signals where run_id = $1', [
    run.runId,
  ]);
  expect(row?.n).toBe(0);
});

it('bad declarations stop boot: a map step with a signal, two steps waiting for one name', async () => {
  for (const flow of [MapSignalFlow, TwiceFlow]) {
    const error = await apps.start({ url: db.url, providers: [flow] }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(InvalidFlowDefinitionError);
    expect((error as Error).message).toMatch(flow === MapSignalFlow ? /single step/ : /both wait for signal 'go'/);
  }
});
