/**
 * The statements of the queue benchmark: the pgmq API, and the same work in plain SQL on tables of
 * the same shape as a pgmq queue and its archive (same columns, same indexes).
 */

/** The pgmq API as an application calls it. */
export const pgmqSql = {
  create: 'select pgmq.create($1)',
  prefill: "select pgmq.send_batch($1, array(select jsonb_build_object('n', i) from generate_series(1, $2) as i))",
  vacuum: ['vacuum analyze pgmq.q_bench', 'vacuum analyze pgmq.a_bench'],
  send: 'select * from pgmq.send($1, $2::jsonb)',
  sendBatch: 'select * from pgmq.send_batch($1, $2::jsonb[])',
  read: 'select * from pgmq.read($1, $2, $3)',
  archiveOne: 'select pgmq.archive($1, $2::bigint)',
  archiveMany: 'select * from pgmq.archive($1, $2::bigint[])',
} as const;

/** A pgmq-shaped queue table and archive, created by hand. */
export const plainTables: readonly string[] = [
  `create table public.jobs (
     msg_id bigint primary key generated always as identity,
     read_ct integer not null default 0,
     enqueued_at timestamptz not null default now(),
     vt timestamptz not null,
     message jsonb,
     headers jsonb)`,
  'create index jobs_vt_idx on public.jobs (vt)',
  `create table public.jobs_archive (
     msg_id bigint primary key,
     read_ct integer not null default 0,
     enqueued_at timestamptz not null default now(),
     archived_at timestamptz not null default now(),
     vt timestamptz not null,
     message jsonb,
     headers jsonb)`,
  'create index jobs_archive_archived_at_idx on public.jobs_archive (archived_at)',
];

const MOVE_COLUMNS = 'msg_id, read_ct, enqueued_at, vt, message, headers';

/** Rows the next consumer may take: visible, oldest first, skipping those other transactions hold. */
const TAKE = `select msg_id from public.jobs
   where vt <= clock_timestamp()
   order by msg_id
   limit $1
   for update skip locked`;

export const plainSql = {
  prefill:
    "insert into public.jobs (vt, message) select clock_timestamp(), jsonb_build_object('n', i) from generate_series(1, $1) as i",
  vacuum: ['vacuum analyze public.jobs', 'vacuum analyze public.jobs_archive'],
  send: 'insert into public.jobs (vt, message) values (clock_timestamp(), $1::jsonb) returning msg_id',
  sendBatch:
    'insert into public.jobs (vt, message) select clock_timestamp(), m from unnest($1::jsonb[]) as m returning msg_id',
  /**
   * What pgmq.read does: lease (vt ahead, read_ct + 1) the ids an InitPlan takes, and return the
   * rows. $1 qty, $2 vt seconds.
   */
  lease: `update public.jobs
       set vt = clock_timestamp() + make_interval(secs => $2), read_ct = read_ct + 1
     where msg_id = any(array(${TAKE}))
    returning msg_id, read_ct, enqueued_at, vt, message, headers`,
  /** What pgmq.archive does: move by id into the archive. */
  archiveOne: `with moved as (delete from public.jobs where msg_id = $1 returning ${MOVE_COLUMNS})
    insert into public.jobs_archive (${MOVE_COLUMNS}) select ${MOVE_COLUMNS} from moved returning msg_id`,
  archiveMany: `with moved as (delete from public.jobs where msg_id = any($1::bigint[]) returning ${MOVE_COLUMNS})
    insert into public.jobs_archive (${MOVE_COLUMNS}) select ${MOVE_COLUMNS} from moved returning msg_id`,
  /** The bare consumer loop: take and delete in one statement. $1 qty. */
  deleteTaken: `delete from public.jobs where msg_id in (${TAKE}) returning msg_id, message`,
  /** The same, moving the rows into the archive (what archive keeps). $1 qty. */
  archiveTaken: `with moved as (delete from public.jobs where msg_id in (${TAKE}) returning ${MOVE_COLUMNS})
    insert into public.jobs_archive (${MOVE_COLUMNS}) select ${MOVE_COLUMNS} from moved returning msg_id`,
} as const;
