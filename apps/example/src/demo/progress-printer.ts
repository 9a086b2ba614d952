import type { RunEvent } from 'nestjs-pgflow';

/** Longest output preview on a progress line. */
const PREVIEW_CHARS = 72;

/**
 * Turns a run's events into progress lines a person can follow, one per event as it arrives, each
 * with the time since the run was started:
 * ```
 * +   12 ms  step website started
 * +   19 ms  step summary attempt 1 failed: SummarizerBusyError: ...; retry in 1000 ms
 * ```
 * The end of the run (run:completed / run:failed) is left to the caller, which prints it last.
 */
export class ProgressPrinter {
  /**
   * @param startedAt when the run was started (epoch ms, this process's clock)
   */
  constructor(
    private readonly print: (line: string) => void,
    private readonly startedAt: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Prints the event's line (nothing for the run's end). */
  onEvent(event: RunEvent): void {
    const line = describe(event);
    if (line !== undefined) this.print(`${formatOffset(this.now() - this.startedAt)}  ${line}`);
  }
}

function describe(event: RunEvent): string | undefined {
  const step = `step ${event.step_slug}`;
  switch (event.event_type) {
    case 'run:started':
      return `run ${event.run_id} of ${event.flow_slug} started`;
    case 'step:started':
      return `${step} started`;
    case 'step:completed':
      return `${step} completed: ${event.output_omitted ? '(output too large to show)' : preview(event.output)}`;
    case 'task:retrying': {
      const task = event.task_index ? `${step} task ${event.task_index}` : step;
      const wait =
        event.retry_at === undefined ? '' : `; retry in ${Date.parse(event.retry_at) - Date.parse(event.at)} ms`;
      return `${task} attempt ${event.attempt} failed: ${event.error_message}${wait}`;
    }
    case 'task:sleeping': {
      const task = event.task_index ? `${step} task ${event.task_index}` : step;
      return `${task} sleeps until ${event.sleep_until}`;
    }
    case 'task:rate_limited': {
      const task = event.task_index ? `${step} task ${event.task_index}` : step;
      return `${task} waits for its rate limit until ${event.visible_at}`;
    }
    case 'step:failed':
      return `${step} failed: ${event.error_message}`;
    case 'step:skipped':
      return `${step} skipped (${event.skip_reason})`;
    case 'step:cancelled':
      return `${step} cancelled`;
    case 'step:waiting':
      return `${step} waits for signal '${event.signal_name}'`;
    case 'step:signalled':
      return `${step} received signal '${event.signal_name}'`;
    case 'task:waiting_for_child': {
      const task = event.task_index ? `${step} task ${event.task_index}` : step;
      return `${task} waits for child run ${event.child_run_id} of ${event.child_flow_slug}`;
    }
    case 'run:deleted':
      return `run ${event.run_id} deleted with its flow`;
    case 'run:cancelled':
      return `run ${event.run_id} cancelled${event.reason === undefined ? '' : `: ${event.reason}`}`;
    case 'run:retried':
      return `run ${event.run_id} retried${event.from_step === undefined ? '' : ` from step ${event.from_step}`}`;
    case 'run:concurrency_limited':
      return `run ${event.run_id} waits for a slot (concurrency key ${event.concurrency_key})`;
    case 'run:admitted':
      return `run ${event.run_id} got a slot (concurrency key ${event.concurrency_key})`;
    case 'run:completed':
    case 'run:failed':
      return undefined;
  }
}

/** `+   12 ms`: right-aligned, so that the lines of a run line up. */
export function formatOffset(ms: number): string {
  return `+${String(Math.max(0, Math.round(ms))).padStart(5)} ms`;
}

/** A one-line rendering of a step's output, cut to fit the line. */
function preview(output: unknown): string {
  const json = JSON.stringify(output) ?? 'null';
  if (Array.isArray(output) && json.length > PREVIEW_CHARS) return `${output.length} items: ${cut(json)}`;
  return cut(json);
}

function cut(text: string): string {
  return text.length <= PREVIEW_CHARS ? text : `${text.slice(0, PREVIEW_CHARS - 1)}…`;
}
