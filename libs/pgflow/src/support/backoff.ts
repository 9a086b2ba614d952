/** Exponential backoff with jitter, for retrying after the database failed. */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
  ) {}

  /** How many delays were handed out since the last reset. */
  get attempts(): number {
    return this.failures;
  }

  /** The next delay: doubling from initialMs up to maxMs, each with up to 25% random jitter. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** this.failures);
    this.failures += 1;
    return Math.round(base * (0.75 + Math.random() * 0.25));
  }

  reset(): void {
    this.failures = 0;
  }
}
