/**
 * A search_path attack: a role with CREATE on schema public plants functions, operators and domains
 * that shadow built-ins (now(), gen_random_uuid(), pg_notify(), text and uuid equality, jsonb @> and
 * ||, the types jsonb and uuid, ...), each recording that it ran in public.evil_calls. A session
 * whose search_path puts public before pg_catalog then resolves those names to the planted objects.
 */
import pg from 'pg';
import { withDatabase } from '../../../tools/local-postgres.ts';
import type { TestRole } from './roles.ts';

/** The search_path of the attacked sessions. */
export const HOSTILE_PATH = 'public,pg_catalog';

const PLANTED = /* sql */ `
create table public.evil_calls (what text not null);
grant insert, select on public.evil_calls to public;
create function public.evil(what text) returns void language sql
  as $$ insert into public.evil_calls (what) values (what) $$;

create function public.now() returns timestamptz language sql
  as $$ select public.evil('now()'); select timestamptz '2000-01-01' $$;
create function public.clock_timestamp() returns timestamptz language sql
  as $$ select public.evil('clock_timestamp()'); select timestamptz '2000-01-01' $$;
create function public.gen_random_uuid() returns uuid language sql
  as $$ select public.evil('gen_random_uuid()'); select uuid '00000000-0000-0000-0000-000000000666' $$;
create function public.pg_notify(text, text) returns void language sql
  as $$ select public.evil('pg_notify()') $$;
create function public.jsonb_typeof(jsonb) returns text language sql
  as $$ select public.evil('jsonb_typeof()'); select 'object' $$;
create function public.jsonb_array_length(jsonb) returns int language sql
  as $$ select public.evil('jsonb_array_length()'); select 0 $$;
create function public.octet_length(text) returns int language sql
  as $$ select public.evil('octet_length()'); select 0 $$;
create function public.cardinality(anyarray) returns int language sql
  as $$ select public.evil('cardinality()'); select 0 $$;
create function public.format(text) returns text language sql
  as $$ select public.evil('format()'); select $1 $$;
create function public.lower(text) returns text language sql
  as $$ select public.evil('lower()'); select pg_catalog.lower($1) $$;

create function public.evil_text_eq(text, text) returns boolean language sql
  as $$ select public.evil('text = text'); select $1 operator(pg_catalog.=) $2 $$;
create operator public.= (function = public.evil_text_eq, leftarg = text, rightarg = text);
create function public.evil_text_ne(text, text) returns boolean language sql
  as $$ select public.evil('text <> text'); select $1 operator(pg_catalog.<>) $2 $$;
create operator public.<> (function = public.evil_text_ne, leftarg = text, rightarg = text);
create function public.evil_uuid_eq(uuid, uuid) returns boolean language sql
  as $$ select public.evil('uuid = uuid'); select $1 operator(pg_catalog.=) $2 $$;
create operator public.= (function = public.evil_uuid_eq, leftarg = uuid, rightarg = uuid);
create function public.evil_int_eq(int, int) returns boolean language sql
  as $$ select public.evil('int = int'); select $1 operator(pg_catalog.=) $2 $$;
create operator public.= (function = public.evil_int_eq, leftarg = int, rightarg = int);
create function public.evil_contains(jsonb, jsonb) returns boolean language sql
  as $$ select public.evil('jsonb @> jsonb'); select $1 operator(pg_catalog.@>) $2 $$;
create operator public.@> (function = public.evil_contains, leftarg = jsonb, rightarg = jsonb);
create function public.evil_concat(jsonb, jsonb) returns jsonb language sql
  as $$ select public.evil('jsonb || jsonb'); select $1 operator(pg_catalog.||) $2 $$;
create operator public.|| (function = public.evil_concat, leftarg = jsonb, rightarg = jsonb);
create function public.evil_field(jsonb, text) returns text language sql
  as $$ select public.evil('jsonb ->> text'); select $1 operator(pg_catalog.->>) $2 $$;
create operator public.->> (function = public.evil_field, leftarg = jsonb, rightarg = text);

-- A domain's CHECK runs whenever a value is cast to it: '...'::jsonb in such a session runs this.
create function public.evil_check(what text) returns boolean language sql
  as $$ select public.evil(what); select true $$;
create domain public.jsonb as pg_catalog.jsonb check (public.evil_check('::jsonb'));
create domain public.uuid as pg_catalog.uuid check (public.evil_check('::uuid'));
`;

/** A database in which `attacker` planted the objects; `query` runs as the database's owner. */
export interface PlantedDatabase {
  readonly name: string;
  readonly url: string;
  query<Row extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
}

/** Grants `attacker` CREATE on public in `database` and plants the objects there as that role. */
export async function plant(database: PlantedDatabase, attacker: TestRole): Promise<void> {
  await database.query(`grant create on schema public to ${attacker.name}`);
  const session = new pg.Client({
    connectionString: withDatabase(attacker.url, database.name),
    application_name: 'pgflow test attacker',
  });
  await session.connect();
  try {
    await session.query(PLANTED);
  } finally {
    await session.end();
  }
}

/** What the planted objects recorded, each once, sorted. */
export async function evilCalls(database: Pick<PlantedDatabase, 'query'>): Promise<string[]> {
  const rows = await database.query<{ what: string }>('select distinct what from public.evil_calls order by 1');
  return rows.map((row) => row.what);
}
