-- pgmq.meta: one row per queue, as pgmq keeps it (the name exactly as given to create).
create table pgmq.meta (
  queue_name varchar unique not null,
  is_partitioned boolean not null,
  is_unlogged boolean not null,
  created_at timestamptz not null default now()
);
