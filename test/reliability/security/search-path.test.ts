/**
 * A search_path attack: a role with CREATE on schema public plants functions and operators that
 * shadow built-ins (now(), gen_random_uuid(), pg_notify(), text and uuid equality, jsonb @> and ||,
 * ...), each recording that it ran. Sessions that put public before pg_catalog then drive runs
 * through every entry point of the engine, and a Nest worker runs a flow; nothing planted runs,
 * because every engine function sets search_path to '' and qualifies every name.
 */
import { Flow, type MapStepContext, Step, type StepInput } from 'nestjs-pgflow';
import type pg from 'pg';
import { useApps } from '../../library/fixtures/pgflow-app.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { useRole } from '../support/roles.ts';

const HOSTILE_PATH = 'public,pg_catalog';

/** What the attacker plants in public: each object records its call in public.evil_calls. */
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
`;

@Flow({ slug: 'rel_sp_nest', maxAttempts: 2, baseDelay: 0 })
class NestFlow {
  @Step({ if: { go: true } })
  list(input: { go: boolean; n: number }) {
    return Array.from({ length: input.n }, (_, index) => index);
  }

  @Step({ dependsOn: ['list'], map: true })
  square(item: number, _ctx: MapStepContext) {
    return item * item;
  }

  @Step({ dependsOn: ['square'] })
  sum(deps: StepInput<NestFlow, 'square'>) {
    return deps.square.reduce((total, value) => total + value, 0);
  }
}

const SHAPE = {
  options: { maxAttempts: 2, baseDelay: 0, timeout: 60 },
  steps: [
    { slug: 'list', stepType: 'single', dependencies: [], requiredInputPattern: { go: true } },
    { slug: 'square', stepType: 'map', dependencies: ['list'] },
    { slug: 'sum', stepType: 'single', dependencies: ['square'] },
  ],
};
const WORKER_ID = '00000000-0000-4000-8000-0000000005e7';

const db = useTestDatabase();
const apps = useApps();
const attacker = useRole(db, 'attacker');

beforeAll(async () => {
  await db.query(`grant create on schema public to ${attacker.name}`);
  const session = await attacker.connect();
  await session.query(PLANTED);
  await session.end();
});

beforeEach(() => db.query('truncate public.evil_calls'));

async function evilCalls(): Promise<string[]> {
  return (await db.query<{ what: string }>('select distinct what from public.evil_calls order by 1')).map(
    (row) => row.what,
  );
}

interface ClaimedTask {
  readonly step_slug: string;
  readonly task_index: number;
  readonly input: unknown;
}

/**
 * Claims and completes (or, once, fails) every visible task of the flow until the run ends. Only
 * engine functions run in the hostile session; the test's own reads use its pool.
 */
async function driveRun(session: pg.Client, runId: string): Promise<void> {
  let failedOnce = false;
  for (let round = 0; round < 20; round += 1) {
    const { rows: tasks } = await session.query<ClaimedTask>(
      "select step_slug, task_index, input from pgflow._claim_tasks('rel_sp_sql', 100, 30, $1)",
      [WORKER_ID],
    );
    if (tasks.length === 0) {
      const [run] = await db.query<{ status: string }>('select status from pgflow.runs where run_id = $1', [runId]);
      if (run?.status !== 'started') return;
      continue;
    }
    const failures: ClaimedTask[] = failedOnce ? [] : tasks.filter((task) => task.step_slug === 'square').slice(0, 1);
    failedOnce ||= failures.length > 0;
    const completions = tasks.filter((task) => !failures.includes(task));
    const output = (task: ClaimedTask): unknown =>
      task.step_slug === 'list' ? [1, 2, 3] : task.step_slug === 'square' ? (task.input as number) ** 2 : 14;
    await session.query('select pgflow.fail_tasks($1::jsonb)', [
      JSON.stringify(
        failures.map((t) => ({
          run_id: runId,
          step_slug: t.step_slug,
          task_index: t.task_index,
          error_message: 'retry me',
        })),
      ),
    ]);
    await session.query('select pgflow.complete_tasks($1::jsonb)', [
      JSON.stringify(
        completions.map((t) => ({
          run_id: runId,
          step_slug: t.step_slug,
          task_index: t.task_index,
          output: output(t),
        })),
      ),
    ]);
  }
  throw new Error(`Run ${runId} did not end.`);
}

describe('objects planted in public to shadow built-ins', () => {
  it('do shadow them for plain SQL in a session that puts public first (the attack is real)', async () => {
    const victim = await db.connect('victim');
    await victim.query(`set search_path = ${HOSTILE_PATH}`);

    const { rows } = await victim.query("select now() as now, 'a' = 'a' as same");
    expect(rows[0]).toEqual({ now: new Date('2000-01-01T00:00:00Z'), same: true });
    expect(await evilCalls()).toEqual(['now()', 'text = text']);
  });

  it('never run inside the engine: a run driven through every entry point from such a session', async () => {
    const victim = await db.connect('victim');
    await victim.query(`set search_path = ${HOSTILE_PATH}`);
    await victim.query(
      "insert into pgflow.workers (worker_id, queue_name, function_name) values ($1, 'rel_sp_sql', 'victim')",
      [WORKER_ID],
    );

    const compiled = await victim.query('select pgflow.ensure_flow_compiled($1, $2::jsonb) as r', [
      'rel_sp_sql',
      JSON.stringify(SHAPE),
    ]);
    expect(compiled.rows[0]?.r.status).toBe('compiled');
    await victim.query('select pgflow.ensure_flow_compiled($1, $2::jsonb)', ['rel_sp_sql', JSON.stringify(SHAPE)]);
    const { rows } = await victim.query<{ run_id: string; started_at: Date }>(
      `select run_id, started_at from pgflow.start_flow('rel_sp_sql', '{"go": true}')`,
    );
    const runId = rows[0]?.run_id as string;
    await driveRun(victim, runId);
    await victim.query('select pgflow.requeue_stalled_tasks()');
    const snapshot = await victim.query('select pgflow.get_run_with_states($1) as s', [runId]);
    await victim.query(`select pgflow.start_flow_with_states('rel_sp_sql', '{"go": false}')`);
    await victim.query("select pgmq.metrics('rel_sp_sql')");
    await victim.query("select pgflow.delete_flow_and_data('rel_sp_sql')");

    expect(await evilCalls()).toEqual([]);
    expect(snapshot.rows[0]?.s.run).toMatchObject({ status: 'completed', output: { sum: 14 } });
    expect(runId).not.toBe('00000000-0000-0000-0000-000000000666');
    expect(Date.now() - Number(rows[0]?.started_at)).toBeLessThan(3_600_000);
  });

  it('never run for the attacker either: start_flow called by the planting role with public first', async () => {
    await db.query('select pgflow.ensure_flow_compiled($1, $2::jsonb)', ['rel_sp_attacker', JSON.stringify(SHAPE)]);
    await db.query(`grant usage on schema pgflow, pgmq to ${attacker.name}`);
    await db.query(`grant select on all tables in schema pgflow to ${attacker.name}`);
    await db.query(`grant insert, update on pgflow.runs, pgflow.step_states, pgflow.step_tasks to ${attacker.name}`);
    await db.query(`grant select, insert on all tables in schema pgmq to ${attacker.name}`);
    await db.query(`grant execute on all functions in schema pgflow to ${attacker.name}`);
    await db.query(`grant execute on function pgmq.send_batch(text, jsonb[], integer) to ${attacker.name}`);
    const session = await attacker.connect(HOSTILE_PATH);

    await session.query(`select * from pgflow.start_flow('rel_sp_attacker', '{"go": true}')`);
    expect(await evilCalls()).toEqual([]);
  });

  it('never run in a Nest worker and client on the default search_path', async () => {
    const { client } = await apps.start({ url: db.url, providers: [NestFlow] });
    const run = await client.start(NestFlow, { go: true, n: 4 });

    expect((await run.wait({ timeoutMs: 10_000 })).output).toEqual({ sum: 14 });
    await client.getRun(run.runId);
    expect(await evilCalls()).toEqual([]);
  });
});
