create function pgflow.fail_tasks(failures jsonb)
returns int
language plpgsql
volatile
-- JIT compilation costs far more than these short statements ever run.
set jit to off
-- One plan per statement, planned once per session: the statements look rows up by key, so a plan
-- that ignores the arguments is as good, and re-planning each call cost more than running it.
set plan_cache_mode to force_generic_plan
-- Every lookup here goes by key. A plan made while the tables were small would scan them whole
-- once they have grown (and the plan is kept for the session): index paths only.
set enable_seqscan to off
set search_path to ''
as $$
declare
  v_list record;
  v_bad jsonb;
begin
  v_list := pgflow._task_list(fail_tasks.failures, 'failures', 'error_message');
  -- "retryable": false (optional) fails the task at once, whatever attempts are left.
  select e into v_bad from jsonb_array_elements(fail_tasks.failures) e
   where coalesce(jsonb_typeof(e -> 'retryable'), 'null') not in ('boolean', 'null')
   limit 1;
  if found then
    raise exception using errcode = 'PF007',
      message = format('Invalid entry in failures: %s.', v_bad),
      hint = '"retryable", when given, is true or false.';
  end if;
  return pgflow._fail_tasks(v_list.run_ids, v_list.step_slugs, v_list.task_indexes,
                            array(select p #>> '{}' from unnest(v_list.payloads) with ordinality u(p, n) order by n),
                            p_attempts => v_list.attempts,
                            p_retryable => array(select (e ->> 'retryable')::boolean
                                                   from jsonb_array_elements(fail_tasks.failures) with ordinality x(e, n)
                                                  order by n));
end;
$$;
