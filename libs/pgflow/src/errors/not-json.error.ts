import { PgflowError, PgflowErrorCode } from './pgflow.error.ts';

/**
 * A value that cannot travel as JSON (a run input, a step output, a condition pattern), with the
 * path of the first bad value inside it, e.g. `input.items[3].price`.
 */
export class NotJsonError extends PgflowError {
  override readonly name = 'NotJsonError';
  /** Where the bad value is, starting with the root's name: `output.user.createdAt`. */
  readonly path: string;
  /** What is wrong with it and how to fix it, without the path: `is a BigInt (12n); ...`. */
  readonly problem: string;

  constructor(path: string, problem: string, options: { cause?: unknown } = {}) {
    super(PgflowErrorCode.NotJson, `${path} ${problem}`, options);
    this.path = path;
    this.problem = problem;
  }
}
