/**
 * Worker deployments as real child processes (test/processes/worker-process.ts): spawn them, read
 * their JSON-lines output, signal them. `useWorkerProcesses()` builds the program once and kills
 * (SIGKILL) whatever a test left running after each test, and when the Jest worker exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { projectRoot } from '../../../tools/local-postgres.ts';
import { waitFor } from '../../support/wait-for.ts';
import { buildProcesses, processScript } from './build.ts';

/** Worker timings for tests: short polls and heartbeats (the stalled-task sweep runs with each). */
const FAST_WORKER = {
  pollIntervalMs: 10,
  maxPollSeconds: 1,
  heartbeatIntervalMs: 250,
  shutdownTimeoutMs: 5_000,
  // Frequent beats, but a worker is declared dead only after 10 s of silence: a busy test machine
  // can hold an event loop longer than 3 short beats (tests of dead workers set their own).
  declareDeadAfterMs: 10_000,
} as const;

export interface WorkerSpec {
  /** The database to work on. */
  readonly url: string;
  /** A label for the process, stored with each execution [worker-<pid>]. */
  readonly label?: string;
  /** Which flows the deployment has (RELIABILITY_FLOW of test/processes/worker-process.ts) ['fanout']. */
  readonly flow?:
    | 'fanout'
    | 'changed'
    | 'patient'
    | 'order_v1'
    | 'order_v2'
    | 'scheduled'
    | 'traced_chain'
    | 'subflows'
    | 'soak'
    | 'concurrency';
  /** Write each finished OpenTelemetry span as a `span` line (test/processes/traced-flows.ts). */
  readonly traceSpans?: boolean;
  /** A file the `order_v1` handlers wait for (test/processes/versioned-flows.ts). */
  readonly gateFile?: string;
  /** The `retention` option: ended runs are kept this many seconds [no retention]. */
  readonly retentionSeconds?: number;
  /** Write a `memory` line this often, in ms [never]. */
  readonly memoryEveryMs?: number;
  /** Each handler takes a random time in this range, in ms [0, 0]. */
  readonly delayMs?: readonly [number, number];
  /** PgflowModule worker options, over fast test timings. */
  readonly worker?: Partial<Record<keyof typeof FAST_WORKER | WorkerOption, number>>;
}

type WorkerOption = 'maxConcurrent' | 'batchSize' | 'visibilityTimeout' | 'declareDeadAfterMs';

const OPTION_ENV: Record<string, string> = {
  maxConcurrent: 'PGFLOW_MAX_CONCURRENT',
  batchSize: 'PGFLOW_BATCH_SIZE',
  visibilityTimeout: 'PGFLOW_VISIBILITY_TIMEOUT',
  heartbeatIntervalMs: 'PGFLOW_HEARTBEAT_MS',
  shutdownTimeoutMs: 'PGFLOW_SHUTDOWN_TIMEOUT_MS',
  pollIntervalMs: 'PGFLOW_POLL_INTERVAL_MS',
  maxPollSeconds: 'PGFLOW_MAX_POLL_SECONDS',
  declareDeadAfterMs: 'PGFLOW_DECLARE_DEAD_AFTER_MS',
};

/** One line the program wrote: a log line, `ready`, or `boot-failed`. */
export interface ProcessLine {
  readonly type: 'log' | 'ready' | 'boot-failed' | 'span' | 'memory';
  readonly pid: number;
  /** Epoch ms, the child's clock. */
  readonly at: number;
  readonly level?: string;
  readonly context?: string;
  readonly message?: string;
  readonly name?: string;
  /** `memory` lines: process.memoryUsage() in MB. */
  readonly rssMb?: number;
  readonly heapUsedMb?: number;
}

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class WorkerProcess {
  /** Parsed JSON lines from stdout, in order. */
  readonly lines: ProcessLine[] = [];
  /** stderr, and stdout lines that are not JSON. */
  readonly otherOutput: Array<{ at: number; text: string }> = [];
  readonly exited: Promise<ProcessExit>;
  private exit: ProcessExit | undefined;

  constructor(
    readonly label: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const part of parts) this.read(part);
    });
    child.stderr?.on('data', (chunk: Buffer) => this.otherOutput.push({ at: Date.now(), text: chunk.toString() }));
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** Resolves once the worker polls; throws with the program's output if it fails to boot or exits. */
  async ready(timeoutMs = 90_000): Promise<void> {
    await waitFor(
      () => {
        if (this.lines.some((line) => line.type === 'ready')) return true;
        if (!this.running || this.lines.some((line) => line.type === 'boot-failed')) {
          throw new Error(`Worker ${this.label} did not start:\n${this.output()}`);
        }
        return false;
      },
      { timeoutMs, intervalMs: 25, description: `worker ${this.label} to be ready` },
    ).catch((error: Error) => {
      throw error.cause instanceof Error ? error.cause : error;
    });
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGKILL, and the moment it was sent (epoch ms). */
  async killNow(): Promise<number> {
    const at = Date.now();
    this.signal('SIGKILL');
    await this.exited;
    return at;
  }

  /** Log lines at these levels, written at or after `since` (epoch ms). */
  logs(levels: readonly string[], since = 0): ProcessLine[] {
    return this.lines.filter((line) => line.type === 'log' && levels.includes(line.level ?? '') && line.at >= since);
  }

  /** Everything the program wrote, for failure messages. */
  output(): string {
    return [...this.lines.map((line) => JSON.stringify(line)), ...this.otherOutput.map((o) => o.text)].join('\n');
  }

  private read(text: string): void {
    if (text.trim() === '') return;
    try {
      this.lines.push(JSON.parse(text) as ProcessLine);
    } catch {
      this.otherOutput.push({ at: Date.now(), text });
    }
  }
}

const alive = new Set<WorkerProcess>();
process.once('exit', () => {
  for (const worker of alive) worker.signal('SIGKILL');
});

export class WorkerProcesses {
  private counter = 0;

  /** Spawns a worker deployment (not waiting for it to be ready). */
  spawn(spec: WorkerSpec): WorkerProcess {
    this.counter += 1;
    const label = spec.label ?? `worker-${this.counter}`;
    const options: Record<string, number> = { ...FAST_WORKER, ...spec.worker };
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // Jest's ESM flags are not for the child.
      NODE_OPTIONS: '',
      NO_COLOR: '1',
      DATABASE_URL: spec.url,
      RELIABILITY_WORKER: label,
      RELIABILITY_FLOW: spec.flow ?? 'fanout',
      RELIABILITY_DELAY_MS: (spec.delayMs ?? [0, 0]).join('-'),
      RELIABILITY_GATE_FILE: spec.gateFile ?? '',
      RELIABILITY_TRACE_SPANS: spec.traceSpans ? '1' : '',
      RELIABILITY_MEMORY_MS: spec.memoryEveryMs === undefined ? '' : String(spec.memoryEveryMs),
      RELIABILITY_RETENTION_SECONDS: spec.retentionSeconds === undefined ? '' : String(spec.retentionSeconds),
    };
    for (const [option, value] of Object.entries(options)) env[OPTION_ENV[option] as string] = String(value);
    const child = spawn(process.execPath, [processScript('worker-process')], {
      cwd: projectRoot(),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const worker = new WorkerProcess(label, child);
    alive.add(worker);
    void worker.exited.then(() => alive.delete(worker));
    return worker;
  }

  /** Spawns a worker deployment and waits until it polls. */
  async start(spec: WorkerSpec): Promise<WorkerProcess> {
    const worker = this.spawn(spec);
    await worker.ready();
    return worker;
  }

  /** SIGKILLs every worker still running and waits for them to exit. */
  async killAll(): Promise<void> {
    const running = [...alive];
    for (const worker of running) worker.signal('SIGKILL');
    await Promise.all(running.map((worker) => worker.exited));
  }
}

/** Worker processes for this test file: built once, killed after each test whatever happened. */
export function useWorkerProcesses(): WorkerProcesses {
  const workers = new WorkerProcesses();
  beforeAll(() => buildProcesses(), 120_000);
  afterEach(() => workers.killAll());
  afterAll(() => workers.killAll());
  return workers;
}
