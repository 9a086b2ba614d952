-- The options of one node of a shape (the flow, or one of its steps): its "options" object's
-- maxAttempts, baseDelay, timeout and startDelay, each null when absent, each checked (PF007).
create function pgflow._shape_options(
  p_node jsonb, out max_attempts int, out base_delay int, out timeout int, out start_delay int
)
returns record
language plpgsql
immutable
set search_path to ''
as $$
begin
  max_attempts := (p_node #>> '{options,maxAttempts}')::int;
  base_delay := (p_node #>> '{options,baseDelay}')::int;
  timeout := (p_node #>> '{options,timeout}')::int;
  start_delay := (p_node #>> '{options,startDelay}')::int;
  perform pgflow._assert_option('max_attempts', max_attempts, 0);
  perform pgflow._assert_option('base_delay', base_delay, 0);
  perform pgflow._assert_option('timeout', timeout, 1);
  perform pgflow._assert_option('start_delay', start_delay, 0);
end;
$$;
