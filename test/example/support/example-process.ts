/**
 * `npm start`'s program in a child process: its output line by line, waiting for a line, and
 * stopping it with a signal. Every process still running after a test is killed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { projectRoot } from '../../../tools/local-postgres.ts';
import { waitFor } from '../../support/wait-for.ts';

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Milliseconds from the signal (or the start of the wait) to the exit. */
  readonly afterMs: number;
}

export class ExampleProcess {
  /** Everything it printed, stdout and stderr, one entry per line. */
  readonly lines: string[] = [];
  private readonly exited: Promise<Omit<Exit, 'afterMs'>>;
  private partial = { stdout: '', stderr: '' };

  constructor(private readonly child: ChildProcess) {
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream]?.on('data', (chunk: Buffer) => this.received(stream, chunk.toString('utf8')));
    }
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The output so far, for assertion messages. */
  get output(): string {
    return this.lines.join('\n');
  }

  /** Waits for a line matching `pattern` and returns its match; fails early if the process exits. */
  async line(pattern: RegExp, timeoutMs = 90_000): Promise<RegExpMatchArray> {
    return waitFor(
      () => {
        for (const line of this.lines) {
          const match = pattern.exec(line);
          if (match) return match;
        }
        if (!this.running) throw new Error(`The example exited before printing ${pattern}:\n${this.output}`);
        return undefined;
      },
      { timeoutMs, intervalMs: 50, description: `a line matching ${pattern}; output so far:\n${this.output}` },
    );
  }

  /**
   * Sends `signal` and waits for the exit (at most `timeoutMs`: by default longer than the example's
   * own shutdown deadline of 15 s, after which it exits with code 1, so that the example decides).
   */
  stop(signal: NodeJS.Signals, timeoutMs = 20_000): Promise<Exit> {
    this.child.kill(signal);
    return this.exit(timeoutMs, `of ${signal}`);
  }

  /** Waits for the process to exit by itself (at most `timeoutMs`). */
  async exit(timeoutMs = 60_000, after = ''): Promise<Exit> {
    const since = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`The example did not exit within ${timeoutMs} ms ${after}:\n${this.output}`)),
        timeoutMs,
      );
    });
    try {
      const exit = await Promise.race([this.exited, timeout]);
      return { ...exit, afterMs: Date.now() - since };
    } finally {
      clearTimeout(timer);
    }
  }

  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  private received(stream: 'stdout' | 'stderr', text: string): void {
    const parts = (this.partial[stream] + text).split('\n');
    this.partial[stream] = parts.pop() ?? '';
    // Nest colours its log lines; the assertions read plain text.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences
    this.lines.push(...parts.map((line) => line.replace(/\u001b\[[0-9;]*m/g, '')));
  }
}

/** Starts processes running `script` with `env` over process.env; kills those left after each test. */
export function useExampleProcesses(script: () => string): (env: NodeJS.ProcessEnv) => ExampleProcess {
  const started: ExampleProcess[] = [];
  afterEach(async () => {
    for (const child of started.splice(0)) await child.kill();
  });
  return (env) => {
    const child = spawn(process.execPath, [script()], {
      cwd: projectRoot(),
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const example = new ExampleProcess(child);
    started.push(example);
    return example;
  };
}
