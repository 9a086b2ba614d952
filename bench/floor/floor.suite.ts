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
import { costCells, median, perTask, range, type Throughput, tasksPerSecond } from '../support/figures.ts';
import { type InterleavedVariant, interleaveRound, onEachClient } from '../support/interleave.ts';
import { formatNumber, table } from '../support/results.ts';
import type { BenchContext, BenchSuite } from '../support/suite.ts';
import { engineSql, floorSql, floorTables } from './floor.sql.ts';

const CONNECTIONS = 2;

type Name = 'insert' | 'queue-1' | 'queue-100' | 'engine-1' | 'engine-100';

const TITLES: Record<Name, string> = {
  insert: 'one-row INSERT per transaction',
  'queue-1': 'plain queue, batch 1: enqueue, claim (skip locked), delete',
  'queue-100': 'plain queue, batch 100: enqueue 100, claim 100, delete 100',
  'engine-1': 'engine, batch 1: start_flow, _report_and_claim, complete_tasks',
  'engine-100': 'engine, batch 100: start_flows (100 runs), claim 100, complete_tasks 100',
};

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

function variants(quick: boolean): InterleavedVariant[] {
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
  return [
    {
      name: 'insert',
      ...plain,
      items: scale(3000),
      sliceItems: 20,
      slice: (clients, budget) =>
        onEachClient(clients, budget, async (client, share) => {
          for (let i = 0; i < share; i++) await client.query(floorSql.insertRow, [`{"n":${i}}`]);
          return share;
        }),
    },
    {
      name: 'queue-1',
      ...plain,
      items: scale(1000),
      sliceItems: 10,
      slice: (clients, budget) =>
        onEachClient(clients, budget, (client, share) => repeat(client, share, 1, queueCycle)),
    },
    {
      name: 'queue-100',
      ...plain,
      items: scale(20_000),
      sliceItems: 400,
      slice: (clients, budget) =>
        onEachClient(clients, budget, (client, share) => repeat(client, share, 100, queueCycle)),
    },
    {
      name: 'engine-1',
      ...engine,
      items: scale(300),
      sliceItems: 10,
      slice: (clients, budget) =>
        onEachClient(clients, budget, (client, share) => repeat(client, share, 1, engineCycle)),
    },
    {
      name: 'engine-100',
      ...engine,
      items: scale(3_000),
      sliceItems: 200,
      slice: (clients, budget) =>
        onEachClient(clients, budget, (client, share) => repeat(client, share, 100, engineCycle)),
    },
  ];
}

export const floorSuite: BenchSuite = {
  name: 'floor',
  summary: 'plain SQL on this server (one-row insert, queue cycle batch 1/100) next to the engine doing the same',

  async run(context: BenchContext) {
    const samples = new Map<Name, Throughput[]>();
    for (let round = 0; round < context.repetitions; round++) {
      const measured = await interleaveRound(context.server, variants(context.quick));
      for (const [name, sample] of measured) {
        const list = samples.get(name as Name) ?? [];
        list.push(sample);
        samples.set(name as Name, list);
      }
      context.log(
        `  round ${round + 1}: ${[...measured]
          .map(([name, sample]) => `${name} ${formatNumber(tasksPerSecond(sample))}/s`)
          .join(', ')}`,
      );
    }
    return report(samples, context.repetitions);
  },
};

const ENGINE_OVER_FLOOR = [
  ['engine-1', 'queue-1'],
  ['engine-100', 'queue-100'],
] as const;

function report(samples: Map<Name, Throughput[]>, repetitions: number): string {
  const rows = [...samples].map(([name, list]) => {
    const cost = perTask(list);
    return [TITLES[name], range(list.map(tasksPerSecond)), ...costCells(cost)];
  });
  const ratios = ENGINE_OVER_FLOOR.map(([engine, plain]) => {
    const a = samples.get(engine) ?? [];
    const b = samples.get(plain) ?? [];
    const perRound = a.map((sample, i) => tasksPerSecond(sample) / tasksPerSecond(b[i] as Throughput));
    return [`${engine} ÷ ${plain}`, range(perRound, 2), `${formatNumber(median(perRound) * 100)}%`];
  });
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
    table(
      [
        'variant',
        'tasks/s median (min–max)',
        'commits/task',
        'write xacts/task',
        'statements/task',
        'WAL bytes/task',
        'client CPU µs/task',
      ],
      rows,
    ),
    '',
    '### The engine over the floor (per round, then median, min, max)',
    '',
    table(['ratio of tasks/s', 'median (min–max)', 'the engine at'], ratios),
  ].join('\n');
}
