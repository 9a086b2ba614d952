-- Brings a verified flow's options (not part of its shape) in line with the code's; returns what it
-- changed, in words (e.g. 'max_attempts 3 -> 5', 'step "fetch": timeout 30 -> 60'), for the log.
create function pgflow._sync_flow_options(p_flow_slug text, p_shape jsonb)
returns text[]
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_step jsonb;
  v_options record;
  v_defaults record := pgflow._flow_defaults();
  v_before record;
  v_changes text[] := '{}';
begin
  v_options := pgflow._shape_options(p_shape);
  v_options.max_attempts := coalesce(v_options.max_attempts, v_defaults.max_attempts);
  v_options.base_delay := coalesce(v_options.base_delay, v_defaults.base_delay);
  v_options.timeout := coalesce(v_options.timeout, v_defaults.timeout);
  select f.opt_max_attempts, f.opt_base_delay, f.opt_timeout into v_before
    from pgflow.flows f where f.flow_slug = p_flow_slug;
  v_changes := v_changes || pgflow._option_changes('',
    array['max_attempts', 'base_delay', 'timeout'],
    array[v_before.opt_max_attempts, v_before.opt_base_delay, v_before.opt_timeout],
    array[v_options.max_attempts, v_options.base_delay, v_options.timeout]);
  update pgflow.flows f
     set opt_max_attempts = v_options.max_attempts,
         opt_base_delay = v_options.base_delay,
         opt_timeout = v_options.timeout
   where f.flow_slug = p_flow_slug
     and (f.opt_max_attempts, f.opt_base_delay, f.opt_timeout) is distinct from
         (v_options.max_attempts, v_options.base_delay, v_options.timeout);
  for v_step in select e from jsonb_array_elements(p_shape -> 'steps') e loop
    v_options := pgflow._shape_options(v_step);
    select s.opt_max_attempts, s.opt_base_delay, s.opt_timeout, s.opt_start_delay into v_before
      from pgflow.steps s where s.flow_slug = p_flow_slug and s.step_slug = v_step ->> 'slug';
    v_changes := v_changes || pgflow._option_changes(format('step %s: ', v_step -> 'slug'),
      array['max_attempts', 'base_delay', 'timeout', 'start_delay'],
      array[v_before.opt_max_attempts, v_before.opt_base_delay, v_before.opt_timeout, v_before.opt_start_delay],
      array[v_options.max_attempts, v_options.base_delay, v_options.timeout, v_options.start_delay]);
    update pgflow.steps s
       set opt_max_attempts = v_options.max_attempts,
           opt_base_delay = v_options.base_delay,
           opt_timeout = v_options.timeout,
           opt_start_delay = v_options.start_delay
     where s.flow_slug = p_flow_slug and s.step_slug = v_step ->> 'slug'
       and (s.opt_max_attempts, s.opt_base_delay, s.opt_timeout, s.opt_start_delay) is distinct from
           (v_options.max_attempts, v_options.base_delay, v_options.timeout, v_options.start_delay);
  end loop;
  return v_changes;
end;
$$;
