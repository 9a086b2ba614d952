-- pgflow's _cascade_force_skip_steps: skips the step and everything downstream of it (those with
-- skip reason 'dependency_skipped'), dropping their messages; returns how many steps it skipped.
-- An unknown run is PF009.
create function pgflow._cascade_force_skip_steps(run_id uuid, step_slug text, skip_reason text)
returns int
language plpgsql
volatile
set search_path to ''
as $$
begin
  perform 1 from pgflow.runs r where r.run_id = _cascade_force_skip_steps.run_id for update;
  if not found then
    raise exception using errcode = 'PF009',
      message = format('Run %s does not exist.', _cascade_force_skip_steps.run_id),
      hint = 'Check the run id.';
  end if;
  return pgflow._skip_steps(array[_cascade_force_skip_steps.run_id], array[_cascade_force_skip_steps.step_slug],
                            _cascade_force_skip_steps.skip_reason, true);
end;
$$;
