-- Pauses a flow: from the commit on, no worker claims a task of it (tasks running finish); runs can
-- still be started and their tasks queue up. Lasts until resume_flow, restarts included.
create function pgflow.pause_flow(flow_slug text)
returns jsonb
language sql
volatile
set search_path to ''
as $$
  select pgflow._set_flow_paused(pause_flow.flow_slug, true);
$$;
