-- Trigger (runs_give_back_concurrency_slot, before a limited run's status leaves 'started'): a run
-- that ends while waiting never held a slot, and stops waiting (concurrency_state null); an admitted
-- run's slot is given back at its transaction's commit (_admit_after_give_back, which admits the next
-- waiting runs of its key then, after every lock of the ending transaction's work was taken). Until
-- then the slot is noted in the transaction's setting pgflow.given_back_slots, a JSON array of
-- [flow_slug, concurrency_key] pairs.
create function pgflow._give_back_concurrency_slot()
returns trigger
language plpgsql
volatile
set search_path to ''
as $$
begin
  if old.concurrency_state = 'waiting' then
    new.concurrency_state := null;
  elsif old.concurrency_state = 'admitted' then
    perform set_config('pgflow.given_back_slots',
                       (coalesce(nullif(current_setting('pgflow.given_back_slots', true), ''), '[]')::jsonb
                        || jsonb_build_array(jsonb_build_array(old.flow_slug, old.concurrency_key)))::text,
                       true);
  end if;
  return new;
end;
$$;
