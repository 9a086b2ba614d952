/**
 * Concurrency limits through the library: `@Flow({ concurrency, concurrencyKey })` lets one run per
 * key be in progress (a second run of the key waits, `waitingForSlot`, and starts when the first
 * ends; another key is not held back); `@Flow({ concurrency })` and `@Step({ concurrency })` cap the
 * tasks started at once. Bad options refuse the boot, bad keys the start, and nothing is written.
 */
import { Injectable } from '@nestjs/common';
import {
  Flow,
  type FlowEvent,
  InvalidFlowDefinitionError,
  InvalidRunInputError,
  type MapStepContext,
  OnFlowEvent,
  type RunEvent,
  Step,
} from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

/** Tasks that wait for the test to let them end, by run label. */
class Gates {
  readonly started: string[] = [];
  private readonly opened = new Map<string, () => void>();
  private readonly gates = new Map<string, Promise<void>>();

  enter(label: string): Promise<void> {
    this.started.push(label);
    return this.gate(label);
  }

  release(label: string): void {
    void this.gate(label);
    this.opened.get(label)?.();
  }

  releaseAll(): void {
    for (const open of this.opened.values()) open();
  }

  private gate(label: string): Promise<void> {
    let gate = this.gates.get(label);
    if (gate === undefined) {
      gate = new Promise<void>((resolve) => this.opened.set(label, resolve));
      this.gates.set(label, gate);
    }
    return gate;
  }
}

@Flow({
  slug: 'cl_per_tenant',
  maxAttempts: 1,
  concurrency: 1,
  concurrencyKey: (input: { tenant: string; label: string }) => input.tenant,
})
class PerTenantFlow {
  readonly gates = new Gates();

  @Step()
  async work(input: { tenant: string; label: string }) {
    await this.gates.enter(input.label);
    return input.label;
  }
}

/** The per-key events of PerTenantFlow's runs, as @OnFlowEvent delivers them in any process. */
@Injectable()
class KeyEvents {
  readonly events: FlowEvent[] = [];

  @OnFlowEvent('run:concurrency_limited', { flow: PerTenantFlow })
  onLimited(event: FlowEvent) {
    this.events.push(event);
  }

  @OnFlowEvent('run:admitted', { flow: PerTenantFlow })
  onAdmitted(event: FlowEvent) {
    this.events.push(event);
  }
}

/** Counts the tasks of each step in flight at once. */
class InFlight {
  private now = 0;
  max = 0;

  async around<T>(work: () => Promise<T>): Promise<T> {
    this.now += 1;
    this.max = Math.max(this.max, this.now);
    try {
      return await work();
    } finally {
      this.now -= 1;
    }
  }
}

/** Handler work long enough for several tasks to overlap when nothing limits them. */
const busy = () => new Promise<void>((resolve) => setTimeout(resolve, 150));

@Flow({ slug: 'cl_flow_tasks', maxAttempts: 1, concurrency: 2 })
class FlowTasksFlow {
  readonly inFlight = new InFlight();

  @Step()
  work(input: { n: number }) {
    return this.inFlight.around(async () => {
      await busy();
      return input.n;
    });
  }
}

@Flow({ slug: 'cl_step_tasks', maxAttempts: 1 })
class StepTasksFlow {
  readonly inFlight = new InFlight();
  readonly freeInFlight = new InFlight();

  @Step()
  items(input: { items: number[] }) {
    return input.items;
  }

  @Step({ dependsOn: ['items'], map: true, concurrency: 1 })
  limited(item: number, _ctx: MapStepContext) {
    return this.inFlight.around(async () => {
      await busy();
      return item;
    });
  }

  @Step({ dependsOn: ['items'], map: true })
  free(item: number, _ctx: MapStepContext) {
    return this.freeInFlight.around(async () => {
      await busy();
      return item;
    });
  }
}

const db = useTestDatabase();
const apps = useApps();

describe('a per-key limit of 1 run', () => {
  it('makes a second run of the key wait for a slot, starts it when the first ends, and lets another key run', async () => {
    const { app, client } = await apps.start({ url: db.url, providers: [PerTenantFlow, KeyEvents] });
    const { gates } = app.get(PerTenantFlow);
    try {
      const first = await client.start(PerTenantFlow, { tenant: 'acme', label: 'acme-1' });
      await waitFor(() => gates.started.includes('acme-1'), { description: 'the first run of acme to start' });
      const second = await client.start(PerTenantFlow, { tenant: 'acme', label: 'acme-2' });
      const events: RunEvent[] = [];
      await client.watch(second.runId, '*', (event) => events.push(event));
      const other = await client.start(PerTenantFlow, { tenant: 'globex', label: 'globex-1' });

      // Another key is not held back by acme's run in progress.
      await waitFor(() => gates.started.includes('globex-1'), { description: "globex's run to start" });
      const waiting = await client.getRun(second.runId);
      expect(waiting).toMatchObject({ status: 'started', concurrencyKey: 'acme', waitingForSlot: true });
      expect(waiting.steps.map((step) => step.status)).toEqual(['created']);
      expect(await client.getRun(first.runId)).toMatchObject({ concurrencyKey: 'acme', waitingForSlot: false });
      const { runs } = await client.listRuns({ flow: PerTenantFlow });
      expect(runs.find((run) => run.runId === second.runId)).toMatchObject({
        concurrencyKey: 'acme',
        waitingForSlot: true,
      });
      expect(runs.find((run) => run.runId === other.runId)).toMatchObject({
        concurrencyKey: 'globex',
        waitingForSlot: false,
      });
      await waitFor(() => events.some((event) => event.event_type === 'run:concurrency_limited'), {
        description: 'run:concurrency_limited of the second run',
      });
      expect(gates.started).not.toContain('acme-2');

      gates.release('acme-1');
      await first.wait({ timeoutMs: 30_000 });
      await waitFor(() => gates.started.includes('acme-2'), { description: 'the second run of acme to start' });
      expect(events.find((event) => event.event_type === 'run:admitted')).toMatchObject({
        run_id: second.runId,
        concurrency_key: 'acme',
      });
      gates.release('acme-2');
      gates.release('globex-1');
      await expect(second.wait({ timeoutMs: 30_000 })).resolves.toMatchObject({ output: { work: 'acme-2' } });
      await other.wait({ timeoutMs: 30_000 });
      expect((await client.getRun(second.runId)).waitingForSlot).toBe(false);
      const flowEvents = app.get(KeyEvents).events.filter((event) => event.run_id === second.runId);
      expect(flowEvents.map((event) => [event.event_type, event.concurrency_key])).toEqual([
        ['run:concurrency_limited', 'acme'],
        ['run:admitted', 'acme'],
      ]);
    } finally {
      gates.releaseAll();
    }
  });

  it('applies to the runs of one startMany() batch, one at a time per key', async () => {
    const { app, client } = await apps.start({ url: db.url, providers: [PerTenantFlow] });
    const { gates } = app.get(PerTenantFlow);
    try {
      const handles = await client.startMany(PerTenantFlow, [
        { tenant: 'acme', label: 'a1' },
        { tenant: 'acme', label: 'a2' },
        { tenant: 'globex', label: 'g1' },
      ]);
      await waitFor(() => gates.started.includes('a1') && gates.started.includes('g1'), {
        description: 'the first run of each key to start',
      });
      const second = await client.getRun(handles[1]?.runId as string);
      expect(second).toMatchObject({ concurrencyKey: 'acme', waitingForSlot: true });
      gates.release('a1');
      await waitFor(() => gates.started.includes('a2'), { description: 'the second run of acme to start' });
      gates.releaseAll();
      await Promise.all(handles.map((handle) => handle.wait({ timeoutMs: 30_000 })));
    } finally {
      gates.releaseAll();
    }
  });
});

it('stores the key of a run started with an idempotency key, and deduplicates it as any other', async () => {
  const { app, client } = await apps.start({ url: db.url, providers: [PerTenantFlow] });
  const { gates } = app.get(PerTenantFlow);
  try {
    const input = { tenant: 'initech', label: 'i1' };
    const run = await client.start(PerTenantFlow, input, { idempotencyKey: 'export-i1' });
    const again = await client.start(PerTenantFlow, input, { idempotencyKey: 'export-i1' });
    expect(again).toMatchObject({ runId: run.runId, deduplicated: true });
    expect(await client.getRun(run.runId)).toMatchObject({ concurrencyKey: 'initech', waitingForSlot: false });
    gates.release('i1');
    await run.wait({ timeoutMs: 30_000 });
  } finally {
    gates.releaseAll();
  }
});

it('with @Flow({ concurrency: 2 }), starts at most 2 tasks of the flow at once', async () => {
  const { app, client } = await apps.start({ url: db.url, providers: [FlowTasksFlow] });
  const handles = await client.startMany(
    FlowTasksFlow,
    Array.from({ length: 8 }, (_, n) => ({ n })),
  );
  await Promise.all(handles.map((handle) => handle.wait({ timeoutMs: 30_000 })));
  const { inFlight } = app.get(FlowTasksFlow);
  expect(inFlight.max).toBe(2);
  const [flow] = await db.query(
    "select opt_concurrency, opt_concurrency_per_key from pgflow.flows where flow_slug = 'cl_flow_tasks'",
  );
  expect(flow).toEqual({ opt_concurrency: 2, opt_concurrency_per_key: null });
  // Without a key, runs do not wait: the limit is on tasks.
  expect((await client.getRun(handles[0]?.runId as string)).concurrencyKey).toBeNull();
});

it('with @Step({ concurrency: 1 }), starts one task of that step at a time, not limiting the others', async () => {
  const { app, client } = await apps.start({ url: db.url, providers: [StepTasksFlow] });
  const run = await client.start(StepTasksFlow, { items: [1, 2, 3, 4, 5, 6] });
  await run.wait({ timeoutMs: 30_000 });
  const flow = app.get(StepTasksFlow);
  expect(flow.inFlight.max).toBe(1);
  expect(flow.freeInFlight.max).toBeGreaterThan(1);
  const steps = await db.query(
    "select step_slug, opt_concurrency from pgflow.steps where flow_slug = 'cl_step_tasks' order by step_index",
  );
  expect(steps).toEqual([
    { step_slug: 'items', opt_concurrency: null },
    { step_slug: 'limited', opt_concurrency: 1 },
    { step_slug: 'free', opt_concurrency: null },
  ]);
});

describe('bad concurrency options', () => {
  it.each([
    ['a zero limit', { concurrency: 0 }, '@Flow({ concurrency }) is 0'],
    ['a fractional limit', { concurrency: 1.5 }, '@Flow({ concurrency }) is 1.5'],
    ['a key without a limit', { concurrencyKey: () => 'k' }, '@Flow({ concurrencyKey }) has no concurrency'],
    ['a key that is not a function', { concurrency: 1, concurrencyKey: 'tenant' }, '@Flow({ concurrencyKey }) must be'],
  ])('refuses to boot with %s, naming the flow and the option, and compiles nothing', async (_name, options, text) => {
    @Flow({ slug: 'cl_bad', ...(options as object) })
    class BadFlow {
      @Step()
      call() {
        return 1;
      }
    }
    const error = await apps.start({ url: db.url, providers: [BadFlow] }).then(
      () => new Error('expected the application to refuse to boot'),
      (refused: unknown) => refused,
    );
    expect(error).toBeInstanceOf(InvalidFlowDefinitionError);
    expect((error as Error).message).toContain("BadFlow (flow 'cl_bad')");
    expect((error as Error).message).toContain(text);
    expect(await db.query("select 1 from pgflow.flows where flow_slug = 'cl_bad'")).toEqual([]);
  });

  it('refuses to boot with a step limit of -1, naming the step', async () => {
    @Flow({ slug: 'cl_bad_step' })
    class BadStepFlow {
      @Step({ concurrency: -1 })
      call() {
        return 1;
      }
    }
    const error = await apps.start({ url: db.url, providers: [BadStepFlow] }).then(
      () => new Error('expected the application to refuse to boot'),
      (refused: unknown) => refused,
    );
    expect(error).toBeInstanceOf(InvalidFlowDefinitionError);
    expect((error as Error).message).toContain('BadStepFlow.call(): @Step({ concurrency }) is -1');
    expect(await db.query("select 1 from pgflow.flows where flow_slug = 'cl_bad_step'")).toEqual([]);
  });

  it.each([
    [
      'throws',
      (input: { tenant?: string }) => {
        if (input.tenant === undefined) throw new Error('no tenant');
        return input.tenant;
      },
      'threw for',
    ],
    ['returns a number', () => 42 as unknown as string, 'returned 42'],
    ['returns an empty string', () => '', 'returned ""'],
    ['returns 256 characters', () => 'x'.repeat(256), '... (256 characters)'],
  ])('refuses a start whose key function %s, and starts nothing', async (_name, key, text) => {
    @Flow({ slug: 'cl_bad_key', concurrency: 1, concurrencyKey: key })
    class BadKeyFlow {
      @Step()
      call() {
        return 1;
      }
    }
    const { client } = await apps.start({ url: db.url, providers: [BadKeyFlow] });
    const single = await client.start(BadKeyFlow, {}).then(
      () => new Error('expected start() to refuse'),
      (refused: unknown) => refused,
    );
    expect(single).toBeInstanceOf(InvalidRunInputError);
    expect((single as Error).message).toContain("'cl_bad_key'");
    expect((single as Error).message).toContain('@Flow({ concurrencyKey })');
    expect((single as Error).message).toContain(text);
    expect((single as Error).message).not.toContain('x'.repeat(100));
    const many = await client.startMany(BadKeyFlow, [{ tenant: 't1' }, {}]).then(
      () => new Error('expected startMany() to refuse'),
      (refused: unknown) => refused,
    );
    expect(many).toBeInstanceOf(InvalidRunInputError);
    expect(await db.query("select 1 from pgflow.runs where flow_slug = 'cl_bad_key'")).toEqual([]);
  });
});
