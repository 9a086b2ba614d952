/**
 * The parent's side of the scaling suite's worker processes (worker-host.ts): starts them, sends
 * their commands and waits for the answers. A process that fails or exits fails every request to
 * it, and its `failure` rejects (a measurement races it, so that a dead process cannot hang it).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ScalingInput } from './scaling.workloads.ts';

export type HostCommand =
  | { readonly type: 'prepare'; readonly input: ScalingInput }
  | { readonly type: 'boot'; readonly input: ScalingInput }
  | { readonly type: 'go' }
  | { readonly type: 'stop' }
  | { readonly type: 'exit' };

export type HostReply =
  | { readonly type: 'prepared'; readonly runs: number; readonly seconds: number }
  | { readonly type: 'ready' }
  | { readonly type: 'progress'; readonly value: number }
  | { readonly type: 'stopped'; readonly handled: number; readonly cpuMicros: number }
  | { readonly type: 'error'; readonly message: string; readonly stack: string | undefined };

/** The bench runs compiled (.build, .js). */
const PROGRAM = fileURLToPath(new URL('./worker-host.js', import.meta.url));
/** Past this a request fails and the process is killed (a hung process must not hang the suite). */
const REQUEST_TIMEOUT_MS = 300_000;

interface Pending {
  readonly expect: HostReply['type'];
  readonly resolve: (reply: HostReply) => void;
  readonly reject: (error: Error) => void;
}

export class WorkerHost {
  /** The handler calls it reported during the current measurement. */
  handled = 0;
  /** Rejects once the process has failed or exited unasked. */
  readonly failure: Promise<never>;
  private pending: Pending | undefined;
  private exiting = false;
  private fail: (error: Error) => void = () => {};

  private constructor(
    private readonly child: ChildProcess,
    readonly index: number,
  ) {
    this.failure = new Promise<never>((_, reject) => {
      this.fail = reject;
    });
    this.failure.catch(() => {});
    child.on('message', (reply: HostReply) => this.receive(reply));
    child.on('exit', (code, signal) => {
      if (!this.exiting) this.abort(new Error(`Worker process ${index + 1} exited (${signal ?? `code ${code}`}).`));
    });
  }

  static start(index: number): WorkerHost {
    const child = fork(PROGRAM, [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    return new WorkerHost(child, index);
  }

  async prepare(input: ScalingInput): Promise<{ runs: number; seconds: number }> {
    const reply = await this.request({ type: 'prepare', input }, 'prepared');
    return reply.type === 'prepared' ? reply : { runs: 0, seconds: 0 };
  }

  async boot(input: ScalingInput): Promise<void> {
    this.handled = 0;
    await this.request({ type: 'boot', input }, 'ready');
  }

  /** Starts its worker (no answer: handler calls come as progress). */
  go(): void {
    this.child.send({ type: 'go' } satisfies HostCommand);
  }

  /** Stops its worker and closes its app: its handler calls and CPU µs from go to stop. */
  async stop(): Promise<{ handled: number; cpuMicros: number }> {
    const reply = await this.request({ type: 'stop' }, 'stopped');
    return reply.type === 'stopped' ? reply : { handled: 0, cpuMicros: 0 };
  }

  async exit(): Promise<void> {
    if (this.exiting || this.child.exitCode !== null) return;
    this.exiting = true;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    if (this.child.connected) this.child.send({ type: 'exit' } satisfies HostCommand);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  private request(command: HostCommand, expect: HostReply['type']): Promise<HostReply> {
    return new Promise<HostReply>((resolve, reject) => {
      if (this.pending !== undefined) {
        reject(new Error(`Worker process ${this.index + 1} is still busy with a '${this.pending.expect}' request.`));
        return;
      }
      const timer = setTimeout(() => {
        this.abort(
          new Error(
            `Worker process ${this.index + 1} did not answer '${command.type}' within ${REQUEST_TIMEOUT_MS} ms.`,
          ),
        );
        this.child.kill('SIGKILL');
      }, REQUEST_TIMEOUT_MS);
      this.pending = {
        expect,
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.child.send(command);
    });
  }

  private receive(reply: HostReply): void {
    if (reply.type === 'progress') {
      this.handled = reply.value;
      return;
    }
    if (reply.type === 'error') {
      const error = new Error(`Worker process ${this.index + 1} failed: ${reply.message}`);
      if (reply.stack) error.stack = `${error.message}\n--- in the worker process ---\n${reply.stack}`;
      this.abort(error);
      return;
    }
    const pending = this.pending;
    if (pending?.expect === reply.type) {
      this.pending = undefined;
      pending.resolve(reply);
    }
  }

  private abort(error: Error): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error);
    this.fail(error);
  }
}
