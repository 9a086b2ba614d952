import { describeValue } from '../errors/invalid-options.error.ts';
import { MAX_SECONDS_OPTION, PG_INT_MAX } from '../pgflow.constants.ts';
import { closest } from './problem-list.ts';

/** The numeric options of flows and steps, with their ranges and what they mean. */
export const NUMERIC_OPTION_RULES = {
  // The engine's CHECK allows 0, but it still runs a task once then (a failure after the first attempt
  // exhausts it), so 0 would only pretend to mean "never run": 1 is how to say "no retries".
  maxAttempts: {
    min: 1,
    max: PG_INT_MAX,
    unit: '',
    meaning: 'attempts in all, the first one included: 1 means no retry',
  },
  baseDelay: { min: 0, max: MAX_SECONDS_OPTION, unit: 'seconds', meaning: 'the delay before the first retry' },
  timeout: {
    min: 1,
    max: MAX_SECONDS_OPTION,
    unit: 'seconds',
    meaning: 'how long a task may run before it counts as stalled',
  },
  startDelay: { min: 0, max: MAX_SECONDS_OPTION, unit: 'seconds', meaning: "the delay before the step's tasks start" },
} as const;

export type NumericOptionName = keyof typeof NUMERIC_OPTION_RULES;

/** What is wrong with a numeric option's value (`is -1; expected ...`), or undefined when it is valid or unset. */
export function numericOptionProblem(name: NumericOptionName, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const rule = NUMERIC_OPTION_RULES[name];
  if (typeof value === 'number' && Number.isInteger(value) && value >= rule.min && value <= rule.max) return undefined;
  const unit = rule.unit === '' ? 'an integer' : `an integer number of ${rule.unit}`;
  return `is ${describeValue(value)}; expected ${unit} from ${rule.min} to ${rule.max} (${rule.meaning}), or no ${name} for the default`;
}

/** Problems with unknown keys of an options object (a typo, usually), each as a sentence end. */
export function unknownKeyProblems(options: object, known: readonly string[]): string[] {
  return Object.keys(options)
    .filter((key) => !known.includes(key))
    .map((key) => {
      const suggestion = closest(key, known);
      const hint = suggestion === undefined ? `known options: ${known.join(', ')}` : `did you mean '${suggestion}'?`;
      return `unknown option '${key}' (${hint})`;
    });
}
