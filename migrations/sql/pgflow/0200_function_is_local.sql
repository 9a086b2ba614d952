-- Whether this is a local Supabase development database (pgflow's test: the JWT secret setting holds
-- the Supabase CLI's well-known local value). Always false elsewhere.
create function pgflow.is_local()
returns boolean
language sql
stable
parallel safe
set search_path to ''
as $$
  select coalesce(current_setting('app.settings.jwt_secret', true)
                    = 'super-secret-jwt-token-with-at-least-32-characters-long', false)
$$;
