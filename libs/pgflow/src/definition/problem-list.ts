import type { FlowDefinitionProblem, FlowDefinitionProblemCode } from '../errors/invalid-flow-definition.error.ts';

/** Collects the problems of one flow class, so that they are all reported at once. */
export class ProblemList {
  private readonly problems: FlowDefinitionProblem[] = [];

  constructor(readonly className: string) {}

  /** `AnalyzeWebsiteFlow.summary()`, or the class name alone. */
  where(methodName?: string): string {
    return methodName === undefined ? this.className : `${this.className}.${methodName}()`;
  }

  /** Records a problem; the message is prefixed with where it is. */
  add(code: FlowDefinitionProblemCode, text: string, methodName?: string): void {
    const problem: FlowDefinitionProblem =
      methodName === undefined
        ? { code, message: `${this.where()}: ${text}` }
        : { code, methodName, message: `${this.where(methodName)}: ${text}` };
    this.problems.push(problem);
  }

  get size(): number {
    return this.problems.length;
  }

  list(): readonly FlowDefinitionProblem[] {
    return this.problems;
  }
}

/** The candidate closest to `name` (case-insensitive edit distance at most 2), if any. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/** `'a', 'b' and 'c'` (or `'a', 'b' or 'c'`). */
export function quoteList(items: readonly string[], conjunction: 'and' | 'or' = 'and'): string {
  const quoted = items.map((item) => `'${item}'`);
  return quoted.length <= 1 ? (quoted[0] ?? '') : `${quoted.slice(0, -1).join(', ')} ${conjunction} ${quoted.at(-1)}`;
}
