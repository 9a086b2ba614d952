-- Seconds before a failed task's next attempt: base_delay * 2^attempts_count.
create function pgflow.calculate_retry_delay(base_delay numeric, attempts_count int)
returns int
language sql
immutable
parallel safe
set search_path to ''
as $$
  select floor(base_delay * power(2, attempts_count))::int
$$;
