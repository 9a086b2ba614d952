/**
 * The database role for API-only processes documented in docs/SECURITY.md, with the GRANTs read
 * from that file: it starts runs (through FlowClient in a Nest application connected as the role,
 * and through SQL), reads them and waits for them (LISTEN), but every change to a definition, every
 * delete and every worker operation is refused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Flow, FlowSchedule, Step, type StepInput } from 'nestjs-pgflow';
import { projectRoot } from '../../../tools/local-postgres.ts';
import { TestApps, typeOrmOn, useApps } from '../../library/fixtures/pgflow-app.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { refusedWithoutWrites, sqlErrorOf } from '../support/no-writes.ts';
import { useRole } from '../support/roles.ts';

@FlowSchedule('0 3 * * *', { name: 'rel_api_schedule' })
@Flow({ slug: 'rel_api_flow' })
class ApiFlow {
  @Step()
  double(input: { n: number }) {
    return input.n * 2;
  }

  @Step({ dependsOn: ['double'] })
  describe(deps: StepInput<ApiFlow, 'double'>) {
    return `doubled to ${deps.double}`;
  }
}

/** A run that waits for an approval, delivered by the API process (a signal step starts with the run). */
@Flow({ slug: 'rel_api_signal' })
class ApiSignalFlow {
  @Step({ signal: 'approval' })
  approve(payload: { by: string }) {
    return `approved by ${payload.by}`;
  }
}

const WORKER_ID = '00000000-0000-4000-8000-00000000a11e';
/** The run whose task the owner's worker started (see the refusals' beforeAll). */
const STARTED_RUN = "(select run_id from pgflow.step_tasks where status = 'started' limit 1)";

/** The documented GRANT block, for the role `name`. */
function documentedGrants(name: string): string {
  const doc = readFileSync(join(projectRoot(), 'docs', 'SECURITY.md'), 'utf8');
  const block = /<!-- api-role-grants:start -->\s*```sql\n([\s\S]*?)```\s*<!-- api-role-grants:end -->/.exec(doc)?.[1];
  if (block === undefined) throw new Error('docs/SECURITY.md has no api-role-grants block.');
  return block.replaceAll('pgflow_api', name);
}

const db = useTestDatabase();
const apps = useApps();
const api = useRole(db, 'api');

beforeAll(async () => {
  // The grants come before the flow exists: its queue, created later, is covered by the default privileges.
  await db.query(documentedGrants(api.name));
  // The flow is compiled by a deployment that owns the schema (here the test's superuser).
  const deployment = new TestApps();
  await deployment.start({ url: db.url, providers: [ApiFlow, ApiSignalFlow], pgflow: { worker: { enabled: false } } });
  await deployment.closeAll();
});

async function startApps() {
  const worker = await apps.start({ url: db.url, providers: [ApiFlow, ApiSignalFlow] });
  const apiOnly = await apps.start({
    url: api.url,
    providers: [ApiFlow, ApiSignalFlow],
    pgflow: { worker: { enabled: false }, compilation: false },
  });
  return { worker, apiOnly };
}

describe('the API role can', () => {
  it('starts runs through FlowClient, waits for them (LISTEN) and reads them, in a Nest application', async () => {
    const { apiOnly } = await startApps();

    const run = await apiOnly.client.start(ApiFlow, { n: 21 });
    expect((await run.wait({ timeoutMs: 10_000 })).output).toEqual({ describe: 'doubled to 42' });
    const many = await apiOnly.client.startMany(ApiFlow, [{ n: 1 }, { n: 2 }]);
    const outputs = await Promise.all(many.map(async (handle) => (await handle.wait({ timeoutMs: 10_000 })).output));
    expect(outputs).toEqual([{ describe: 'doubled to 2' }, { describe: 'doubled to 4' }]);
    const snapshot = await apiOnly.client.getRun(run.runId);
    expect(snapshot.steps.map((step) => [step.stepSlug, step.status])).toEqual([
      ['double', 'completed'],
      ['describe', 'completed'],
    ]);
    const [me] = await db.query<{ usename: string }>(
      "select usename from pg_stat_activity where application_name = 'pgflow listener' and usename = $1",
      [api.name],
    );
    expect(me).toEqual({ usename: api.name });
  });

  it('starts a run whose first step waits for a signal, and delivers the signal (FlowClient.signal)', async () => {
    const { apiOnly } = await startApps();
    // By slug: the helper types take a root signal step's payload for the flow input.
    const run = await apiOnly.client.start('rel_api_signal', {});
    await expect(apiOnly.client.signal(run.runId, 'approval', { by: 'ana' })).resolves.toMatchObject({
      delivered: true,
    });
    expect((await run.wait({ timeoutMs: 10_000 })).output).toEqual({ approve: 'approved by ana' });
    await expect(apiOnly.client.signal(run.runId, 'approval', { by: 'bob' })).rejects.toMatchObject({
      name: 'SignalRefusedError',
    });
  });

  it('lists the schedules (FlowClient.listSchedules reads pgflow.schedules)', async () => {
    const { apiOnly } = await startApps();
    expect((await apiOnly.client.listSchedules()).map((schedule) => schedule.name)).toContain('rel_api_schedule');
  });

  it('starts and reads runs through SQL', async () => {
    const client = await api.connect();

    const { rows } = await client.query("select run_id from pgflow.start_flow('rel_api_flow', '{\"n\": 1}')");
    const snapshot = await client.query('select pgflow.get_run_with_states($1) as s', [rows[0]?.run_id]);
    expect(snapshot.rows[0]?.s.run.status).toMatch(/started|completed/);
    const withStates = await client.query("select pgflow.start_flow_with_states('rel_api_flow', '{\"n\": 2}') as s");
    expect(withStates.rows[0]?.s.steps).toHaveLength(2);
  });

  it('starts runs of a flow with a per-key concurrency limit: admits, holds back, and gives a slot back at commit', async () => {
    // One slot per key. The first run maps over nothing: it ends as it starts, and at its commit its slot
    // goes to the second, whose task is sent then, in the API role's transaction; the third waits.
    await db.query(`select pgflow.ensure_flow_compiled('rel_api_tenant',
                      '{"steps": [{"slug": "each", "stepType": "map"}], "options": {"concurrencyPerKey": 1}}')`);
    const client = await api.connect();
    await client.query(
      "select run_id from pgflow.start_flows('rel_api_tenant', '[[], [1], [2]]', concurrency_keys => array['t', 't', 't'])",
    );
    const rows = await db.query<{ status: string; concurrency_state: string | null; tasks: number }>(
      `select r.status, r.concurrency_state,
              (select count(*)::int from pgflow.step_tasks t where t.run_id = r.run_id) as tasks
         from pgflow.runs r where r.flow_slug = 'rel_api_tenant' order by jsonb_array_length(r.input), r.input`,
    );
    expect(rows).toEqual([
      { status: 'completed', concurrency_state: 'admitted', tasks: 0 },
      { status: 'started', concurrency_state: 'admitted', tasks: 1 },
      { status: 'started', concurrency_state: 'waiting', tasks: 0 },
    ]);
  });
});

describe('the documented grants', () => {
  it('are an allow-list: the role executes exactly the functions the block names, none that changes a definition', async () => {
    const block = documentedGrants(api.name);
    expect(block).not.toMatch(/all functions/i);
    const named = [...block.matchAll(/\b(pgflow\.\w+)\(/g)].map((match) => match[1]);
    const executable = await db.query<{ name: string }>(
      `select distinct n.nspname || '.' || p.proname as name
         from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'pgflow' and pg_catalog.has_function_privilege($1, p.oid, 'execute')
        order by 1`,
      [api.name],
    );
    expect(executable.map((row) => row.name)).toEqual([...new Set(named)].sort());
    for (const definitionChange of ['create_flow', 'add_step', 'delete_flow_and_data', 'ensure_flow_compiled']) {
      expect(named).not.toContain(`pgflow.${definitionChange}`);
    }
  });
});

describe('the API role cannot', () => {
  const REFUSED: ReadonlyArray<readonly [string, string]> = [
    ['create_flow', "select pgflow.create_flow('rel_api_evil')"],
    ['add_step', "select pgflow.add_step('rel_api_flow', 'evil')"],
    ['delete_flow_and_data', "select pgflow.delete_flow_and_data('rel_api_flow')"],
    ['ensure_flow_compiled', `select pgflow.ensure_flow_compiled('rel_api_flow', '{"steps": []}', true)`],
    ['an insert into pgflow.flows', "insert into pgflow.flows (flow_slug) values ('rel_api_evil')"],
    ['an insert into pgflow.steps', "insert into pgflow.steps (flow_slug, step_slug) values ('rel_api_flow', 'evil')"],
    ['an update of pgflow.steps', "update pgflow.steps set opt_timeout = 1 where flow_slug = 'rel_api_flow'"],
    ['a delete from pgflow.deps', 'delete from pgflow.deps'],
    ['a delete from pgflow.runs', 'delete from pgflow.runs'],
    ['truncating pgflow.step_tasks', 'truncate pgflow.step_tasks'],
    ['dropping a queue', "select pgmq.drop_queue('rel_api_flow')"],
    ['purging a queue', "select pgmq.purge_queue('rel_api_flow')"],
    ['claiming tasks', "select * from pgflow._claim_tasks('rel_api_flow', 10, 30, gen_random_uuid())"],
    ['completing a started task', `select pgflow.complete_task(${STARTED_RUN}, 'double', 0, '1')`],
    ['failing a started task', `select pgflow.fail_task(${STARTED_RUN}, 'double', 0, 'no')`],
    ['requeueing a stalled task', 'select pgflow.requeue_stalled_tasks()'],
    ['syncing schedules', `select pgflow.sync_schedules('rel_api_flow', '[{"name": "evil", "cron": "* * * * *"}]')`],
    ['pausing a schedule', "select pgflow.pause_schedule('rel_api_schedule')"],
    ['firing a schedule', "select pgflow.fire_schedule('rel_api_schedule', null, '[]', now() + interval '1 hour')"],
    [
      'an insert into pgflow.schedules',
      "insert into pgflow.schedules (schedule_name, flow_slug, cron) values ('evil', 'rel_api_flow', '* * * * *')",
    ],
    [
      'a worker row',
      "insert into pgflow.workers (worker_id, queue_name, function_name) values (gen_random_uuid(), 'x', 'y')",
    ],
  ];

  // No worker runs here, so that nothing but the refused statement could change the tables. One task
  // is started (and stalled for an hour) by a worker of the schema's owner, so that completing,
  // failing and requeueing it would each write.
  beforeAll(async () => {
    const [run] = await db.query<{ run_id: string }>(
      "select run_id from pgflow.start_flow('rel_api_flow', '{\"n\": 5}')",
    );
    await db.query(
      "insert into pgflow.workers (worker_id, queue_name, function_name) values ($1, 'rel_api_flow', 'test')",
      [WORKER_ID],
    );
    await db.query("select * from pgflow._claim_tasks('rel_api_flow', 10, 30, $1)", [WORKER_ID]);
    await db.query(
      `update pgflow.step_tasks set queued_at = queued_at - interval '1 hour', started_at = started_at - interval '1 hour'
        where run_id = $1 and status = 'started'`,
      [run?.run_id],
    );
  });

  it.each(REFUSED)('is refused %s (42501), and nothing changes', async (_label, statement) => {
    const client = await api.connect();

    const error = await refusedWithoutWrites(db, () => client.query(statement));
    // The code, not the text: PostgreSQL words it by what was refused (dropping a queue of the pgmq
    // extension is refused as 'must be owner of extension pgmq', of the fallback as 'permission
    // denied for table ...'); both are 42501, insufficient privilege.
    expect(sqlErrorOf(error)).toMatchObject({ code: '42501' });
  });
});

describe('an API-only application on the API role with typeOrm defaults', () => {
  it("cannot boot with compilation 'verify': the documented setting is compilation false", async () => {
    const error = await apps
      .start({
        url: api.url,
        providers: [ApiFlow],
        pgflow: { worker: { enabled: false } },
        typeOrm: typeOrmOn(api.url),
      })
      .then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
    expect(sqlErrorOf(error)).toMatchObject({
      code: '42501',
      message: expect.stringContaining('ensure_flow_compiled'),
    });
  });
});
