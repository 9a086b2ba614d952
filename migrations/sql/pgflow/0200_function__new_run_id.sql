-- A new run id: a UUID whose first 48 bits are the time in milliseconds (the layout of RFC 9562's
-- version 7), the other 74 random. Runs started later sort after those started before, so the
-- indexes keyed by run id (runs, step_states, step_tasks) grow at their right edge instead of at a
-- random page each: a checkpoint is followed by one full-page image per new page, not one per run
-- (a start costs about 2 kB of WAL instead of about 14 kB in a table of 150,000 runs), and the pages
-- a worker touches next are the ones it touched last. pgflow's gen_random_uuid() ids and ids that
-- callers choose remain valid: nothing reads the time back from an id.
create function pgflow._new_run_id()
returns uuid
language plpgsql
volatile
set search_path to ''
as $$
declare
  v_bytes bytea := uuid_send(gen_random_uuid());
  v_ms bigint := floor(extract(epoch from clock_timestamp()) * 1000)::bigint;
begin
  -- The low 6 bytes of the 8-byte time first, then version 7 in the high half of byte 6; the variant
  -- bits (byte 8) are gen_random_uuid()'s already.
  v_bytes := overlay(v_bytes placing substring(int8send(v_ms) from 3) from 1 for 6);
  v_bytes := set_byte(v_bytes, 6, (get_byte(v_bytes, 6) & 15) | 112);
  return encode(v_bytes, 'hex')::uuid;
end;
$$;
