create function pgflow._compare_flow_shapes(p_local jsonb, p_db jsonb)
returns text[]
language plpgsql
immutable
set search_path to ''
as $$
declare
  v_local jsonb[] := array(select pgflow._normalize_shape_step(e) from jsonb_array_elements(coalesce(p_local -> 'steps', '[]')) with ordinality x(e, n) order by n);
  v_db jsonb[] := array(select pgflow._normalize_shape_step(e) from jsonb_array_elements(coalesce(p_db -> 'steps', '[]')) with ordinality x(e, n) order by n);
  v_differences text[] := '{}';
  v_key text;
  v_local_step jsonb;
  v_db_step jsonb;
  i int;
begin
  if cardinality(v_local) <> cardinality(v_db) then
    v_differences := v_differences || format('The code has %s steps, the database %s.', cardinality(v_local), cardinality(v_db));
  end if;
  for i in 1 .. greatest(cardinality(v_local), cardinality(v_db)) loop
    v_local_step := v_local[i];
    v_db_step := v_db[i];
    if v_db_step is null then
      v_differences := v_differences || format('Step %s at position %s exists in the code but not in the database.', v_local_step -> 'slug', i);
    elsif v_local_step is null then
      v_differences := v_differences || format('Step %s at position %s exists in the database but not in the code.', v_db_step -> 'slug', i);
    elsif v_local_step -> 'slug' <> v_db_step -> 'slug' then
      v_differences := v_differences || format('Step at position %s is %s in the code but %s in the database.', i, v_local_step -> 'slug', v_db_step -> 'slug');
    else
      foreach v_key in array array['stepType', 'dependencies', 'whenUnmet', 'whenExhausted', 'requiredInputPattern', 'forbiddenInputPattern'] loop
        if v_local_step -> v_key <> v_db_step -> v_key then
          v_differences := v_differences || format('Step %s: %s differs (code: %s, database: %s).',
                                                   v_local_step -> 'slug', v_key, v_local_step -> v_key, v_db_step -> v_key);
        end if;
      end loop;
    end if;
  end loop;
  return v_differences;
end;
$$;
