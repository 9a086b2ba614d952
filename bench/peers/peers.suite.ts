/**
 * Our library next to its peers (issue 8), each in a fresh database of the same server, each worker
 * in a process of its own (support/child.ts: its CPU time and peak RSS are its own), interleaved in
 * every round (ours, peer, ours, peer, ...):
 * - draining pre-enqueued no-op work: 20,000 one-step runs (library, default and high-throughput
 *   worker settings) against 20,000 graphile-worker jobs (defaults, documented high-throughput
 *   settings) and 20,000 pg-boss jobs (best batch settings);
 * - 3-step chains: the library, graphile-worker hand-chained (a adds b, b adds c), DBOS Transact's
 *   3-step workflow, pgflow's engine (@pgflow/core) driven the way its worker drives it;
 * - our engine against pgflow's, both with SQL-only drivers (support/interleave.ts);
 * - latency, one run or job at a time with a random think time: ours (1 and 3 steps), graphile-worker,
 *   pg-boss, DBOS, pgflow's engine driven like its worker. The samples of all rounds are pooled for
 *   the percentiles (≥ 200 in a full run); the ratios are per round (p50 over p50).
 * The workloads are in peers.workloads.ts, the section of bench/RESULTS.md in peers.report.ts. This
 * package is installed on demand; the repository's bench/main.ts loads runPeers (see
 * ../support/peers-package.ts).
 */
import { pgflowMigrations } from '../../migrations/index.ts';
import { runInChild } from '../support/child.ts';
import {
  type LatencyRequest,
  type LatencySamples,
  percentile,
  RoundSamples,
  runsPerSecond,
  type Throughput,
  tasksPerSecond,
} from '../support/figures.ts';
import { interleaveRound } from '../support/interleave.ts';
import { throughputInChild } from '../support/measured-child.ts';
import { formatNumber } from '../support/results.ts';
import type { BenchDatabase } from '../support/server.ts';
import type { BenchContext } from '../support/suite.ts';
import { hasStatementCounts } from '../support/work-counters.ts';
import type { LibraryInput } from '../worker/library.workloads.ts';
import { report } from './peers.report.ts';
import {
  CHAIN,
  type ChildWorkload,
  DRAIN,
  engineVariants,
  LATENCY,
  type LatencyWorkload,
  LIBRARY,
  type Sizes,
  sizes,
} from './peers.workloads.ts';

/** A peer's process does not print its dependencies' deprecation warnings (pg 8's, through DBOS and graphile-worker). */
function peerOptions(module: URL): string[] {
  return module === LIBRARY ? [] : ['--no-deprecation'];
}

/**
 * The database the library's drains clone: the one-step flow created and its runs started by one
 * FlowClient.startMany() call, once per suite run.
 */
async function startedRuns(context: BenchContext, s: Sizes): Promise<{ database: BenchDatabase; seconds: number }> {
  const database = await context.server.freshDatabase(pgflowMigrations);
  const input: LibraryInput = {
    database: { name: database.name, url: database.url },
    worker: {},
    shape: 'one-step',
    size: s.drainJobs,
  };
  const outcome = await runInChild<LibraryInput, { runs: number; seconds: number }>({
    module: LIBRARY,
    exportName: 'startRunsInBatch',
    input,
    log: context.log,
    timeoutMs: 600_000,
  });
  return { database, seconds: outcome.result.seconds };
}

async function throughput(
  context: BenchContext,
  workload: ChildWorkload,
  s: Sizes,
  started: BenchDatabase | undefined,
): Promise<Throughput> {
  const database =
    workload.clonesStartedRuns && started !== undefined
      ? await context.server.cloneDatabase(started)
      : await context.server.freshDatabase(workload.migrations);
  return throughputInChild(context.server, database, {
    module: workload.module,
    exportName: workload.exportName,
    input: workload.input({ name: database.name, url: database.url }, s),
    log: context.log,
    execArgv: peerOptions(workload.module),
    timeoutMs: 300_000,
  });
}

async function latency(context: BenchContext, workload: LatencyWorkload): Promise<LatencySamples> {
  const request: LatencyRequest = context.quick
    ? { samples: 3, warmup: 1, thinkMs: workload.thinkMs }
    : { samples: Math.ceil(workload.samples / context.repetitions), warmup: 5, thinkMs: workload.thinkMs };
  const database = await context.server.freshDatabase(workload.migrations);
  try {
    const outcome = await runInChild<unknown, LatencySamples>({
      module: workload.module,
      exportName: workload.exportName,
      input: workload.input({ name: database.name, url: database.url }, request),
      log: context.log,
      execArgv: peerOptions(workload.module),
      timeoutMs: 300_000,
    });
    return outcome.result;
  } finally {
    await context.server.dropDatabase(database);
  }
}

/** Runs the suite; returns its section of bench/RESULTS.md. */
export async function runPeers(context: BenchContext): Promise<string> {
  const s = sizes(context);
  const engines = engineVariants(s.pgflowRuns);
  const throughputs = new RoundSamples<ChildWorkload, Throughput>();
  const engineSamples = new RoundSamples<(typeof engines)['ours'], Throughput>();
  const latencies = new RoundSamples<LatencyWorkload, LatencySamples>();
  const wall = () => `${formatNumber((performance.now() - started) / 1000, 1)} s`;
  let started = performance.now();
  const prepared = await startedRuns(context, s);
  context.log(`  ${formatNumber(s.drainJobs)} one-step runs started by SQL in ${wall()}`);
  for (let round = 0; round < context.repetitions; round++) {
    for (const workload of DRAIN.filter((w) => !(context.quick && w.skipQuick))) {
      started = performance.now();
      const sample = await throughput(context, workload, s, prepared.database);
      throughputs.add(workload, sample);
      context.log(
        `  round ${round + 1}: drain ${workload.name} ${formatNumber(tasksPerSecond(sample))} tasks/s (${wall()})`,
      );
    }
    for (const workload of CHAIN) {
      started = performance.now();
      const sample = await throughput(context, workload, s, prepared.database);
      throughputs.add(workload, sample);
      context.log(
        `  round ${round + 1}: chain ${workload.name} ${formatNumber(runsPerSecond(sample))} runs/s (${wall()})`,
      );
    }
    started = performance.now();
    const measured = await interleaveRound(context.server, [engines.ours, engines.pgflow]);
    engineSamples.addRound(measured);
    for (const [variant, sample] of measured) {
      context.log(
        `  round ${round + 1}: SQL-only chain ${variant.name} ${formatNumber(tasksPerSecond(sample))} tasks/s (${wall()})`,
      );
    }
    for (const workload of LATENCY) {
      started = performance.now();
      const sample = await latency(context, workload);
      latencies.add(workload, sample);
      context.log(
        `  round ${round + 1}: latency ${workload.name} p50 ${formatNumber(percentile(sample.dispatchMs, 0.5), 1)} / ` +
          `${formatNumber(percentile(sample.completedMs, 0.5), 1)} ms (${wall()})`,
      );
    }
  }
  await context.server.dropDatabase(prepared.database);
  return report({
    startSeconds: prepared.seconds,
    throughputs,
    engines,
    engineSamples,
    latencies,
    sizes: s,
    repetitions: context.repetitions,
    statements: await hasStatementCounts(context.server),
  });
}
