/**
 * The inputs of the runs a worker recently worked on. The engine sends a run's input only with the
 * first task of that run the worker claims (and not at all for runs the worker names as known), so
 * a map over a large input does not send the whole input with each of its thousands of tasks.
 */
export class FlowInputCache {
  private readonly inputs = new Map<string, unknown>();

  constructor(private readonly capacity: number) {}

  /** Up to `limit` run ids, most recently used first: the runs to name as known when claiming. */
  known(limit: number): string[] {
    const ids = [...this.inputs.keys()];
    return ids.slice(Math.max(0, ids.length - limit)).reverse();
  }

  has(runId: string): boolean {
    return this.inputs.has(runId);
  }

  get(runId: string): unknown {
    const input = this.inputs.get(runId);
    // Re-insert: a Map iterates in insertion order, so the last entries are the most recently used.
    this.inputs.delete(runId);
    this.inputs.set(runId, input);
    return input;
  }

  set(runId: string, input: unknown): void {
    this.inputs.delete(runId);
    this.inputs.set(runId, input);
    while (this.inputs.size > this.capacity) {
      const oldest = this.inputs.keys().next().value as string;
      this.inputs.delete(oldest);
    }
  }
}
