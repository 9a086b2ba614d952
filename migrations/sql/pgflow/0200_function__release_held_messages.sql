-- Gives back the held messages (_hold_run_messages) of runs just admitted (_admit_runs): visible
-- now, and idle workers woken. Messages delayed for any other reason (a retry, a start delay) keep
-- their time.
create function pgflow._release_held_messages(p_run_ids uuid[])
returns void
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_flow record;
  v_released int;
begin
  for v_flow in
    select t.flow_slug, array_agg(t.message_id) as msg_ids
      from pgflow.step_tasks t
     where t.run_id = any(p_run_ids) and t.status = 'queued' and t.message_id is not null
     group by t.flow_slug
  loop
    execute format('update pgmq.%I q set vt = clock_timestamp()
                     where q.msg_id = any($1) and q.vt >= ''9999-01-01 00:00:00+00''',
                   pgmq.format_table_name(v_flow.flow_slug, 'q'))
      using v_flow.msg_ids;
    get diagnostics v_released = row_count;
    if v_released > 0 and pgflow._notifications_allowed() then
      perform pg_notify('pgflow:work', v_flow.flow_slug);
    end if;
  end loop;
end;
$$;
