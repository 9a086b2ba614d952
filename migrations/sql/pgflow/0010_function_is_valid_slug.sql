-- A valid slug: a letter or _, then letters, digits and _, at most 128 characters, not 'run'. The
-- tables' CHECK constraints use it, so it is created before them.
create function pgflow.is_valid_slug(slug text)
returns boolean
language sql
immutable
parallel safe
set search_path to ''
as $$
  select slug is not null
     and slug ~ '^[a-zA-Z_][a-zA-Z0-9_]*$'
     and length(slug) <= 128
     and slug <> 'run'
$$;
