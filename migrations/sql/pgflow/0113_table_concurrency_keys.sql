-- concurrency_keys: the ledger of per-key concurrency limits (flows.opt_concurrency_per_key): how many
-- runs of each key of a flow are admitted and still in progress (runs.concurrency_state 'admitted' and
-- status 'started'). Written by _admit_runs, which row-locks a key's row before admitting, so that
-- concurrent starts and run ends never admit more than the limit; and by _admit_after_give_back, which
-- counts a run's end there in the transaction that ended it.
create table pgflow.concurrency_keys (
  flow_slug text not null references pgflow.flows (flow_slug) on delete cascade,
  concurrency_key text not null,
  in_progress int not null default 0,
  primary key (flow_slug, concurrency_key),
  constraint concurrency_keys_key_length check (length(concurrency_key) between 1 and 255),
  constraint concurrency_keys_in_progress_non_negative check (in_progress >= 0)
);
