/**
 * Snapshot helpers: get_run_with_states and start_flow_with_states return the run and its step
 * states in one JSON document.
 */
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '../support/test-database.ts';
import { completeTask, defineFlow, pollOne, startRun } from './support/engine-driver.ts';

const db = useTestDatabase();

interface Snapshot {
  run: Record<string, unknown>;
  steps: Array<Record<string, unknown>>;
}

async function getRunWithStates(runId: string): Promise<Snapshot> {
  const [row] = await db.query<{ s: Snapshot }>('select pgflow.get_run_with_states(run_id => $1::uuid) as s', [runId]);
  return row?.s as Snapshot;
}

const bySlug = (steps: Snapshot['steps']) => Object.fromEntries(steps.map((s) => [s.step_slug as string, s]));

beforeAll(async () => {
  await defineFlow(db, 'pictured', [{ slug: 'first' }, { slug: 'second', deps: ['first'] }]);
});

describe('get_run_with_states', () => {
  it('returns the run and every step state', async () => {
    const run = await startRun(db, 'pictured', { q: 'x' });
    const snapshot = await getRunWithStates(run.run_id);
    expect(snapshot.run).toMatchObject({
      run_id: run.run_id,
      flow_slug: 'pictured',
      status: 'started',
      input: { q: 'x' },
      remaining_steps: 2,
    });
    const steps = bySlug(snapshot.steps);
    expect(Object.keys(steps).sort()).toEqual(['first', 'second']);
    expect(steps.first).toMatchObject({ run_id: run.run_id, status: 'started', remaining_tasks: 1 });
    expect(steps.second).toMatchObject({ status: 'created', remaining_deps: 1 });
  });

  it('shows outputs and a completed run', async () => {
    const run = await startRun(db, 'pictured', {});
    await pollOne(db, 'pictured', 'first', { runId: run.run_id });
    await completeTask(db, run.run_id, 'first', 0, { one: 1 });
    await pollOne(db, 'pictured', 'second', { runId: run.run_id });
    await completeTask(db, run.run_id, 'second', 0, false);
    const snapshot = await getRunWithStates(run.run_id);
    expect(snapshot.run).toMatchObject({ status: 'completed', output: { second: false } });
    expect(bySlug(snapshot.steps).first).toMatchObject({ status: 'completed', output: { one: 1 } });
    expect(bySlug(snapshot.steps).second).toMatchObject({ status: 'completed', output: false });
  });
});

describe('start_flow_with_states', () => {
  it('starts a run and returns the same snapshot as get_run_with_states', async () => {
    const runId = randomUUID();
    const [row] = await db.query<{ s: Snapshot }>(
      'select pgflow.start_flow_with_states(flow_slug => $1, input => $2::jsonb, run_id => $3::uuid) as s',
      ['pictured', JSON.stringify({ via: 'states' }), runId],
    );
    expect(row?.s.run).toMatchObject({ run_id: runId, status: 'started', input: { via: 'states' } });
    expect(row?.s).toEqual(await getRunWithStates(runId));
  });

  it('generates the run id when none is given', async () => {
    const [row] = await db.query<{ s: Snapshot }>(
      'select pgflow.start_flow_with_states(flow_slug => $1, input => $2::jsonb) as s',
      ['pictured', '{}'],
    );
    expect(row?.s.run.run_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(row?.s.steps).toHaveLength(2);
  });
});
