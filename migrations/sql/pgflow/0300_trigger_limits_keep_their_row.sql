-- Refuses DELETE and TRUNCATE on pgflow.limits (see _refuse_deleting_limits).
create trigger limits_keep_their_row
before delete or truncate on pgflow.limits
for each statement execute function pgflow._refuse_deleting_limits();
