import { PgflowError, PgflowErrorCode } from './pgflow.error.ts';

/** A PgflowModule (or worker) option with a value the library cannot use. */
export class InvalidOptionsError extends PgflowError {
  override readonly name = 'InvalidOptionsError';
  /** Path of the option, e.g. `worker.maxConcurrent`. */
  readonly option: string;
  /** The value given. */
  readonly value: unknown;
  /** What is allowed, e.g. `an integer from 1 to 10000`. */
  readonly expected: string;

  /**
   * @param options.subject what the option belongs to, for the message [`PgflowModule option`]
   */
  constructor(option: string, value: unknown, expected: string, options: { cause?: unknown; subject?: string } = {}) {
    super(
      PgflowErrorCode.InvalidOptions,
      `Invalid ${options.subject ?? 'PgflowModule option'} ${option}: ${describeValue(value)}. Expected ${expected}.`,
      'cause' in options ? { cause: options.cause } : {},
    );
    this.option = option;
    this.value = value;
    this.expected = expected;
  }
}

/** A short, safe rendering of any value for an error message. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return value.name ? `function ${value.name}` : 'a function';
  if (typeof value === 'symbol' || typeof value !== 'object' || value === null) return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  const name = Object.getPrototypeOf(value)?.constructor?.name;
  return name && name !== 'Object' ? `an instance of ${name}` : 'an object';
}
