/**
 * Run priorities through FlowClient: `start(flow, input, { priority })` and `startMany(..., { priority })`.
 * A worker running one task at a time, with 50 runs queued at priority 0 and then 5 at priority 10,
 * runs the 5 before the remaining 0s (the handler records its order). getRun shows the priority; a
 * priority that is not an integer in range is refused before anything is written.
 */
import { Flow, InvalidOptionsError, Step } from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

const LOW = 50;
const HIGH = 5;

/** Records the order in which its runs' tasks start; the first one waits for `release()`. */
@Flow({ slug: 'prio_order', maxAttempts: 1 })
class OrderFlow {
  readonly order: string[] = [];
  private opened!: () => void;
  private readonly gate = new Promise<void>((resolve) => {
    this.opened = resolve;
  });

  release(): void {
    this.opened();
  }

  @Step()
  async record(input: { label: string }) {
    this.order.push(input.label);
    await this.gate;
    return input.label;
  }
}

@Flow({ slug: 'prio_echo', maxAttempts: 1 })
class EchoFlow {
  @Step()
  echo(input: unknown) {
    return input;
  }
}

const db = useTestDatabase();
const apps = useApps();

async function runCount(flowSlug: string): Promise<number> {
  const [row] = await db.query<{ n: number }>('select count(*)::int as n from pgflow.runs where flow_slug = $1', [
    flowSlug,
  ]);
  return row?.n ?? -1;
}

it(`one task at a time: ${HIGH} runs at priority 10 run before the remaining runs at priority 0`, async () => {
  const { app, client } = await apps.start({
    url: db.url,
    providers: [OrderFlow],
    pgflow: { worker: { maxConcurrent: 1 } },
  });
  const flow = app.get(OrderFlow);
  const low = Array.from({ length: LOW }, (_, i) => ({ label: `low-${i}` }));
  await client.startMany(OrderFlow, low);
  // The worker holds one low run's task (it waits at the gate) while the others stay queued.
  await waitFor(() => flow.order.length >= 1, { timeoutMs: 60_000, description: 'the first task to start' });
  const high = Array.from({ length: HIGH }, (_, i) => ({ label: `high-${i}` }));
  const handles = [];
  for (const input of high) handles.push(await client.start(OrderFlow, input, { priority: 10 }));
  flow.release();
  await waitFor(() => flow.order.length === LOW + HIGH, {
    timeoutMs: 120_000,
    description: `all ${LOW + HIGH} tasks to start`,
  });

  const lastHigh = Math.max(...high.map((input) => flow.order.indexOf(input.label)));
  const lowBefore = flow.order.slice(0, lastHigh).filter((label) => label.startsWith('low-'));
  // The low task that held the worker came first; every high one before any other low one.
  expect({ lowBefore, order: flow.order }).toEqual({ lowBefore: [flow.order[0]], order: flow.order });
  // The high runs in the order they were started.
  expect(flow.order.slice(1, 1 + HIGH)).toEqual(high.map((input) => input.label));
  const snapshot = await client.getRun(handles[0]?.runId as string);
  expect(snapshot?.priority).toBe(10);
});

it('startMany gives the batch its priority; getRun shows it, and 0 for runs started without one', async () => {
  const { client } = await apps.start({ url: db.url, providers: [EchoFlow], pgflow: { worker: { enabled: false } } });
  const [first, second] = await client.startMany(EchoFlow, [1, 2], { priority: -3 });
  const plain = await client.start(EchoFlow, 3);
  expect((await client.getRun(first?.runId as string))?.priority).toBe(-3);
  expect((await client.getRun(second?.runId as string))?.priority).toBe(-3);
  expect((await client.getRun(plain.runId))?.priority).toBe(0);
});

it.each([
  ['a fraction', 1.5],
  ['a string', '10'],
  ['a priority above 1000000', 1_000_001],
  ['a priority below -1000000', -1_000_001],
  ['NaN', Number.NaN],
])('refuses %s with InvalidOptionsError naming it, writing nothing', async (_label, priority) => {
  const { client } = await apps.start({ url: db.url, providers: [EchoFlow], pgflow: { worker: { enabled: false } } });
  const before = await runCount('prio_echo');
  const single = await client.start(EchoFlow, 1, { priority: priority as number }).catch((caught) => caught);
  const many = await client.startMany(EchoFlow, [1, 2], { priority: priority as number }).catch((caught) => caught);
  for (const error of [single, many]) {
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect(error).toMatchObject({ option: 'priority', value: priority });
    expect((error as Error).message).toContain('an integer from -1000000 to 1000000');
  }
  expect(await runCount('prio_echo')).toBe(before);
});
