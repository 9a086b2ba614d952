-- One batch of the retention policy, in the caller's (short) transaction: deletes up to batch_size
-- runs that completed more than completed_older_than ago, or failed or were cancelled more than
-- failed_older_than ago (null: keep those forever), with their step states, tasks and queue
-- messages; then up to batch_size archived queue messages of the flows older than the longer of
-- the two intervals that are set (an archived message may belong to a run of either kind), and up
-- to batch_size schedule ticks recorded before that (their schedules have moved past them: the
-- compare-and-set on next_tick_at keeps a tick from firing again), and up to batch_size rate limit
-- windows that are over. Only one session applies
-- retention at a time: the batch takes a transaction-level advisory lock without waiting, and when
-- another session holds it returns at once with busy true. Returns { busy, runs, messages, ticks }:
-- call it again while runs + messages + ticks > 0. 200 runs per batch keep a batch's locks under 100 ms even on a
-- loaded machine; 500 one-step runs already took 40-80 ms there (docs/RELIABILITY.md, "Retention").
create function pgflow.apply_retention(
  completed_older_than interval, failed_older_than interval, batch_size int default 200
)
returns jsonb
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_completed_cutoff timestamptz := now() - apply_retention.completed_older_than;
  v_failed_cutoff timestamptz := now() - apply_retention.failed_older_than;
  v_runs int := 0;
  v_messages int := 0;
  v_ticks int := 0;
begin
  if apply_retention.completed_older_than is null and apply_retention.failed_older_than is null then
    raise exception using errcode = 'PF007',
      message = 'completed_older_than and failed_older_than are both null: there is nothing to prune.',
      hint = 'Pass how long to keep completed runs, failed and cancelled runs, or both, e.g. interval ''30 days''.';
  end if;
  if apply_retention.completed_older_than <= interval '0' or apply_retention.failed_older_than <= interval '0' then
    raise exception using errcode = 'PF007',
      message = format('Invalid retention interval %s: it must be more than zero.',
                       case when apply_retention.completed_older_than <= interval '0'
                            then apply_retention.completed_older_than
                            else apply_retention.failed_older_than end),
      hint = 'Pass how long to keep the runs, e.g. interval ''30 days'', or null to keep them forever.';
  end if;
  if apply_retention.batch_size is null or apply_retention.batch_size not between 1 and 10000 then
    raise exception using errcode = 'PF007',
      message = format('batch_size must be between 1 and 10000, not %s.',
                       coalesce(apply_retention.batch_size::text, 'null')),
      hint = 'Pass a few hundred (the default is 200): a batch holds its locks until its transaction ends.';
  end if;
  if not pg_try_advisory_xact_lock(hashtext('pgflow:retention'), 0) then
    return jsonb_build_object('busy', true, 'runs', 0, 'messages', 0, 'ticks', 0);
  end if;

  if v_completed_cutoff is not null then
    v_runs := pgflow._prune_runs(v_completed_cutoff, apply_retention.batch_size, array['completed']);
  end if;
  if v_failed_cutoff is not null and v_runs < apply_retention.batch_size then
    v_runs := v_runs + pgflow._prune_runs(v_failed_cutoff, apply_retention.batch_size - v_runs,
                                          array['failed', 'cancelled']);
  end if;
  -- least() ignores nulls: the earlier of the cutoffs that are set, the longer interval.
  v_messages := pgflow._prune_archives(least(v_completed_cutoff, v_failed_cutoff), apply_retention.batch_size);
  delete from pgflow.schedule_ticks t
   where t.ctid = any(array(select o.ctid from pgflow.schedule_ticks o
                             where o.created_at < least(v_completed_cutoff, v_failed_cutoff)
                             limit apply_retention.batch_size));
  get diagnostics v_ticks = row_count;
  -- Rate limit windows over for more than a minute (the claim prunes a key's old windows when the key
  -- opens a new one; a key no longer used keeps its last ones until here), and every window of a flow
  -- that no longer has a rate limit. Not counted: they need no second batch soon.
  delete from pgflow.rate_limit_windows w
   where w.ctid = any(array(select o.ctid from pgflow.rate_limit_windows o
                              join pgflow.flows f on f.flow_slug = o.flow_slug
                             where f.opt_rate_period is null
                                or o.window_start + make_interval(secs => f.opt_rate_period) < now() - interval '1 minute'
                             limit apply_retention.batch_size));
  return jsonb_build_object('busy', false, 'runs', v_runs, 'messages', v_messages, 'ticks', v_ticks);
end;
$$;
