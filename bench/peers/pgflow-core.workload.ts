/**
 * pgflow's SQL engine (@pgflow/core, installed by pgflow-core.migration.ts on our queue layer),
 * driven the way pgflow's worker (@pgflow/edge-worker's createFlowWorker) drives it, in a worker
 * process of its own (see ../support/child.ts): @pgflow/core's own PgflowSqlClient on the
 * `postgres` driver (a pool of maxPgConnections, prepare: false, as createFlowWorker makes it),
 * and the worker's loop with its defaults (PGFLOW_WORKER_DEFAULTS): send a heartbeat (at most every
 * 5 s), read up to batchSize messages with pgmq.read_with_poll (waiting up to maxPollSeconds,
 * checking every pollIntervalMs), start their tasks with pgflow.start_tasks, run the handlers (at
 * most maxConcurrent at once), complete each task with its own pgflow.complete_task, and read again
 * once the whole batch is done. The flow is created with pgflow.create_flow/add_step (what pgflow's
 * compiler emits). Handlers are no-ops.
 * - throughput: `runs` runs of a 3-step chain, started with PgflowSqlClient.startFlow by 20
 *   concurrent callers (their own pool) inside the clock, until every run is complete;
 * - latency: one run at a time (a random think time between): startFlow → the first handler runs,
 *   startFlow → the worker's complete_task of the last step returns (the run is complete then: an
 *   observer outside the worker would learn it later, not sooner).
 */
import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import type { ChildControl } from '../support/child.ts';
import { inParallel, type LatencyRequest, sequentialLatency, until } from '../support/figures.ts';
import { Completions } from './completions.ts';

/** @pgflow/edge-worker's FlowWorkerConfig defaults (createFlowWorker). */
export const PGFLOW_WORKER_DEFAULTS = {
  maxConcurrent: 10,
  maxPgConnections: 4,
  batchSize: 10,
  visibilityTimeout: 2,
  maxPollSeconds: 2,
  pollIntervalMs: 100,
  heartbeatIntervalMs: 5_000,
} as const;

export const CHAIN_SLUG = 'bench_chain_3';

/** The 3-step chain a → b → c, as pgflow's compiler would create it. */
export const CREATE_CHAIN: readonly string[] = [
  `select pgflow.create_flow('${CHAIN_SLUG}', timeout => 120)`,
  `select pgflow.add_step('${CHAIN_SLUG}', 'a')`,
  `select pgflow.add_step('${CHAIN_SLUG}', 'b', array['a'])`,
  `select pgflow.add_step('${CHAIN_SLUG}', 'c', array['b'])`,
];

interface TaskRecord {
  readonly run_id: string;
  readonly step_slug: string;
  readonly task_index: number;
  readonly msg_id: number;
  readonly input: unknown;
}

type Sql = postgres.Sql;

interface SqlClient {
  readMessages(
    queue: string,
    vt: number,
    qty: number,
    maxPollSeconds: number,
    pollIntervalMs: number,
  ): Promise<Array<{ msg_id: number }>>;
  startTasks(flow: string, msgIds: number[], workerId: string): Promise<TaskRecord[]>;
  completeTask(task: TaskRecord, output: unknown): Promise<void>;
  startFlow(flow: string, input: unknown): Promise<{ run_id: string }>;
}

async function sqlClient(sql: Sql): Promise<SqlClient> {
  const { PgflowSqlClient } = await import('@pgflow/core');
  return new PgflowSqlClient(sql) as unknown as SqlClient;
}

async function pool(url: string, max: number): Promise<Sql> {
  const { default: connect } = await import('postgres');
  return connect(url, { max, prepare: false, onnotice: () => {} });
}

/** The edge worker's loop (Worker → BatchProcessor → StepTaskPoller → ExecutionController), minus its logging. */
class PgflowStyleWorker {
  private running = true;
  private loopDone: Promise<void> | undefined;
  private lastHeartbeat = 0;
  readonly workerId = randomUUID();

  constructor(
    private readonly sql: Sql,
    private readonly client: SqlClient,
    private readonly slug: string,
    private readonly handler: (task: TaskRecord) => unknown,
    private readonly onCompleted: (task: TaskRecord) => void,
  ) {}

  async start(): Promise<void> {
    await this.sql`insert into pgflow.workers (queue_name, worker_id, function_name)
                   values (${this.slug}, ${this.workerId}, 'bench')`;
    this.loopDone = this.loop();
  }

  /** Stops the loop; a read waiting in read_with_poll is cut short by closing the pool. */
  async stop(): Promise<void> {
    this.running = false;
    await this.sql.end({ timeout: 0 });
    await this.loopDone?.catch(() => {});
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        await this.processBatch();
      } catch (error) {
        // As the edge worker does: log, and go on with the next batch.
        if (this.running) console.error(`pgflow-style worker: ${(error as Error).message}`);
      }
    }
  }

  private async processBatch(): Promise<void> {
    const d = PGFLOW_WORKER_DEFAULTS;
    if (Date.now() - this.lastHeartbeat >= d.heartbeatIntervalMs) {
      this.lastHeartbeat = Date.now();
      await this.sql`update pgflow.workers set last_heartbeat_at = now() where worker_id = ${this.workerId}`;
    }
    const messages = await this.client.readMessages(
      this.slug,
      d.visibilityTimeout,
      d.batchSize,
      d.maxPollSeconds,
      d.pollIntervalMs,
    );
    if (!this.running || messages.length === 0) return;
    const tasks = await this.client.startTasks(
      this.slug,
      messages.map((m) => m.msg_id),
      this.workerId,
    );
    await inParallel(tasks.length, d.maxConcurrent, async (i) => {
      const task = tasks[i] as TaskRecord;
      const output = this.handler(task);
      await this.client.completeTask(task, output);
      this.onCompleted(task);
    });
  }
}

export interface PgflowCoreInput {
  readonly url: string;
  readonly runs: number;
}

async function withChain(url: string): Promise<void> {
  const setup = await pool(url, 1);
  try {
    for (const statement of CREATE_CHAIN) await setup.unsafe(statement);
  } finally {
    await setup.end();
  }
}

export async function pgflowCoreChain(
  input: PgflowCoreInput,
  control: ChildControl,
): Promise<{ tasks: number; runs: number; seconds: number; startSeconds: number }> {
  await withChain(input.url);
  const sql = await pool(input.url, PGFLOW_WORKER_DEFAULTS.maxPgConnections);
  let completed = 0;
  const worker = new PgflowStyleWorker(
    sql,
    await sqlClient(sql),
    CHAIN_SLUG,
    () => 1,
    () => {
      completed += 1;
    },
  );
  const starterSql = await pool(input.url, 20);
  const starter = await sqlClient(starterSql);
  try {
    await worker.start();
    await control.ready();
    const started = performance.now();
    await inParallel(input.runs, 20, (n) => starter.startFlow(CHAIN_SLUG, { n }));
    const startSeconds = (performance.now() - started) / 1000;
    await until(() => completed >= input.runs * 3, `${input.runs * 3} pgflow tasks (${completed} so far)`);
    const [left] = await starterSql<Array<{ left: string }>>`
      select count(*) as left from pgflow.runs where status <> 'completed'`;
    if (Number(left?.left) !== 0) throw new Error(`${left?.left} pgflow runs are not completed.`);
    const seconds = (performance.now() - started) / 1000;
    control.measured();
    return { tasks: input.runs * 3, runs: input.runs, seconds, startSeconds };
  } finally {
    await worker.stop();
    await starterSql.end({ timeout: 1 });
  }
}

export interface PgflowCoreLatencyInput extends LatencyRequest {
  readonly url: string;
}

export async function pgflowCoreLatency(
  input: PgflowCoreLatencyInput,
  control: ChildControl,
): Promise<{ dispatchMs: number[]; completedMs: number[] }> {
  await withChain(input.url);
  const sql = await pool(input.url, PGFLOW_WORKER_DEFAULTS.maxPgConnections);
  const firstHandlerAt = new Map<string, number>();
  const completions = new Completions();
  const worker = new PgflowStyleWorker(
    sql,
    await sqlClient(sql),
    CHAIN_SLUG,
    (task) => {
      if (task.step_slug === 'a') firstHandlerAt.set(task.run_id, performance.now());
      return 1;
    },
    (task) => {
      if (task.step_slug === 'c') completions.done(task.run_id);
    },
  );
  const starterSql = await pool(input.url, 1);
  const starter = await sqlClient(starterSql);
  try {
    await worker.start();
    await control.ready();
    const latency = await sequentialLatency(input, async (n) => {
      const run = await starter.startFlow(CHAIN_SLUG, { n });
      await completions.wait(run.run_id, `pgflow run ${n}`);
      return firstHandlerAt.get(run.run_id);
    });
    control.measured();
    return latency;
  } finally {
    await worker.stop();
    await starterSql.end({ timeout: 1 });
  }
}
