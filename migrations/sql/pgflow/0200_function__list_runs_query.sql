-- The statement list_runs executes: only the filters given, so that each combination has the plan
-- that suits it, an index scan of runs_started_at_idx (or runs_flow_started_at_idx with a flow) in
-- its order, stopped after the page: no sort, whatever the table's size. Parameters: $1 flow_slug,
-- $2 status, $3 started_after, $4 started_before, $5 page size, $6 and $7 the cursor (the started_at
-- and run_id of the last run of the previous page).
create function pgflow._list_runs_query(
  p_flow boolean, p_status boolean, p_after boolean, p_before boolean, p_cursor boolean
)
returns text
language sql
immutable
set search_path to ''
as $$
  select 'select r.* from pgflow.runs r where true'
         || case when p_flow then ' and r.flow_slug = $1' else '' end
         || case when p_status then ' and r.status = $2' else '' end
         || case when p_after then ' and r.started_at > $3' else '' end
         || case when p_before then ' and r.started_at < $4' else '' end
         || case when p_cursor then ' and (r.started_at, r.run_id) < ($6, $7)' else '' end
         || ' order by r.started_at desc, r.run_id desc limit $5';
$$;
