create function pgflow.ensure_flow_compiled(flow_slug text, shape jsonb, allow_data_loss boolean default false)
returns jsonb
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_differences text[];
begin
  -- Many workers boot at once: one compiles, the others wait here and then find it compiled.
  perform pg_advisory_xact_lock(hashtext('pgflow:compile'), hashtext(ensure_flow_compiled.flow_slug));

  if not exists (select 1 from pgflow.flows f where f.flow_slug = ensure_flow_compiled.flow_slug) then
    perform pgflow._create_flow_from_shape(ensure_flow_compiled.flow_slug, ensure_flow_compiled.shape);
    return jsonb_build_object('status', 'compiled', 'differences', '[]'::jsonb);
  end if;

  v_differences := pgflow._compare_flow_shapes(ensure_flow_compiled.shape,
                                               pgflow._get_flow_shape(ensure_flow_compiled.flow_slug));
  if cardinality(v_differences) = 0 then
    -- options_changed (an addition): the options brought in line with the shape's, for the log.
    return jsonb_build_object('status', 'verified', 'differences', '[]'::jsonb,
      'options_changed', to_jsonb(pgflow._sync_flow_options(ensure_flow_compiled.flow_slug, ensure_flow_compiled.shape)
                                  || pgflow._sync_flow_alias(ensure_flow_compiled.flow_slug, ensure_flow_compiled.shape)
                                  || pgflow._sync_flow_rate_limit(ensure_flow_compiled.flow_slug, ensure_flow_compiled.shape)
                                  || pgflow._sync_flow_concurrency(ensure_flow_compiled.flow_slug, ensure_flow_compiled.shape)
                                  || pgflow._sync_step_signals(ensure_flow_compiled.flow_slug, ensure_flow_compiled.shape)));
  end if;
  -- As in pgflow: a local Supabase development database recompiles without being asked.
  if ensure_flow_compiled.allow_data_loss or pgflow.is_local() then
    perform pgflow.delete_flow_and_data(ensure_flow_compiled.flow_slug);
    perform pgflow._create_flow_from_shape(ensure_flow_compiled.flow_slug, ensure_flow_compiled.shape);
    return jsonb_build_object('status', 'recompiled', 'differences', to_jsonb(v_differences));
  end if;
  return jsonb_build_object('status', 'mismatch', 'differences', to_jsonb(v_differences));
end;
$$;
