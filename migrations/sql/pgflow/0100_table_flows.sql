-- The pgflow schema's tables. Column names, types and statuses are pgflow 0.14's (compatibility);
-- every invariant is a CHECK constraint so that no bug in a function can store an impossible state.
-- flows: one row per flow definition, with the flow-level defaults of its steps' options. Additive
-- column: paused_at, set while the flow is paused (pause_flow): no worker claims its tasks then.
-- Additive columns opt_rate_limit, opt_rate_period (@Flow({ rateLimit })): at most opt_rate_limit task
-- starts per window of opt_rate_period seconds (windows aligned to the epoch), per runs.rate_limit_key;
-- both null: no rate limit.
-- Additive columns opt_concurrency (@Flow({ concurrency })): at most this many tasks of the flow started
-- at once, across all workers (the claim counts them); opt_concurrency_per_key (@Flow({ concurrencyKey,
-- concurrency })): at most this many runs in progress per runs.concurrency_key (pgflow.concurrency_keys).
-- Null: no limit.
create table pgflow.flows (
  flow_slug text primary key,
  opt_max_attempts int not null default 3,
  opt_base_delay int not null default 5,
  opt_timeout int not null default 60,
  created_at timestamptz not null default now(),
  -- An addition to pgflow's columns: the name the flow's versions share (@Flow({ alias })); starting
  -- by it starts the newest flow (created_at) that has it (pgflow._resolve_flow_slug). Null: none.
  alias text,
  paused_at timestamptz,
  opt_rate_limit int,
  opt_rate_period int,
  opt_concurrency int,
  opt_concurrency_per_key int,
  constraint flows_slug_is_valid check (pgflow.is_valid_slug(flow_slug)),
  constraint flows_alias_is_valid check (alias is null or (pgflow.is_valid_slug(alias) and length(alias) <= 47)),
  constraint flows_max_attempts_non_negative check (opt_max_attempts >= 0),
  constraint flows_base_delay_non_negative check (opt_base_delay >= 0),
  constraint flows_timeout_positive check (opt_timeout > 0),
  constraint flows_rate_limit_positive
    check ((opt_rate_limit is null and opt_rate_period is null)
           or (opt_rate_limit is not null and opt_rate_period is not null and opt_rate_limit > 0 and opt_rate_period > 0)),
  constraint flows_concurrency_positive check (opt_concurrency is null or opt_concurrency > 0),
  constraint flows_concurrency_per_key_positive check (opt_concurrency_per_key is null or opt_concurrency_per_key > 0)
);

-- Queue tables are named after the lower-cased slug: two flows whose slugs differ only in case would
-- share one queue. This refuses the second even when both are created at the same moment.
create unique index flows_slug_lower_key on pgflow.flows (lower(flow_slug));

-- Resolving an alias: the newest of its flows.
create index flows_alias_created_at_idx on pgflow.flows (alias, created_at desc) where alias is not null;
