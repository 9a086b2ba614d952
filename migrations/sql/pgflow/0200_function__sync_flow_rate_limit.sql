-- Sets a flow's rate limit (flows.opt_rate_limit, opt_rate_period) to its shape's
-- "options"."rateLimit" ({"limit": n, "periodSeconds": s}, both integers > 0); a shape without it
-- (pgflow's DSL has no rate limits, nor a flow that dropped its limit) clears it. An invalid value is
-- refused (PF070) and changes nothing. Returns what it changed, in words (e.g. 'rate_limit null ->
-- 5 per 1 s'), for the log.
create function pgflow._sync_flow_rate_limit(p_flow_slug text, p_shape jsonb)
returns text[]
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_value jsonb := p_shape #> '{options,rateLimit}';
  v_limit int;
  v_period int;
  v_before record;
begin
  if v_value is not null and jsonb_typeof(v_value) <> 'null' then
    -- Nested tests: a cast is tried only on a JSON number.
    if jsonb_typeof(v_value) = 'object' and jsonb_typeof(v_value -> 'limit') = 'number'
       and jsonb_typeof(v_value -> 'periodSeconds') = 'number' then
      if (v_value ->> 'limit')::numeric between 1 and 2147483647
         and (v_value ->> 'periodSeconds')::numeric between 1 and 2147483647
         and (v_value ->> 'limit')::numeric = floor((v_value ->> 'limit')::numeric)
         and (v_value ->> 'periodSeconds')::numeric = floor((v_value ->> 'periodSeconds')::numeric) then
        v_limit := (v_value ->> 'limit')::int;
        v_period := (v_value ->> 'periodSeconds')::int;
      end if;
    end if;
    if v_limit is null then
      raise exception using errcode = 'PF070',
        message = format('Invalid rate limit of flow %L: %s. A rate limit is {"limit": n, "periodSeconds": s} '
                         'with integers n >= 1 and s >= 1.', p_flow_slug, v_value),
        hint = 'E.g. {"limit": 5, "periodSeconds": 1} for at most 5 task starts per second.';
    end if;
  end if;
  select f.opt_rate_limit, f.opt_rate_period into v_before from pgflow.flows f where f.flow_slug = p_flow_slug;
  if (v_before.opt_rate_limit, v_before.opt_rate_period) is not distinct from (v_limit, v_period) then
    return '{}';
  end if;
  update pgflow.flows f set opt_rate_limit = v_limit, opt_rate_period = v_period where f.flow_slug = p_flow_slug;
  return array[format('rate_limit %s -> %s',
                      coalesce(v_before.opt_rate_limit || ' per ' || v_before.opt_rate_period || ' s', 'null'),
                      coalesce(v_limit || ' per ' || v_period || ' s', 'null'))];
end;
$$;
