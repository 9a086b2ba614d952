/**
 * Runs one workload in a worker process of its own, so that the worker's CPU time and peak RSS are
 * its own (not the benchmark runner's, nor a previous workload's), for our library and the peers
 * alike. The child (child-entry.ts) imports the workload's module, calls the named export with the
 * input and a ChildControl, and reports back:
 * - CPU time (user + system) from `go` (after the untimed setup, see ChildControl.ready) to
 *   ChildControl.measured() (or the workload's return);
 * - peak RSS of the whole process (process.resourceUsage().maxRSS), setup included.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What a workload running in a child gets besides its input. */
export interface ChildControl {
  /**
   * Ends the untimed setup: the parent takes its readings, then this resolves and the CPU clock
   * starts. Optional: without it the CPU clock starts when the workload is called.
   */
  ready(): Promise<void>;
  /** Ends the measured part (later work, e.g. closing the app, is not counted). Optional. */
  measured(): void;
  /** Progress output, through the parent. */
  log(line: string): void;
}

/** A workload a child process can run: an exported async function of this shape. */
export type ChildWorkload<I, R> = (input: I, control: ChildControl) => Promise<R>;

export interface ChildOutcome<R> {
  readonly result: R;
  /** Worker CPU (user + system) during the measured part, µs. */
  readonly cpuMicros: number;
  /** Peak resident set size of the worker process, bytes. */
  readonly maxRssBytes: number;
}

/** Messages from the child. */
export type ChildMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'log'; readonly line: string }
  | { readonly type: 'done'; readonly result: unknown; readonly cpuMicros: number; readonly maxRssBytes: number }
  | { readonly type: 'error'; readonly message: string; readonly stack: string | undefined };

/** Messages to the child. */
export type ParentMessage =
  | { readonly type: 'run'; readonly module: string; readonly exportName: string; readonly input: unknown }
  | { readonly type: 'go' };

export interface ChildSpec<I> {
  /** The workload's module: `new URL('./x.ts', import.meta.url)` from the caller (compiled to .js). */
  readonly module: URL;
  readonly exportName: string;
  readonly input: I;
  /** Runs between the child's ready() and its go: the parent's "before" readings. */
  readonly beforeGo?: () => Promise<void>;
  readonly log?: (line: string) => void;
  /** The child is killed past this (a hung workload must not hang the run). */
  readonly timeoutMs?: number;
  /** Node.js options of the child (e.g. --no-deprecation for a peer's own warnings). */
  readonly execArgv?: readonly string[];
}

const ENTRY = new URL('./child-entry.ts', import.meta.url);

/** Runs a workload in a fresh Node.js process; rejects with the child's error. */
export function runInChild<I, R>(spec: ChildSpec<I>): Promise<ChildOutcome<R>> {
  return new Promise<ChildOutcome<R>>((resolve, reject) => {
    const child = fork(fileURLToPath(toCompiled(ENTRY)), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: [...(spec.execArgv ?? [])],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    let settled = false;
    let outcome: ChildOutcome<R> | undefined;
    const timer = setTimeout(() => {
      fail(new Error(`The benchmark worker process for ${spec.exportName} ran past ${spec.timeoutMs} ms: killed.`));
      child.kill('SIGKILL');
    }, spec.timeoutMs ?? 600_000);
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(error);
    };
    child.on('message', (message: ChildMessage) => {
      switch (message.type) {
        case 'ready':
          void (spec.beforeGo ?? (async () => {}))().then(
            () => send({ type: 'go' }),
            (error: unknown) => {
              fail(error as Error);
              child.kill('SIGKILL');
            },
          );
          return;
        case 'log':
          spec.log?.(message.line);
          return;
        case 'done':
          outcome = { result: message.result as R, cpuMicros: message.cpuMicros, maxRssBytes: message.maxRssBytes };
          return;
        case 'error': {
          const error = new Error(`${spec.exportName} failed in its worker process: ${message.message}`);
          if (message.stack) error.stack = `${error.message}\n--- in the worker process ---\n${message.stack}`;
          fail(error);
          return;
        }
      }
    });
    child.on('error', (error) => fail(error));
    // The outcome counts once the process has exited: its connections are closed by then.
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (settled) return;
      if (outcome !== undefined && code === 0) {
        settled = true;
        resolve(outcome);
      } else {
        fail(new Error(`The benchmark worker process for ${spec.exportName} exited (${signal ?? `code ${code}`}).`));
      }
    });
    const send = (message: ParentMessage): void => {
      child.send(message);
    };
    send({
      type: 'run',
      module: toCompiled(spec.module).href,
      exportName: spec.exportName,
      input: spec.input,
    });
  });
}

/** The compiled file of a module named by its source path (the bench runs from .build, as .js). */
function toCompiled(url: URL): URL {
  return url.pathname.endsWith('.ts') ? new URL(url.href.replace(/\.ts$/, '.js')) : url;
}
