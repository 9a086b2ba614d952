-- Fails a step and its run, and drops every message the run still has in its queue. Subflows: its
-- child runs in progress are cancelled, and a failed child run fails its parent task's attempt.
create function pgflow._fail_run(p_run_id uuid, p_step_slug text, p_error_message text)
returns void
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_state pgflow.step_states;
  v_run pgflow.runs;
  v_message record;
begin
  update pgflow.step_states s
     set status = 'failed', failed_at = now(), error_message = p_error_message
   where s.run_id = p_run_id and s.step_slug = p_step_slug and s.status in ('created', 'started')
  returning * into v_state;
  update pgflow.runs r
     set status = 'failed', failed_at = now()
   where r.run_id = p_run_id and r.status = 'started'
  returning * into v_run;

  for v_message in
    select t.flow_slug, array_agg(t.message_id) as ids
      from pgflow.step_tasks t
     where t.run_id = p_run_id and t.status in ('queued', 'started') and t.message_id is not null
     group by t.flow_slug
  loop
    perform pgmq.archive(v_message.flow_slug, v_message.ids);
  end loop;

  if v_state.run_id is not null then
    perform pgflow._emit_step_events('step:failed', array[v_state]);
  end if;
  if v_run.run_id is not null then
    perform pgflow._emit_run_events('run:failed', array[v_run],
      jsonb_build_object('step_slug', p_step_slug, 'error_message', p_error_message));
    -- Subflows: the run's children in progress are cancelled (nothing waits for them any more), and a
    -- failed child run fails the attempt of its parent's task.
    -- (Looked up first: a run an API role starts, which may fail at once, has none, and that role
    -- may not cancel runs; see docs/SECURITY.md.)
    if exists (select 1 from pgflow.runs c where c.parent_run_id = v_run.run_id and c.status = 'started') then
      perform pgflow._cancel_child_runs(v_run.run_id, format('Its parent run %s failed.', v_run.run_id));
    end if;
    if v_run.parent_run_id is not null then
      perform pgflow._settle_parent_tasks(array[v_run]);
    end if;
  end if;
end;
$$;
