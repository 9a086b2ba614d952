-- rate_limit_windows: the ledger of rate-limited flows (flows.opt_rate_limit): how many task starts
-- each key (runs.rate_limit_key; '' for runs without a key, which a key never is) used in the window
-- starting at window_start (windows of opt_rate_period seconds, aligned to the epoch). Written only
-- by the claim (pgflow._rate_limit_messages), which row-locks a window before granting from it, and
-- prunes a key's older windows when it opens a new one.
create table pgflow.rate_limit_windows (
  flow_slug text not null references pgflow.flows (flow_slug) on delete cascade,
  key text not null,
  window_start timestamptz not null,
  used int not null,
  primary key (flow_slug, key, window_start),
  constraint rate_limit_windows_key_length check (length(key) <= 255),
  constraint rate_limit_windows_used_non_negative check (used >= 0)
);
