/**
 * What a benchmark suite is. Each suite is one file that exports a BenchSuite; ../suites.ts lists
 * them, and `npm run bench -- <name>...` runs the named ones (all when none is named).
 */
import type { BenchServer } from './server.ts';

export interface BenchSuite {
  /** Selects the suite on the command line and names its section of bench/RESULTS.md. */
  readonly name: string;
  /** One line for `npm run bench -- --help`. */
  readonly summary: string;
  /**
   * Why the suite cannot run on this checkout (e.g. its packages are not installed), naming the fix;
   * undefined when it can. A suite without it always can.
   */
  unavailable?(): string | undefined;
  /** Runs the suite and returns its section of bench/RESULTS.md (Markdown, without the machine facts). */
  run(context: BenchContext): Promise<string>;
}

export interface BenchContext {
  readonly server: BenchServer;
  /** --quick: a short smoke run (under a minute); its figures are printed, not recorded. */
  readonly quick: boolean;
  /** Rounds of every variant, interleaved (A, B, A, B, ...); at least 3 unless --quick. */
  readonly repetitions: number;
  /** Progress output. */
  log(line: string): void;
}
