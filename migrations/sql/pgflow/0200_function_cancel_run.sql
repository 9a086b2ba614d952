-- Cancels a run: every unfinished step state and task becomes cancelled, the run's queue messages are
-- archived (no worker reads them again), and the run is cancelled with the reason. Handlers of the run
-- still executing are told through a notification on 'pgflow:control' that the workers listen to;
-- what they report afterwards changes nothing (complete/fail need a started run), and the stalled
-- sweep passes cancelled tasks by (it takes started ones only). The run is locked first, as every
-- completion locks it, so a concurrent completion of its last task and this cancel serialize: one of
-- them wins. A run that already ended is left as it is: `cancelled` is false in the result.
-- Subflows: the run's child runs in progress are cancelled with it, transitively (_cancel_child_runs).
create function pgflow.cancel_run(run_id uuid, reason text default null)
returns jsonb
language plpgsql
volatile
set search_path to ''
as $$
declare
  -- Kept short: it travels in the run's notifications (8,000 bytes at most).
  v_reason text := pgflow._truncate_bytes(cancel_run.reason, 2000);
  v_run pgflow.runs;
  v_states pgflow.step_states[];
  v_queue record;
begin
  -- Its ancestors first (subflows: a child's end settles its parent's task), then the run.
  perform pgflow._lock_runs(array[cancel_run.run_id]);
  select * into v_run from pgflow.runs r where r.run_id = cancel_run.run_id;
  if not found then
    raise exception using errcode = 'PF009',
      message = format('Run %s does not exist.', cancel_run.run_id),
      hint = 'Check the run id (FlowClient.start() returns it), or list the runs with pgflow.list_runs.';
  end if;
  if v_run.status <> 'started' then
    return jsonb_build_object('run_id', v_run.run_id, 'status', v_run.status, 'cancelled', false);
  end if;

  -- Step states, then tasks, in key order (the engine's lock order: run, step states, tasks).
  with cancelled as (
    update pgflow.step_states s
       set status = 'cancelled', cancelled_at = now()
      from (select k.run_id, k.step_slug from pgflow.step_states k
             where k.run_id = cancel_run.run_id and k.status in ('created', 'started')
             order by k.step_slug for update) locked
     where s.run_id = locked.run_id and s.step_slug = locked.step_slug
    returning s.*
  )
  select array_agg(c order by step.step_index) into v_states
    from cancelled c
    join pgflow.steps step on step.flow_slug = c.flow_slug and step.step_slug = c.step_slug;

  for v_queue in
    with cancelled_tasks as (
      update pgflow.step_tasks t
         set status = 'cancelled', cancelled_at = now(), child_run_id = null
       where t.run_id = cancel_run.run_id and t.status in ('queued', 'started')
      returning t.flow_slug, t.message_id
    )
    select c.flow_slug, array_agg(c.message_id) as ids
      from cancelled_tasks c
     where c.message_id is not null
     group by c.flow_slug
  loop
    perform pgmq.archive(v_queue.flow_slug, v_queue.ids);
  end loop;

  update pgflow.runs r
     set status = 'cancelled', cancelled_at = now(), cancel_reason = v_reason
   where r.run_id = cancel_run.run_id
  returning * into v_run;

  if v_states is not null then
    perform pgflow._emit_step_events('step:cancelled', v_states);
  end if;
  perform pgflow._emit_run_events('run:cancelled', array[v_run],
                                  jsonb_strip_nulls(jsonb_build_object('reason', v_reason)));
  -- Subflows: its children in progress are cancelled too, transitively; a cancelled child run fails
  -- the attempt of its parent's task.
  perform pgflow._cancel_child_runs(v_run.run_id, format('Its parent run %s was cancelled%s', v_run.run_id,
                                                         coalesce(': ' || v_reason, '.')));
  if v_run.parent_run_id is not null then
    perform pgflow._settle_parent_tasks(array[v_run]);
  end if;
  -- Workers abort the handlers of the run they are executing. Not shed with the other notifications
  -- (see _notifications_allowed): one per cancel, and a handler that misses it runs to its end.
  perform pg_notify('pgflow:control', jsonb_build_object('event_type', 'run:cancelled', 'run_id', v_run.run_id,
                                                         'flow_slug', v_run.flow_slug)::text);
  return jsonb_build_object('run_id', v_run.run_id, 'status', v_run.status, 'cancelled', true);
end;
$$;
