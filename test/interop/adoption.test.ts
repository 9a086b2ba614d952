/**
 * Adopting a database where pgflow 0.14 is installed: the migrations take pgflow's schema over in
 * place (flows, runs, states, tasks, workers kept; queues and their messages untouched in pgmq), and
 * the runs in flight finish under a Nest worker. What is not pgflow's is refused with what to do.
 */
import { Flow, type MapStepContext, Step, type StepInput } from 'nestjs-pgflow';
import { pgflowMigrations } from '../../migrations/index.ts';
import { runMigrations } from '../../tools/migrations/scratch-database.ts';
import { useApps } from '../library/fixtures/pgflow-app.ts';
import { createEmptyDatabase } from '../queue/support/empty-database.ts';
import { ADOPTED_RUNS, installPgflow014, withClient } from './support/pgflow-installation.ts';

@Flow({ slug: 'adopted_chain', baseDelay: 1 })
class AdoptedChainFlow {
  @Step()
  a(input: { n: number }) {
    return input.n + 1;
  }

  @Step({ dependsOn: ['a'] })
  b(deps: StepInput<AdoptedChainFlow, 'a'>) {
    return deps.a * 2;
  }
}

@Flow({ slug: 'adopted_map', baseDelay: 1 })
class AdoptedMapFlow {
  @Step()
  list(input: { size: number }) {
    return Array.from({ length: input.size }, (_, i) => (i + 1) * 10);
  }

  @Step({ dependsOn: ['list'], map: true })
  each(item: number, _ctx: MapStepContext) {
    return item + 1;
  }

  @Step({ dependsOn: ['each'] })
  total(deps: StepInput<AdoptedMapFlow, 'each'>) {
    return deps.each.reduce((sum, value) => sum + value, 0);
  }
}

const apps = useApps();

describe('adopting a pgflow 0.14 database', () => {
  it('takes it over in place: its rows are kept and the runs in flight finish under a Nest worker', async () => {
    const database = await createEmptyDatabase();
    await installPgflow014(database.url);

    await runMigrations(database.url, pgflowMigrations, 'auto');

    await withClient(database.url, async (client) => {
      const counts = await client.query(
        `select (select count(*)::int from pgflow.flows) as flows, (select count(*)::int from pgflow.runs) as runs,
                (select count(*)::int from pgflow.step_states) as states,
                (select count(*)::int from pgflow.step_tasks) as tasks,
                (select count(*)::int from pgflow.workers) as workers,
                (select count(*)::int from pgflow.worker_functions) as functions,
                obj_description('pgflow'::regnamespace, 'pg_namespace') as engine,
                (select count(*)::int from pg_proc where pronamespace = 'pgflow_adopted'::regnamespace) as old_functions,
                (select count(*)::int from pgflow_adopted.runs) as kept_copy`,
      );
      expect(counts.rows[0]).toEqual({
        flows: 2,
        runs: 4,
        states: 9,
        tasks: 9,
        workers: 1,
        functions: 1,
        engine: 'nestjs-pgflow workflow engine (pgflow 0.14 compatible)',
        old_functions: 0,
        kept_copy: 4,
      });
      const inputs = await client.query(
        "select task_index, input from pgflow.step_tasks where step_slug = 'each' order by task_index",
      );
      expect(inputs.rows).toEqual([
        { task_index: 0, input: 10 },
        { task_index: 1, input: 20 },
        { task_index: 2, input: 30 },
      ]);
    });

    const { client } = await apps.start({ url: database.url, providers: [AdoptedChainFlow, AdoptedMapFlow] });
    expect((await client.wait(ADOPTED_RUNS.chainInFlight, { timeoutMs: 20_000 })).output).toEqual({ b: 12 });
    expect((await client.wait(ADOPTED_RUNS.mapInFlight, { timeoutMs: 20_000 })).output).toEqual({ total: 63 });
    expect((await client.getRun(ADOPTED_RUNS.completed)).output).toEqual({ b: 4 });
    expect((await client.getRun(ADOPTED_RUNS.failed)).status).toBe('failed');
    const fresh = await client.start(AdoptedChainFlow, { n: 10 });
    expect((await fresh.wait({ timeoutMs: 20_000 })).output).toEqual({ b: 22 });
  });

  it('does nothing more on a second migration run (adoption happens once)', async () => {
    const database = await createEmptyDatabase();
    await installPgflow014(database.url);
    await runMigrations(database.url, pgflowMigrations, 'auto');
    await runMigrations(database.url, pgflowMigrations, 'auto');
    await withClient(database.url, async (client) => {
      const { rows } = await client.query('select count(*)::int as runs from pgflow.runs');
      expect(rows[0]).toEqual({ runs: 4 });
    });
  });

  it('refuses a schema pgflow that is not pgflow’s, saying what to do, and changes nothing', async () => {
    const database = await createEmptyDatabase();
    await withClient(database.url, (client) => client.query('create schema pgflow; create table pgflow.mine (id int)'));
    await expect(runMigrations(database.url, pgflowMigrations, 'auto')).rejects.toThrow(
      /a schema named pgflow that is neither pgflow's nor nestjs-pgflow's engine/,
    );
    await withClient(database.url, async (client) => {
      const { rows } = await client.query(
        "select to_regclass('pgflow.mine') is not null as kept, to_regnamespace('pgflow_adopted') is null as untouched",
      );
      expect(rows[0]).toEqual({ kept: true, untouched: true });
    });
  });

  it('refuses pgflow older than 0.14, saying to upgrade it first', async () => {
    const database = await createEmptyDatabase();
    await installPgflow014(database.url);
    await withClient(database.url, (client) => client.query('alter table pgflow.steps drop column when_exhausted'));
    await expect(runMigrations(database.url, pgflowMigrations, 'auto')).rejects.toThrow(
      /pgflow older than 0\.14.*Upgrade pgflow to 0\.14 first|pgflow older than 0\.14/s,
    );
  });
});
