-- Retries a failed or cancelled run from where it stopped: the run is started again; steps that
-- completed keep their outputs and do not run again; the others (failed, cancelled, never started,
-- and everything downstream of them) run again with fresh attempt counts. A step that had started
-- and whose dependencies are unchanged keeps its completed tasks: a map step re-runs only the tasks
-- that did not complete. `from_step` also re-runs that step (even completed, and in a completed run)
-- and everything downstream of it. The counters are rebuilt from the step states, so the run
-- completes once. Refused (PF013) for a run in progress or a completed one without from_step, and
-- (PF015) when the flow's steps changed since the run started.
create function pgflow.retry_run(run_id uuid, from_step text default null)
returns setof pgflow.runs
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_run pgflow.runs;
  v_reset text[];
  v_resume text[];
  v_fresh text[];
  v_resumed pgflow.step_states[];
  v_waiting jsonb[];
  v_admitted uuid[] := '{}';
  v_queue record;
  v_tasks int := 0;
begin
  perform pgflow._lock_runs(array[retry_run.run_id]);
  select * into v_run from pgflow.runs r where r.run_id = retry_run.run_id;
  if not found then
    raise exception using errcode = 'PF009',
      message = format('Run %s does not exist.', retry_run.run_id),
      hint = 'Check the run id (FlowClient.start() returns it), or list the runs with pgflow.list_runs.';
  end if;
  if retry_run.from_step is not null
     and not exists (select 1 from pgflow.step_states s
                      where s.run_id = v_run.run_id and s.step_slug = retry_run.from_step) then
    raise exception using errcode = 'PF014',
      message = format('Flow %L has no step %L, so run %s cannot be retried from it.',
                       v_run.flow_slug, retry_run.from_step, v_run.run_id),
      hint = format('Pass one of its steps (%s), or from_step => null to retry from the failure.',
                    (select string_agg(s.step_slug, ', ' order by s.step_index) from pgflow.steps s
                      where s.flow_slug = v_run.flow_slug));
  end if;
  if v_run.status = 'started' or (v_run.status = 'completed' and retry_run.from_step is null) then
    raise exception using errcode = 'PF013',
      message = format('Run %s is %s: only a failed or cancelled run can be retried%s.', v_run.run_id, v_run.status,
                       case when v_run.status = 'completed' then ' (a completed one only from a step)' else '' end),
      hint = case when v_run.status = 'started'
                  then 'Wait for the run to end, or cancel it first (pgflow.cancel_run), then retry it.'
                  else 'Pass from_step to re-run that step and everything downstream of it.' end;
  end if;
  -- The steps this run was started with must still be the flow's: same number, none re-created since.
  if (select count(*) from pgflow.steps s where s.flow_slug = v_run.flow_slug)
       <> (select count(*) from pgflow.step_states s where s.run_id = v_run.run_id)
     or exists (select 1 from pgflow.steps s
                 where s.flow_slug = v_run.flow_slug and s.created_at > v_run.started_at) then
    raise exception using errcode = 'PF015',
      message = format('The steps of flow %L changed since run %s started, so the run cannot be retried.',
                       v_run.flow_slug, v_run.run_id),
      hint = 'Start a new run of the flow with the same input instead.';
  end if;

  -- The engine's lock order: run (above), step states, tasks.
  perform 1 from pgflow.step_states s where s.run_id = v_run.run_id order by s.step_slug for update;

  -- What runs again: the steps that did not complete (and were not skipped), from_step, and
  -- everything downstream of them.
  with recursive closure(step_slug) as (
    select s.step_slug from pgflow.step_states s
     where s.run_id = v_run.run_id
       and (s.status in ('created', 'started', 'failed', 'cancelled') or s.step_slug = retry_run.from_step)
    union
    select dep.step_slug
      from closure c
      join pgflow.deps dep on dep.flow_slug = v_run.flow_slug and dep.dep_slug = c.step_slug
  )
  select array_agg(c.step_slug) into v_reset from closure c;

  -- Of those, the steps that had started and whose dependencies stay as they are resume in place:
  -- their tasks that did not complete are queued again. The others start afresh.
  select array_agg(s.step_slug) filter (where s.status in ('started', 'failed', 'cancelled')
                                          and s.step_slug is distinct from retry_run.from_step
                                          and exists (select 1 from pgflow.step_tasks t
                                                       where t.run_id = s.run_id and t.step_slug = s.step_slug)
                                          and not exists (select 1 from pgflow.deps dep
                                                           where dep.flow_slug = s.flow_slug
                                                             and dep.step_slug = s.step_slug
                                                             and dep.dep_slug = any(v_reset))),
         array_agg(s.step_slug)
    into v_resume, v_fresh
    from pgflow.step_states s
   where s.run_id = v_run.run_id and s.step_slug = any(v_reset);
  v_fresh := array(select f from unnest(v_fresh) f where f <> all(coalesce(v_resume, '{}')));

  -- Afresh: the tasks go (their messages were archived when the run ended), the state is created
  -- again and waits for the dependencies that run again.
  for v_queue in
    select t.flow_slug, array_agg(t.message_id) as ids
      from pgflow.step_tasks t
     where t.run_id = v_run.run_id and t.step_slug = any(v_fresh) and t.status in ('queued', 'started')
       and t.message_id is not null
     group by t.flow_slug
  loop
    perform pgmq.archive(v_queue.flow_slug, v_queue.ids);
  end loop;
  delete from pgflow.step_tasks t where t.run_id = v_run.run_id and t.step_slug = any(v_fresh);
  update pgflow.step_states s
     set status = 'created', remaining_tasks = null, output = null, error_message = null, skip_reason = null,
         started_at = null, completed_at = null, failed_at = null, skipped_at = null, cancelled_at = null,
         remaining_deps = (select count(*) from pgflow.deps dep
                            where dep.flow_slug = s.flow_slug and dep.step_slug = s.step_slug
                              and dep.dep_slug = any(v_reset)),
         initial_tasks = case
           when step.step_type = 'single' then 1
           when step.deps_count = 0 then
             case when jsonb_typeof(v_run.input) = 'array' then jsonb_array_length(v_run.input) end
           -- A dependent map learns its size again when its dependency completes again.
           when exists (select 1 from pgflow.deps dep
                         where dep.flow_slug = s.flow_slug and dep.step_slug = s.step_slug
                           and dep.dep_slug = any(v_reset)) then null
           else s.initial_tasks end
    from pgflow.steps step
   where s.run_id = v_run.run_id and s.step_slug = any(v_fresh)
     and step.flow_slug = s.flow_slug and step.step_slug = s.step_slug;

  -- In place: the tasks that did not complete get a new message and a fresh attempt count; a signal
  -- step's task whose signal the run has not received waits for it again, without a message.
  if v_resume is not null then
    with waiting as (
      update pgflow.step_tasks t
         set status = 'queued', message_id = null, attempts_count = 0, requeued_count = 0, child_run_id = null,
             error_message = null, output = null, queued_at = now(), started_at = null, failed_at = null,
             cancelled_at = null, last_requeued_at = null, permanently_stalled_at = null
        from pgflow.steps step
       where t.run_id = v_run.run_id and t.step_slug = any(v_resume) and t.status <> 'completed'
         and step.flow_slug = t.flow_slug and step.step_slug = t.step_slug and step.signal_name is not null
         and not exists (select 1 from pgflow.signals g where g.run_id = t.run_id and g.signal_name = step.signal_name)
      returning t.step_slug, step.signal_name
    )
    select array_agg(jsonb_build_object('event_type', 'step:waiting', 'flow_slug', v_run.flow_slug,
                                        'step_slug', w.step_slug, 'status', 'started', 'signal_name', w.signal_name))
      into v_waiting
      from waiting w;

    with pending as materialized (
      select t.ctid as tid, t.step_slug, t.task_index,
             row_number() over (order by t.step_slug, t.task_index) as position
        from pgflow.step_tasks t
       where t.run_id = v_run.run_id and t.step_slug = any(v_resume) and t.status <> 'completed'
         and t.message_id is not null
    ),
    sent as (
      -- send_batch returns the ids in ascending order, the order of the messages in the array.
      select m.id, row_number() over (order by m.id) as position
        from pgmq.send_batch(
               v_run.flow_slug,
               (select array_agg(jsonb_build_object('flow_slug', v_run.flow_slug, 'run_id', v_run.run_id,
                                                    'step_slug', p.step_slug, 'task_index', p.task_index)
                                 order by p.position)
                  from pending p),
               0) as m(id)
    ),
    requeued as (
      update pgflow.step_tasks t
         set status = 'queued', message_id = sent.id, attempts_count = 0, requeued_count = 0, child_run_id = null,
             error_message = null, output = null, queued_at = now(), started_at = null, failed_at = null,
             cancelled_at = null, last_requeued_at = null, permanently_stalled_at = null
        from pending p join sent on sent.position = p.position
       where t.ctid = p.tid
      returning 1
    )
    select count(*) into v_tasks from requeued;

    with resumed as (
      update pgflow.step_states s
         set status = 'started', started_at = now(), failed_at = null, cancelled_at = null, error_message = null,
             remaining_tasks = (select count(*) from pgflow.step_tasks t
                                 where t.run_id = s.run_id and t.step_slug = s.step_slug and t.status <> 'completed')
       where s.run_id = v_run.run_id and s.step_slug = any(v_resume)
      returning s.*
    )
    select array_agg(r order by step.step_index) into v_resumed
      from resumed r
      join pgflow.steps step on step.flow_slug = r.flow_slug and step.step_slug = r.step_slug;
  end if;

  update pgflow.runs r
     set status = 'started', output = null, completed_at = null, failed_at = null, cancelled_at = null,
         -- Not limited until _admit_runs below says otherwise (the flow may have dropped its limit).
         cancel_reason = null, concurrency_state = null,
         remaining_steps = (select count(*) from pgflow.step_states s
                             where s.run_id = r.run_id and s.status not in ('completed', 'skipped'))
   where r.run_id = v_run.run_id
  returning * into v_run;

  perform pgflow._emit_run_events('run:retried', array[v_run],
                                  jsonb_strip_nulls(jsonb_build_object('from_step', retry_run.from_step)));
  if v_resumed is not null then
    perform pgflow._emit_step_events('step:started', v_resumed);
  end if;
  if v_waiting is not null then
    perform pgflow._emit_events(array_fill(v_run.run_id, array[cardinality(v_waiting)]), v_waiting);
  end if;
  if v_tasks > 0 and pgflow._notifications_allowed() then
    perform pg_notify('pgflow:work', v_run.flow_slug);
  end if;
  -- A per-key concurrency limit: the retried run takes a slot of its key again, or waits for one with
  -- its requeued tasks' messages held (_hold_run_messages) and no step started.
  if v_run.concurrency_key is not null
     and exists (select 1 from pgflow.flows f
                  where f.flow_slug = v_run.flow_slug and f.opt_concurrency_per_key is not null) then
    v_admitted := pgflow._admit_runs(v_run.flow_slug, v_run.concurrency_key, array[v_run.run_id]);
    if not v_run.run_id = any(v_admitted) then
      perform pgflow._hold_run_messages(v_run.run_id);
    end if;
  end if;
  perform pgflow._advance_runs(array[v_run.run_id] || v_admitted);
  return query select * from pgflow.runs r where r.run_id = v_run.run_id;
end;
$$;
