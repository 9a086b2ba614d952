-- Resumes a paused flow: its workers claim its queued tasks again (woken at once).
create function pgflow.resume_flow(flow_slug text)
returns jsonb
language sql
volatile
set search_path to ''
as $$
  select pgflow._set_flow_paused(resume_flow.flow_slug, false);
$$;
