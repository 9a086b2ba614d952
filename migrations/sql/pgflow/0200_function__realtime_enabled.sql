-- Whether Supabase Realtime is there to send events to: a schema `realtime` with
-- realtime.send(payload, event, topic, private). Both look-ups are catalog cache hits.
create function pgflow._realtime_enabled()
returns boolean
language plpgsql
stable
set search_path to ''
as $$
begin
  return to_regnamespace('realtime') is not null
     and to_regprocedure('realtime.send(jsonb,text,text,boolean)') is not null;
end;
$$;
