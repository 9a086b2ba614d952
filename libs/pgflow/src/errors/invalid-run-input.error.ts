import { describeValue } from './invalid-options.error.ts';
import type { NotJsonError } from './not-json.error.ts';
import { PgflowError, PgflowErrorCode } from './pgflow.error.ts';
import { endSentence } from './sentence.ts';

/** The input given to start a run cannot be used; nothing was started. */
export class InvalidRunInputError extends PgflowError {
  override readonly name = 'InvalidRunInputError';
  readonly flowSlug: string;
  /** What is wrong, naming the bad value's path when there is one (`input.items[3].price is NaN ...`). */
  readonly reason: string;
  /** Path of the bad value inside the input, when the problem is one value. */
  readonly path: string | undefined;

  constructor(flowSlug: string, reason: string, options: { path?: string; cause?: unknown } = {}) {
    super(
      PgflowErrorCode.InvalidInput,
      `${endSentence(`Invalid input for flow '${flowSlug}': ${reason}`)} No run was started.`,
      'cause' in options ? { cause: options.cause } : {},
    );
    this.flowSlug = flowSlug;
    this.reason = reason;
    this.path = options.path;
  }

  /** The input is not JSON (see toJsonValue); keeps the NotJsonError as `cause`. */
  static notJson(flowSlug: string, error: NotJsonError): InvalidRunInputError {
    return new InvalidRunInputError(flowSlug, error.message, { path: error.path, cause: error });
  }

  /**
   * The flow has a root map step, which maps over the run input, and the input is not an array.
   * @param rootMapSteps the slugs of the flow's root map steps
   */
  static notAnArray(
    flowSlug: string,
    rootMapSteps: readonly string[],
    input: unknown,
    path = 'input',
  ): InvalidRunInputError {
    const steps = rootMapSteps.map((slug) => `'${slug}'`).join(', ');
    const actual = describeValue(input);
    return new InvalidRunInputError(
      flowSlug,
      `${path} is ${actual}, but the flow's root map step ${steps} runs one task per element of the input, so ` +
        'the input must be an array (an empty array completes the step with no tasks)',
      path === 'input' ? {} : { path },
    );
  }
}
