/**
 * Where a one-step run's cost goes (issue "Recovery and scale", item 5): the WAL records that its
 * start, its claim and its completion write, relation by relation, read back with pg_walinspect
 * (PostgreSQL 15+; the suite says so when the server lacks it). A row written, a row locked, an
 * index entry added: each is a WAL record, so the records per run are the row and index writes per
 * run, and HOT updates (no index entry) show as such. Runs are started in one call and claimed and
 * completed in batches of 100, as the library's worker does.
 */
import type pg from 'pg';
import { pgflowMigrations } from '../../migrations/index.ts';
import { formatNumber, table } from '../support/results.ts';
import type { BenchContext, BenchSuite } from '../support/suite.ts';
import { WORKER_ID } from './engine.driver.ts';

const FLOW = 'bench_cost';
const BATCH = 100;

interface RelationCost {
  readonly relation: string;
  readonly records: number;
  readonly bytes: number;
  readonly fullPageBytes: number;
  readonly kinds: string;
}

interface Task {
  readonly run_id: string;
  readonly step_slug: string;
  readonly task_index: number;
  readonly attempt: number;
}

/** The WAL records written between two LSNs, per relation (or resource manager), heaviest first. */
async function walByRelation(client: pg.Client, from: string, to: string): Promise<RelationCost[]> {
  const { rows } = await client.query<RelationCost>(
    `with r as (
       select w.record_length, w.fpi_length, w.resource_manager, w.record_type,
              (regexp_match(w.block_ref, 'rel \\d+/\\d+/(\\d+)'))[1]::oid as file
         from pg_get_wal_records_info($1, $2) w)
     select coalesce(c.relname, r.resource_manager) as relation, count(*)::int as records,
            sum(r.record_length - r.fpi_length)::int as bytes, sum(r.fpi_length)::int as "fullPageBytes",
            string_agg(distinct r.record_type, ' ' order by r.record_type) as kinds
       from r left join pg_class c on c.relfilenode = r.file and r.file <> 0
      group by 1 order by 3 desc`,
    [from, to],
  );
  return rows;
}

async function measure(client: pg.Client, work: () => Promise<unknown>): Promise<RelationCost[]> {
  const lsn = async () => (await client.query<{ l: string }>('select pg_current_wal_flush_lsn() as l')).rows[0]?.l;
  const from = await lsn();
  await work();
  return walByRelation(client, from as string, (await lsn()) as string);
}

function phaseTable(title: string, costs: readonly RelationCost[], runs: number): string {
  const per = (value: number, digits = 0) => formatNumber(value / runs, digits);
  const total = costs.reduce((sum, cost) => sum + cost.bytes, 0);
  const pages = costs.reduce((sum, cost) => sum + cost.fullPageBytes, 0);
  const rows = costs
    .filter((cost) => cost.records / runs >= 0.005)
    .map((cost) => [cost.relation, per(cost.records, 2), per(cost.bytes), cost.kinds]);
  return [
    `### ${title}: ${per(total)} WAL bytes per run (and ${per(pages)} in full-page images)`,
    '',
    table(['relation', 'records per run', 'bytes per run', 'records'], rows),
  ].join('\n');
}

export const costSuite: BenchSuite = {
  name: 'cost',
  summary: "where a one-step run's WAL goes: records and bytes per relation for its start, claim and completion",
  async run(context: BenchContext): Promise<string> {
    const runs = context.quick ? 200 : 2_000;
    const database = await context.server.freshDatabase(pgflowMigrations);
    const client = await database.connect('bench cost');
    try {
      try {
        await client.query('create extension if not exists pg_walinspect');
      } catch (error) {
        return `Not measured: this server has no pg_walinspect (${(error as Error).message}); it comes with PostgreSQL 15+'s contrib modules.`;
      }
      await client.query(`select pgflow.create_flow('${FLOW}', timeout => 120)`);
      await client.query(`select pgflow.add_step('${FLOW}', 'only')`);
      await client.query(
        `insert into pgflow.workers (worker_id, queue_name, function_name) values ($1, '${FLOW}', 'bench')`,
        [WORKER_ID],
      );
      await context.server.checkpoint();
      const start = await measure(client, () =>
        client.query(
          `select count(*) from pgflow.start_flows('${FLOW}', (select jsonb_agg(jsonb_build_object('n', i)) from generate_series(1, $1::int) i))`,
          [runs],
        ),
      );
      const tasks: Task[] = [];
      const claim = await measure(client, async () => {
        for (;;) {
          const { rows } = await client.query<Task>(
            `select run_id, step_slug, task_index, attempt
               from pgflow._report_and_claim('[]', '[]', '${FLOW}', ${BATCH}, 30, $1::uuid, '{}') where run_id is not null`,
            [WORKER_ID],
          );
          if (rows.length === 0) return;
          tasks.push(...rows);
        }
      });
      const complete = await measure(client, async () => {
        for (let i = 0; i < tasks.length; i += BATCH) {
          const batch = tasks.slice(i, i + BATCH).map((task) => ({ ...task, output: { done: true } }));
          await client.query('select pgflow.complete_tasks($1::jsonb)', [JSON.stringify(batch)]);
        }
      });
      const bytes = (costs: readonly RelationCost[]) => costs.reduce((sum, cost) => sum + cost.bytes, 0) / runs;
      context.log(
        `cost: start ${formatNumber(bytes(start))}, claim ${formatNumber(bytes(claim))}, ` +
          `complete ${formatNumber(bytes(complete))} WAL bytes per run`,
      );
      return [
        "## Where a one-step run's WAL goes",
        '',
        `${formatNumber(runs)} one-step runs in a fresh database, started by one \`start_flows\` call after a`,
        `checkpoint, claimed by \`_report_and_claim\` and completed by \`complete_tasks\` in batches of ${BATCH}.`,
        'Each WAL record is a row inserted, updated (HOT_UPDATE: in place, no index entry), locked or',
        'deleted, or an index entry (Btree); bytes leave out full-page images, whose number depends on when',
        "the last checkpoint was. q_/a_ are the flow's queue and archive (pgmq).",
        '',
        phaseTable('Start', start, runs),
        '',
        phaseTable('Claim', claim, runs),
        '',
        phaseTable('Completion', complete, runs),
      ].join('\n');
    } finally {
      await client.end();
    }
  },
};
