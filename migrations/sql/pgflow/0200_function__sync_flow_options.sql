-- Brings a verified flow's options (not part of its shape) in line with the code's.
create function pgflow._sync_flow_options(p_flow_slug text, p_shape jsonb)
returns void
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_step jsonb;
begin
  perform pgflow._assert_option('max_attempts', (p_shape #>> '{options,maxAttempts}')::int, 0);
  perform pgflow._assert_option('base_delay', (p_shape #>> '{options,baseDelay}')::int, 0);
  perform pgflow._assert_option('timeout', (p_shape #>> '{options,timeout}')::int, 1);
  update pgflow.flows f
     set opt_max_attempts = coalesce((p_shape #>> '{options,maxAttempts}')::int, 3),
         opt_base_delay = coalesce((p_shape #>> '{options,baseDelay}')::int, 5),
         opt_timeout = coalesce((p_shape #>> '{options,timeout}')::int, 60)
   where f.flow_slug = p_flow_slug
     and (f.opt_max_attempts, f.opt_base_delay, f.opt_timeout) is distinct from
         (coalesce((p_shape #>> '{options,maxAttempts}')::int, 3), coalesce((p_shape #>> '{options,baseDelay}')::int, 5),
          coalesce((p_shape #>> '{options,timeout}')::int, 60));
  for v_step in select e from jsonb_array_elements(p_shape -> 'steps') e loop
    perform pgflow._assert_option('max_attempts', (v_step #>> '{options,maxAttempts}')::int, 0);
    perform pgflow._assert_option('base_delay', (v_step #>> '{options,baseDelay}')::int, 0);
    perform pgflow._assert_option('timeout', (v_step #>> '{options,timeout}')::int, 1);
    perform pgflow._assert_option('start_delay', (v_step #>> '{options,startDelay}')::int, 0);
    update pgflow.steps s
       set opt_max_attempts = (v_step #>> '{options,maxAttempts}')::int,
           opt_base_delay = (v_step #>> '{options,baseDelay}')::int,
           opt_timeout = (v_step #>> '{options,timeout}')::int,
           opt_start_delay = (v_step #>> '{options,startDelay}')::int
     where s.flow_slug = p_flow_slug and s.step_slug = v_step ->> 'slug'
       and (s.opt_max_attempts, s.opt_base_delay, s.opt_timeout, s.opt_start_delay) is distinct from
           ((v_step #>> '{options,maxAttempts}')::int, (v_step #>> '{options,baseDelay}')::int,
            (v_step #>> '{options,timeout}')::int, (v_step #>> '{options,startDelay}')::int);
  end loop;
end;
$$;
