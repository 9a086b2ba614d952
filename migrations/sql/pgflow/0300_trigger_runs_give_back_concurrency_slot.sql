-- A limited run that ends gives its slot back (_give_back_concurrency_slot), and the next waiting runs
-- of its key are admitted at commit (_admit_after_give_back). Runs without a per-key limit (nearly
-- all) never match the WHEN conditions: they pay nothing.
create trigger runs_give_back_concurrency_slot
before update of status on pgflow.runs
for each row
when (old.status = 'started' and new.status <> 'started' and old.concurrency_state is not null)
execute function pgflow._give_back_concurrency_slot();

create constraint trigger runs_admit_after_give_back
after update of status on pgflow.runs
deferrable initially deferred
for each row
when (old.status = 'started' and new.status <> 'started' and old.concurrency_state = 'admitted')
execute function pgflow._admit_after_give_back();
