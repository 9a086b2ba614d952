/**
 * Moves a migrated database from one queue layer to the other (our fallback to the real pgmq
 * extension, or back), keeping every queue with its messages, archive, message ids and creation
 * time, in one transaction: either all of it happens or nothing does. Flows, runs and tasks (which
 * refer to messages by id) are untouched.
 *
 * The new layer is installed exactly as a fresh database of that layer gets it: the `extension` (or
 * `fallback`) part of every migration, in order. Queues are recreated through the new layer's own
 * pgmq.create, then their rows copied in. Privileges are not carried over: schema pgmq and its
 * tables are new, so GRANTs to other roles (an API role's) must be run again afterwards.
 *
 * It refuses, changing nothing, while a worker is alive (a heartbeat in the last minute), when the
 * target is the extension and the server does not offer pgmq 1.5+, when a queue is partitioned (the
 * fallback has no partitioned queues), and when schema pgmq holds tables that are not queues.
 */
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { pgflowMigrations } from '../index.ts';
import { MIGRATION_LOCK_KEY, type MigrationSql } from '../support/apply-migration.ts';
import { chooseImplementation, installedImplementation, type PgmqImplementation, readPgmqState } from './detect.ts';

export interface QueueLayerSwitch {
  readonly from: PgmqImplementation;
  readonly to: PgmqImplementation;
  /** False when the database already had the target layer (then nothing was done). */
  readonly switched: boolean;
  readonly queues: number;
  /** Messages moved (in the queues, visible or not). */
  readonly messages: number;
  /** Archived messages moved. */
  readonly archived: number;
}

/** How recent a heartbeat must be for its worker to count as alive (workers beat every 5 s by default). */
const LIVE_WORKER_SECONDS = 60;

interface QueueRow {
  queue_name: string;
  is_partitioned: boolean;
  is_unlogged: boolean;
  created_at: Date;
}

/** Switches the database of `dataSource` to `target`; see the file's comment. */
export async function switchQueueLayer(dataSource: DataSource, target: PgmqImplementation): Promise<QueueLayerSwitch> {
  if (target !== 'extension' && target !== 'fallback') {
    throw new Error(`Unknown queue layer ${JSON.stringify(target)}: switch to 'extension' or 'fallback'.`);
  }
  const queryRunner = dataSource.createQueryRunner();
  await queryRunner.connect();
  try {
    await queryRunner.startTransaction();
    try {
      const result = await switchInTransaction(queryRunner, target);
      await queryRunner.commitTransaction();
      return result;
    } catch (error) {
      await queryRunner.rollbackTransaction();
      throw error;
    }
  } finally {
    await queryRunner.release();
  }
}

async function switchInTransaction(queryRunner: QueryRunner, target: PgmqImplementation): Promise<QueueLayerSwitch> {
  // The migrations' lock: no migration runs meanwhile, and two switches take turns.
  await queryRunner.query('select pg_catalog.pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
  const state = await readPgmqState(queryRunner);
  const from = installedImplementation(state);
  if (from === null) {
    throw new Error('This database has no queue layer to switch: run the migrations (pgflowMigrations) first.');
  }
  const unchanged = { from, to: target, switched: false, queues: 0, messages: 0, archived: 0 };
  if (from === target) return unchanged;
  await refuseLiveWorkers(queryRunner);
  // Queues are created by inserting into pgmq.meta: none appears between this list and the copy.
  await queryRunner.query('lock table pgmq.meta in access exclusive mode');

  const queues = (await queryRunner.query(
    'select queue_name, is_partitioned, is_unlogged, created_at from pgmq.meta order by queue_name',
  )) as QueueRow[];
  const partitioned = queues.filter((queue) => queue.is_partitioned).map((queue) => queue.queue_name);
  if (partitioned.length > 0) {
    throw new Error(
      `Queue(s) ${partitioned.join(', ')} are partitioned, which the fallback does not support: move their ` +
        'messages to unpartitioned queues (or drop them) before switching.',
    );
  }
  const tables = await queueTables(queryRunner, queues);
  await refuseStrangers(queryRunner, tables);
  // The same check, and the same error, as the queue layer migration's with PGFLOW_PGMQ=extension.
  if (target === 'extension') {
    chooseImplementation('extension', { ...state, installed: null, schemaExists: false, schemaComment: null });
  }
  if (tables.length > 0) {
    await queryRunner.query(`lock table ${tables.map((t) => `pgmq.${ident(t)}`).join(', ')} in access exclusive mode`);
  }

  const saved = [];
  for (const [index, queue] of queues.entries()) saved.push(await saveQueue(queryRunner, queue, index));

  if (from === 'fallback') await queryRunner.query('drop schema pgmq cascade');
  else await queryRunner.query('drop extension pgmq');
  await queryRunner.query('drop schema if exists pgmq');
  await installLayer(queryRunner, target);

  let messages = 0;
  let archived = 0;
  for (const queue of saved) {
    const counts = await restoreQueue(queryRunner, queue);
    messages += counts.messages;
    archived += counts.archived;
  }
  return { ...unchanged, switched: true, queues: queues.length, messages, archived };
}

async function refuseLiveWorkers(queryRunner: QueryRunner): Promise<void> {
  const [{ present }] = await queryRunner.query("select to_regclass('pgflow.workers') is not null as present");
  if (!present) return;
  const live = (await queryRunner.query(
    `select worker_id, queue_name from pgflow.workers
      where stopped_at is null and last_heartbeat_at > now() - make_interval(secs => $1)
      order by queue_name, worker_id`,
    [LIVE_WORKER_SECONDS],
  )) as Array<{ worker_id: string; queue_name: string }>;
  if (live.length === 0) return;
  throw new Error(
    `${live.length} worker(s) are running (a heartbeat in the last ${LIVE_WORKER_SECONDS} s): ` +
      `${live.map((w) => `${w.worker_id} on ${w.queue_name}`).join(', ')}. Stop every process that runs a ` +
      `worker, then switch again (a worker that crashed counts as stopped ${LIVE_WORKER_SECONDS} s after its ` +
      'last heartbeat).',
  );
}

/** The queue and archive tables of `queues`, as the layer named them (pgmq.format_table_name). */
async function queueTables(queryRunner: QueryRunner, queues: readonly QueueRow[]): Promise<string[]> {
  const names: string[] = [];
  for (const queue of queues) {
    for (const prefix of ['q', 'a']) {
      const [row] = await queryRunner.query('select pgmq.format_table_name($1, $2) as name', [
        queue.queue_name,
        prefix,
      ]);
      names.push(row.name as string);
    }
  }
  return names;
}

/**
 * Tables, views and sequences of schema pgmq that are neither pgmq.meta nor a queue's (such as an
 * archive detached from a dropped queue): dropping the old layer would drop them, so the switch
 * refuses instead.
 */
async function refuseStrangers(queryRunner: QueryRunner, tables: readonly string[]): Promise<void> {
  const strangers = (await queryRunner.query(
    `select c.relname as name from pg_catalog.pg_class c
      where c.relnamespace = 'pgmq'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'f')
        and c.relname <> 'meta' and c.relname <> all ($1::text[])
      order by 1`,
    [tables],
  )) as Array<{ name: string }>;
  if (strangers.length === 0) return;
  throw new Error(
    `Schema pgmq holds ${strangers.map((s) => `pgmq.${s.name}`).join(', ')}, which no queue of pgmq.meta owns ` +
      '(an archive detached from a dropped queue, or a table of your own): switching would drop them. Move them ' +
      'to another schema (ALTER TABLE ... SET SCHEMA) or drop them, then switch again.',
  );
}

interface SavedQueue {
  readonly queue: QueueRow;
  readonly messages: string;
  readonly archive: string;
  /** The queue's sequence position, so that new ids never reuse an old one; null if never used. */
  readonly lastId: string | null;
}

async function saveQueue(queryRunner: QueryRunner, queue: QueueRow, index: number): Promise<SavedQueue> {
  const [{ q, a }] = await queryRunner.query(
    "select pgmq.format_table_name($1, 'q') as q, pgmq.format_table_name($1, 'a') as a",
    [queue.queue_name],
  );
  const saved = { queue, messages: `pgflow_switch_q_${index}`, archive: `pgflow_switch_a_${index}` };
  await queryRunner.query(
    `create temp table ${saved.messages} on commit drop as
       select msg_id, read_ct, enqueued_at, vt, message, headers from pgmq.${ident(q)}`,
  );
  await queryRunner.query(
    `create temp table ${saved.archive} on commit drop as
       select msg_id, read_ct, enqueued_at, archived_at, vt, message, headers from pgmq.${ident(a)}`,
  );
  // The sequence's position, or the highest id moved if higher: new ids never reuse an old one.
  const [{ last_id }] = await queryRunner.query(
    `select greatest(
              pg_catalog.pg_sequence_last_value(pg_catalog.pg_get_serial_sequence($1, 'msg_id')::regclass),
              (select max(msg_id) from pg_temp.${saved.messages}),
              (select max(msg_id) from pg_temp.${saved.archive}))::text as last_id`,
    [`pgmq.${ident(q)}`],
  );
  return { ...saved, lastId: last_id };
}

/** Installs `target` as a fresh database gets it: that part of every migration, in order. */
async function installLayer(queryRunner: QueryRunner, target: PgmqImplementation): Promise<void> {
  // As when migrating: function bodies are checked when they run, so the parts may create them in any order.
  await queryRunner.query("select set_config('check_function_bodies', 'off', true)");
  for (const migration of pgflowMigrations as ReadonlyArray<MigrationClass>) {
    if (migration.sql === undefined) {
      throw new Error(`Migration ${migration.name} has no static sql: the queue layer cannot be installed from it.`);
    }
    for (const statement of migration.sql.up[target] ?? []) await queryRunner.query(statement);
  }
}

async function restoreQueue(
  queryRunner: QueryRunner,
  saved: SavedQueue,
): Promise<{ messages: number; archived: number }> {
  const { queue } = saved;
  await queryRunner.query(queue.is_unlogged ? 'select pgmq.create_unlogged($1)' : 'select pgmq.create($1)', [
    queue.queue_name,
  ]);
  await queryRunner.query('update pgmq.meta set created_at = $2 where queue_name = $1', [
    queue.queue_name,
    queue.created_at,
  ]);
  const [{ q, a }] = await queryRunner.query(
    "select pgmq.format_table_name($1, 'q') as q, pgmq.format_table_name($1, 'a') as a",
    [queue.queue_name],
  );
  const [{ messages }] = await queryRunner.query(
    `with moved as (
       insert into pgmq.${ident(q)} (msg_id, read_ct, enqueued_at, vt, message, headers) overriding system value
       select msg_id, read_ct, enqueued_at, vt, message, headers from pg_temp.${saved.messages} order by msg_id
       returning 1)
     select count(*)::int as messages from moved`,
  );
  const [{ archived }] = await queryRunner.query(
    `with moved as (
       insert into pgmq.${ident(a)} (msg_id, read_ct, enqueued_at, archived_at, vt, message, headers)
       select msg_id, read_ct, enqueued_at, archived_at, vt, message, headers from pg_temp.${saved.archive}
       order by msg_id
       returning 1)
     select count(*)::int as archived from moved`,
  );
  if (saved.lastId !== null) {
    await queryRunner.query("select pg_catalog.setval(pg_catalog.pg_get_serial_sequence($1, 'msg_id'), $2::bigint)", [
      `pgmq.${ident(q)}`,
      saved.lastId,
    ]);
  }
  return { messages, archived };
}

/** The migration classes keep their SQL in a static constant (see migrations/README.md). */
type MigrationClass = (new () => MigrationInterface) & { readonly sql?: MigrationSql };

/** An identifier, quoted for SQL (queue table names come from pgmq.format_table_name). */
function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
