-- Seconds before a failed task's next attempt: base_delay * 2^attempts_count, at most the largest
-- int (68 years): the exponent is capped so that no attempt count overflows.
create function pgflow.calculate_retry_delay(base_delay numeric, attempts_count int)
returns int
language sql
immutable
parallel safe
set search_path to ''
as $$
  select least(floor(base_delay * power(2::numeric, least(attempts_count, 62))), 2147483647)::int
$$;
