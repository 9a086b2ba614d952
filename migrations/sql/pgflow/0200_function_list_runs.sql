-- Runs, newest first (started_at, then run_id, descending), filtered by flow, status and start time,
-- a page of page_size at a time. Keyset pagination: the next page starts after the last run of this
-- one (after_started_at, after_run_id), so runs started meanwhile neither shift nor repeat a page.
create function pgflow.list_runs(
  flow_slug text default null, status text default null, started_after timestamptz default null,
  started_before timestamptz default null, page_size int default 50, after_started_at timestamptz default null,
  after_run_id uuid default null
)
returns setof pgflow.runs
language plpgsql
stable
set search_path to ''
as $$
begin
  if list_runs.page_size is null or list_runs.page_size not between 1 and 1000 then
    raise exception using errcode = 'PF007',
      message = format('page_size must be between 1 and 1000, not %s.', coalesce(list_runs.page_size::text, 'null')),
      hint = 'Ask for at most 1000 runs per page and follow the cursor for more.';
  end if;
  if list_runs.status is not null and list_runs.status not in ('started', 'completed', 'failed', 'cancelled') then
    raise exception using errcode = 'PF007',
      message = format('status %L is not a run status.', list_runs.status),
      hint = 'Pass started, completed, failed or cancelled, or null for all.';
  end if;
  if (list_runs.after_started_at is null) <> (list_runs.after_run_id is null) then
    raise exception using errcode = 'PF007',
      message = 'after_started_at and after_run_id go together: one is null and the other is not.',
      hint = 'Pass the started_at and run_id of the last run of the previous page, or neither for the first page.';
  end if;
  if list_runs.flow_slug is not null
     and not exists (select 1 from pgflow.flows f where f.flow_slug = list_runs.flow_slug) then
    raise exception using errcode = 'PF002',
      message = format('Flow %L does not exist.', list_runs.flow_slug),
      hint = 'Check the slug, or pass null to list the runs of every flow.';
  end if;
  return query execute pgflow._list_runs_query(list_runs.flow_slug is not null, list_runs.status is not null,
                                               list_runs.started_after is not null,
                                               list_runs.started_before is not null,
                                               list_runs.after_started_at is not null)
    using list_runs.flow_slug, list_runs.status, list_runs.started_after, list_runs.started_before,
          list_runs.page_size, list_runs.after_started_at, list_runs.after_run_id;
end;
$$;
