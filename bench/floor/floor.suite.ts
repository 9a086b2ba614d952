/**
 * The floor (issue 8): what this server allows at all, in plain SQL on plain tables, and our engine
 * doing the same cycle through its SQL API, interleaved in the same rounds (support/interleave.ts):
 * - one-row INSERT per transaction;
 * - a plain queue cycle: enqueue, claim (`for update skip locked`), delete, each its own statement
 *   and commit, in batches of 1 and of 100;
 * - the engine's cycle on a one-step flow: start the runs (one statement), claim their tasks
 *   (pgflow._report_and_claim), complete them (pgflow.complete_tasks), in batches of 1 and of 100.
 * The ratio engine ÷ plain queue, per round, is what the engine costs over the floor.
 */
import type pg from 'pg';
import { pgflowMigrations } from '../../migrations/index.ts';
import { WORKER_ID } from '../engine/engine.driver.ts';
import {
  costColumns,
  median,
  perRound,
  RoundSamples,
  range,
  rateColumn,
  type Throughput,
  tasksPerSecond,
} from '../support/figures.ts';
import { type InterleavedVariant, interleaveRound, onEachClient } from '../support/interleave.ts';
import { formatNumber, tableOf } from '../support/results.ts';
import type { BenchContext, BenchSuite } from '../support/suite.ts';
import { engineSql, floorSql, floorTables } from './floor.sql.ts';

const CONNECTIONS = 2;

/** A variant and the title of its row. */
interface FloorVariant extends InterleavedVariant {
  readonly title: string;
}

async function queueCycle(client: pg.Client, batch: number): Promise<number> {
  await client.query(floorSql.enqueue, [batch]);
  const { rows } = await client.query<{ id: string }>(floorSql.claim, [batch]);
  await client.query(floorSql.finish, [rows.map((row) => row.id)]);
  return rows.length;
}

async function engineCycle(client: pg.Client, batch: number): Promise<number> {
  await client.query(engineSql.start, [batch]);
  const { rows } = await client.query<{ run_id: string; step_slug: string; task_index: number; input: unknown }>(
    engineSql.claim,
    [batch, WORKER_ID],
  );
  if (rows.length === 0) return 0;
  await client.query(engineSql.complete, [
    JSON.stringify(
      rows.map((task) => ({
        run_id: task.run_id,
        step_slug: task.step_slug,
        task_index: task.task_index,
        output: task.input,
      })),
    ),
  ]);
  return rows.length;
}

/** Repeats `cycle` (which handles up to `batch` items) until `share` items are handled. */
async function repeat(
  client: pg.Client,
  share: number,
  batch: number,
  cycle: (client: pg.Client, batch: number) => Promise<number>,
): Promise<number> {
  let handled = 0;
  while (handled < share) {
    const done = await cycle(client, Math.min(batch, share - handled));
    if (done === 0) break;
    handled += done;
  }
  return handled;
}

/** The variants of a suite run, the same objects in every round (they key the samples). */
function variants(quick: boolean) {
  const scale = (full: number) => (quick ? Math.max(50, Math.round(full / 10)) : full);
  const plain: Pick<InterleavedVariant, 'migrations' | 'setup' | 'connections'> = {
    migrations: [],
    setup: (database) => database.run(floorTables),
    connections: CONNECTIONS,
  };
  const engine: Pick<InterleavedVariant, 'migrations' | 'setup' | 'connections'> = {
    migrations: pgflowMigrations,
    setup: async (database) => {
      const client = await database.connect('pgflow bench setup');
      try {
        for (const sql of engineSql.setup) await client.query(sql);
        await client.query(engineSql.registerWorker, [WORKER_ID]);
      } finally {
        await client.end();
      }
    },
    connections: CONNECTIONS,
  };
  const insert: FloorVariant = {
    name: 'insert',
    title: 'one-row INSERT per transaction',
    ...plain,
    items: scale(3000),
    sliceItems: 20,
    slice: (clients, budget) =>
      onEachClient(clients, budget, async (client, share) => {
        for (let i = 0; i < share; i++) await client.query(floorSql.insertRow, [`{"n":${i}}`]);
        return share;
      }),
  };
  const queue1: FloorVariant = {
    name: 'queue-1',
    title: 'plain queue, batch 1: enqueue, claim (skip locked), delete',
    ...plain,
    items: scale(1000),
    sliceItems: 10,
    slice: (clients, budget) => onEachClient(clients, budget, (client, share) => repeat(client, share, 1, queueCycle)),
  };
  const queue100: FloorVariant = {
    name: 'queue-100',
    title: 'plain queue, batch 100: enqueue 100, claim 100, delete 100',
    ...plain,
    items: scale(20_000),
    sliceItems: 400,
    slice: (clients, budget) =>
      onEachClient(clients, budget, (client, share) => repeat(client, share, 100, queueCycle)),
  };
  const engine1: FloorVariant = {
    name: 'engine-1',
    title: 'engine, batch 1: start_flow, _report_and_claim, complete_tasks',
    ...engine,
    items: scale(300),
    sliceItems: 10,
    slice: (clients, budget) => onEachClient(clients, budget, (client, share) => repeat(client, share, 1, engineCycle)),
  };
  const engine100: FloorVariant = {
    name: 'engine-100',
    title: 'engine, batch 100: start_flows (100 runs), claim 100, complete_tasks 100',
    ...engine,
    items: scale(3_000),
    sliceItems: 200,
    slice: (clients, budget) =>
      onEachClient(clients, budget, (client, share) => repeat(client, share, 100, engineCycle)),
  };
  return {
    all: [insert, queue1, queue100, engine1, engine100],
    /** The engine over the floor: each engine variant over the plain queue of the same batch. */
    engineOverFloor: [
      { engine: engine1, plain: queue1 },
      { engine: engine100, plain: queue100 },
    ],
  };
}

export const floorSuite: BenchSuite = {
  name: 'floor',
  summary: 'plain SQL on this server (one-row insert, queue cycle batch 1/100) next to the engine doing the same',

  async run(context: BenchContext) {
    const plan = variants(context.quick);
    const samples = new RoundSamples<FloorVariant, Throughput>();
    for (let round = 0; round < context.repetitions; round++) {
      const measured = await interleaveRound(context.server, plan.all);
      samples.addRound(measured);
      context.log(
        `  round ${round + 1}: ${[...measured]
          .map(([variant, sample]) => `${variant.name} ${formatNumber(tasksPerSecond(sample))}/s`)
          .join(', ')}`,
      );
    }
    return report(plan, samples, context.repetitions);
  },
};

function report(
  plan: ReturnType<typeof variants>,
  samples: RoundSamples<FloorVariant, Throughput>,
  repetitions: number,
): string {
  const of = (variant: FloorVariant) => samples.of(variant);
  const overFloor = ({ engine, plain }: (typeof plan.engineOverFloor)[number]) =>
    perRound(of(engine), of(plain), tasksPerSecond);
  return [
    '## The floor: plain SQL on this server, and the engine doing the same',
    '',
    `${repetitions} rounds; in each, every variant gets a fresh database and ${CONNECTIONS} connections, and the ` +
      'variants run in alternating slices of a few milliseconds (A, B, C, …, C, B, A) until each has done its ' +
      'share, so that the disk’s swings hit them alike. Every statement is its own transaction. Tasks are rows ' +
      'inserted, jobs, or one-step runs. Commits are pg_stat_database’s (read-only transactions included); write ' +
      'xacts are transactions that got an id (what costs a WAL flush), counted server-wide from the transaction ' +
      'id counter. Statements per task come from pg_stat_statements (BEGIN/COMMIT would count; none are sent ' +
      'here); n/a where the server does not load it.',
    '',
    tableOf<FloorVariant>(
      [
        { heading: 'variant', cell: (variant) => variant.title },
        rateColumn('tasks/s median (min–max)', of, tasksPerSecond),
        ...costColumns(of, 'client'),
      ],
      plan.all,
    ),
    '',
    '### The engine over the floor (per round, then median, min, max)',
    '',
    tableOf(
      [
        { heading: 'ratio of tasks/s', cell: ({ engine, plain }) => `${engine.name} ÷ ${plain.name}` },
        { heading: 'median (min–max)', cell: (pair) => range(overFloor(pair), 2) },
        { heading: 'the engine at', cell: (pair) => `${formatNumber(median(overFloor(pair)) * 100)}%` },
      ],
      plan.engineOverFloor,
    ),
  ].join('\n');
}
