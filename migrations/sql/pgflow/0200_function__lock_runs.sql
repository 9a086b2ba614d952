-- Locks runs for update in the engine's order across runs: a run's ancestors (its parent run, that
-- run's parent ...: subflows) before it, and runs of one depth in run_id order. A child run's end
-- settles its parent's task (_settle_parent_tasks), so a transaction ending a child locks the parent
-- too; taking the parent first, as cancel_run of the parent does before cancelling its children,
-- makes the two wait for each other instead of deadlocking. Runs without a parent (nearly all) are
-- locked in one statement, as before subflows. With p_skip_locked (the sweeps), a run or ancestor
-- locked elsewhere stops the locking and the result is false (the caller passes the run by).
create function pgflow._lock_runs(p_run_ids uuid[], p_skip_locked boolean default false)
returns boolean
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_run_id uuid;
begin
  if not p_skip_locked
     and not exists (select 1 from pgflow.runs r where r.run_id = any(p_run_ids) and r.parent_run_id is not null) then
    perform 1 from pgflow.runs r where r.run_id = any(p_run_ids) order by r.run_id for update;
    return true;
  end if;
  for v_run_id in
    with recursive chain as (
      select r.run_id as origin, r.run_id, r.parent_run_id, 0 as up
        from pgflow.runs r where r.run_id = any(p_run_ids)
      union all
      select c.origin, p.run_id, p.parent_run_id, c.up + 1
        from chain c join pgflow.runs p on p.run_id = c.parent_run_id
    ),
    -- A run's depth (0 for a run without a parent) is the same from whichever origin it is reached.
    leveled as (
      select c.run_id, max(c.up) over (partition by c.origin) - c.up as depth from chain c
    )
    select l.run_id from leveled l group by l.run_id order by min(l.depth), l.run_id
  loop
    if p_skip_locked then
      perform 1 from pgflow.runs r where r.run_id = v_run_id for update skip locked;
      if not found then
        return false;
      end if;
    else
      perform 1 from pgflow.runs r where r.run_id = v_run_id for update;
    end if;
  end loop;
  return true;
end;
$$;
