-- Why a slug is invalid, in words, or null when it is valid.
create function pgflow._slug_problem(p_slug text)
returns text
language sql
immutable
set search_path to ''
as $$
  select case
    when p_slug is null or p_slug = '' then 'it is empty'
    when length(p_slug) > 128 then 'it is longer than 128 characters'
    when p_slug = 'run' then '"run" is reserved'
    when p_slug !~ '^[a-zA-Z_]' then 'it must start with a letter or an underscore'
    when p_slug !~ '^[a-zA-Z_][a-zA-Z0-9_]*$' then 'it may contain only letters, digits and underscores'
  end
$$;
