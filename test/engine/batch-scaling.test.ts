/**
 * A batch's work grows with its size, not with its square: starting runs in one statement, then
 * claiming and reporting their tasks in batches, reads and compares about as many rows per task
 * attempt whether the batch holds 40 tasks or 320, for one-step runs, two-step chains, a map step's
 * tasks and failures that are retried. The work is counted, not timed (support/explained-rows.ts).
 * A plan that compares every task of a batch with every other (a nested loop over two sets of the
 * batch, as _start_tasks had until migration LinearBatches) makes that sum grow with the square of
 * the batch.
 */
import { useTestDatabase } from '../support/test-database.ts';
import { defineFlow, type FlowOptions, registerWorker, type StepSpec } from './support/engine-driver.ts';
import { explainingSession } from './support/explained-rows.ts';

const db = useTestDatabase();

interface Claimed {
  run_id: string;
  step_slug: string;
  task_index: number;
}

interface Scenario {
  readonly shape: string;
  readonly flow: string;
  readonly steps: readonly StepSpec[];
  readonly options?: FlowOptions;
  /** The inputs of the runs started for a batch of `size`. */
  readonly inputs: (size: number) => unknown[];
  /** The first batch claimed is reported failed (and retried), the others completed. */
  readonly failFirst?: boolean;
  /** The task attempts a batch of `size` makes. */
  readonly attempts: (size: number) => number;
}

/**
 * Starts the runs of a batch of `size` in one statement, then reports and claims in batches of
 * `size` until every run is complete (a report claims the next steps it makes ready, and the retries
 * of the failures it reports); the rows counted per task attempt.
 */
async function rowsPerTask(scenario: Scenario, size: number, worker: string): Promise<number> {
  const { client, rowsSince } = await explainingSession(db, 'batch scaling');
  try {
    rowsSince();
    await client.query(`select count(*) from pgflow.start_flows($1, $2::jsonb)`, [
      scenario.flow,
      JSON.stringify(scenario.inputs(size)),
    ]);
    let attempts = 0;
    let claimed: Claimed[] = [];
    let failing = scenario.failFirst === true;
    do {
      const report = (claimed.length > 0 && failing ? [] : claimed).map((task) => ({ ...task, output: 1 }));
      const failures = claimed.length > 0 && failing ? claimed.map((task) => ({ ...task, error: 'flaky' })) : [];
      if (failures.length > 0) failing = false;
      const result = await client.query<Claimed>(
        `select run_id, step_slug, task_index
           from pgflow._report_and_claim($1::jsonb, $2::jsonb, $3, $4, 30, $5::uuid) where run_id is not null`,
        [JSON.stringify(report), JSON.stringify(failures), scenario.flow, size, worker],
      );
      claimed = result.rows;
      attempts += claimed.length;
    } while (claimed.length > 0);
    const counted = rowsSince();
    const [left] = await db.query<{ left: number }>(
      `select count(*)::int as left from pgflow.runs where flow_slug = $1 and status <> 'completed'`,
      [scenario.flow],
    );
    expect(left?.left).toBe(0);
    expect(attempts).toBe(scenario.attempts(size));
    return counted / attempts;
  } finally {
    await client.end();
  }
}

const oneInputEach = (size: number) => Array.from({ length: size }, (_, n) => ({ n }));
const once = (size: number) => size;
const twice = (size: number) => 2 * size;

const SCENARIOS: readonly Scenario[] = [
  { shape: 'runs of one step', flow: 'scaling_one', steps: [{ slug: 'only' }], inputs: oneInputEach, attempts: once },
  {
    shape: 'runs of a chain of two steps',
    flow: 'scaling_chain',
    steps: [{ slug: 'a' }, { slug: 'b', deps: ['a'] }],
    inputs: oneInputEach,
    attempts: twice,
  },
  {
    shape: 'one run of a map step',
    flow: 'scaling_map',
    steps: [{ slug: 'each', type: 'map' }],
    inputs: (size) => [Array.from({ length: size }, (_, n) => n)],
    attempts: once,
  },
  {
    shape: 'runs of one step whose first attempts fail and are retried',
    flow: 'scaling_retry',
    steps: [{ slug: 'only' }],
    options: { maxAttempts: 2, baseDelay: 0 },
    inputs: oneInputEach,
    failFirst: true,
    attempts: twice,
  },
];

describe('the work of a batch', () => {
  it.each(SCENARIOS)('grows linearly with its size, for $shape, in batches of 40 and 320', async (scenario) => {
    await defineFlow(db, scenario.flow, scenario.steps, scenario.options);
    const worker = await registerWorker(db, scenario.flow);
    const small = await rowsPerTask(scenario, 40, worker);
    const large = await rowsPerTask(scenario, 320, worker);
    // Linear work gives about the same count per task (a little less at 320: fixed costs are shared
    // by more tasks). A nested loop that compares every task of the batch with every other adds rows
    // in proportion to the batch: _start_tasks' join of its tasks with their runs did, and made the
    // ratio 2.2.
    expect(small).toBeGreaterThan(0);
    expect(large / small).toBeLessThan(1.25);
  });
});
