/**
 * The keys FlowClient computes from a run's input and stores on the run: the rate limit key
 * (`@Flow({ rateLimit: { key } })`) and the concurrency key (`@Flow({ concurrencyKey })`).
 */
import type { FlowDefinition } from '../definition/flow-definition.ts';
import { describeValue } from '../errors/invalid-options.error.ts';
import { InvalidRunInputError } from '../errors/invalid-run-input.error.ts';

/** The engine's limit on either key (runs.rate_limit_key, runs.concurrency_key). */
const MAX_KEY_LENGTH = 255;
/** How much of a refused key an error message shows. */
const SHOWN_KEY_LENGTH = 60;

/** The keys of one run; null where the flow has no key function (or is not known here). */
export interface RunKeys {
  readonly rateLimitKey: string | null;
  readonly concurrencyKey: string | null;
}

/**
 * The run's keys, from its input (as the JSON the engine stores). A key function that throws, or
 * returns anything but a string of 1 to 255 characters, refuses the start: InvalidRunInputError
 * naming the flow, the option and the value.
 */
export function runKeys(slug: string, definition: FlowDefinition | undefined, input: unknown, path: string): RunKeys {
  return {
    rateLimitKey: keyOf(slug, definition?.rateLimit?.key, '@Flow({ rateLimit: { key } })', input, path),
    concurrencyKey: keyOf(slug, definition?.concurrency?.key, '@Flow({ concurrencyKey })', input, path),
  };
}

/** One key per input, or null when no input has one (what start_flows takes). */
export function keysOrNull(keys: readonly (string | null)[]): (string | null)[] | null {
  return keys.some((key) => key !== null) ? [...keys] : null;
}

function keyOf(
  slug: string,
  key: ((input: unknown) => unknown) | null | undefined,
  option: string,
  input: unknown,
  path: string,
): string | null {
  if (key === undefined || key === null) return null;
  let value: unknown;
  try {
    value = key(input);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new InvalidRunInputError(
      slug,
      `${option} threw for ${path}: ${message}. Make the key function return a string for every input the ` +
        'flow accepts (e.g. a default key for inputs without a tenant)',
      { path, cause: error },
    );
  }
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_KEY_LENGTH) {
    throw new InvalidRunInputError(
      slug,
      `${option} returned ${describeKey(value)} for ${path}; it must return a string of 1 to ${MAX_KEY_LENGTH} ` +
        'characters (e.g. a tenant id or a host name; hash a longer one)',
      { path },
    );
  }
  return value;
}

/** A refused key for a message: a long string shortened, with its length. */
function describeKey(value: unknown): string {
  if (typeof value !== 'string' || value.length <= SHOWN_KEY_LENGTH) return describeValue(value);
  return `${describeValue(value.slice(0, SHOWN_KEY_LENGTH))}... (${value.length} characters)`;
}
