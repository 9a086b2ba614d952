-- The pgmq composite types. Column order is part of the contract: clients read them by position.
create type pgmq.queue_record as (
  queue_name varchar,
  is_partitioned boolean,
  is_unlogged boolean,
  created_at timestamptz
);
