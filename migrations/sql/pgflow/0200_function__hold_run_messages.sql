-- The messages of a waiting run's queued tasks (a run retried while its key has no free slot,
-- retry_run) are held: invisible until _release_held_messages gives them back when the run is
-- admitted. Held means a visibility time in the year 9999, finite so that every reader of vt can
-- compute with it; nothing else sets one that far. Both queue layers keep a queue's messages in the
-- same table (as set_vt_batch relies on).
create function pgflow._hold_run_messages(p_run_id uuid)
returns void
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_flow_slug text;
begin
  select r.flow_slug into v_flow_slug from pgflow.runs r where r.run_id = p_run_id;
  execute format('update pgmq.%I q set vt = ''9999-01-01 00:00:00+00''
                   where q.msg_id = any(array(select t.message_id from pgflow.step_tasks t
                                               where t.run_id = $1 and t.status = ''queued''
                                                 and t.message_id is not null))',
                 pgmq.format_table_name(v_flow_slug, 'q'))
    using p_run_id;
end;
$$;
