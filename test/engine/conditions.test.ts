/**
 * Conditions: a step's required pattern (`if`) must be contained in, and its forbidden pattern
 * (`ifNot`) must not be contained in, its condition input — the run input for a root step, the
 * object of dependency outputs for a dependent step. When unmet, when_unmet decides: skip,
 * skip-cascade or fail.
 */
import { useTestDatabase } from '../support/test-database.ts';
import {
  completeTask,
  defineFlow,
  pollOne,
  pollTasks,
  runRow,
  type StepSpec,
  startRun,
  statuses,
  stepState,
  stepStates,
  stepTasks,
} from './support/engine-driver.ts';

const db = useTestDatabase();

let flows = 0;
/** A flow of its own for each test: conditions are part of the definition. */
async function flow(steps: readonly StepSpec[]): Promise<string> {
  const slug = `cond_${++flows}`;
  await defineFlow(db, slug, steps);
  return slug;
}

describe('root step: the run input is the condition input', () => {
  it('a met required pattern lets the step start', async () => {
    const slug = await flow([{ slug: 'gated', if: { kind: 'a' } }]);
    const run = await startRun(db, slug, { kind: 'a', extra: 1 });
    expect(await stepState(db, run.run_id, 'gated')).toMatchObject({ status: 'started', skip_reason: null });
    await pollOne(db, slug, 'gated');
  });

  it('a nested required pattern is matched by containment', async () => {
    const slug = await flow([{ slug: 'gated', if: { user: { roles: ['admin'] } } }]);
    const run = await startRun(db, slug, { user: { name: 'x', roles: ['reader', 'admin'] } });
    expect((await stepState(db, run.run_id, 'gated')).status).toBe('started');
  });

  it('an unmet required pattern with skip skips the step, and its dependents run without its key', async () => {
    const slug = await flow([
      { slug: 'gated', if: { kind: 'a' }, whenUnmet: 'skip' },
      { slug: 'other' },
      { slug: 'after', deps: ['gated', 'other'] },
    ]);
    const run = await startRun(db, slug, { kind: 'b' });
    const gated = await stepState(db, run.run_id, 'gated');
    expect(gated).toMatchObject({ status: 'skipped', skip_reason: 'condition_unmet', output: null });
    expect(gated.skipped_at).toBeInstanceOf(Date);
    expect(await stepTasks(db, run.run_id, 'gated')).toEqual([]);
    expect(await stepState(db, run.run_id, 'after')).toMatchObject({ status: 'created', remaining_deps: 1 });

    await pollOne(db, slug, 'other');
    await completeTask(db, run.run_id, 'other', 0, 'o');
    const after = await pollOne(db, slug, 'after');
    expect(after.input).toEqual({ other: 'o' });
    await completeTask(db, run.run_id, 'after', 0, 'done');
    expect(await runRow(db, run.run_id)).toMatchObject({
      status: 'completed',
      remaining_steps: 0,
      output: { after: 'done' },
    });
  });

  it('an unmet required pattern with skip-cascade skips the step and everything downstream', async () => {
    const slug = await flow([
      { slug: 'gated', if: { kind: 'a' }, whenUnmet: 'skip-cascade' },
      { slug: 'other' },
      { slug: 'child', deps: ['gated'] },
      { slug: 'grandchild', deps: ['child', 'other'] },
      { slug: 'unrelated', deps: ['other'] },
    ]);
    const run = await startRun(db, slug, { kind: 'b' });
    const states = await stepStates(db, run.run_id);
    expect(states.gated).toMatchObject({ status: 'skipped', skip_reason: 'condition_unmet' });
    expect(states.child).toMatchObject({ status: 'skipped', skip_reason: 'dependency_skipped' });
    expect(states.grandchild).toMatchObject({ status: 'skipped', skip_reason: 'dependency_skipped' });
    expect(states.other).toMatchObject({ status: 'started' });

    await pollOne(db, slug, 'other');
    await completeTask(db, run.run_id, 'other', 0, 'o');
    expect(await statuses(db, run.run_id)).toMatchObject({ grandchild: 'skipped', unrelated: 'started' });
    await pollOne(db, slug, 'unrelated');
    await completeTask(db, run.run_id, 'unrelated', 0, 'u');
    expect(await runRow(db, run.run_id)).toMatchObject({ status: 'completed', output: { unrelated: 'u' } });
  });

  it('an unmet required pattern with fail fails the step and the run', async () => {
    const slug = await flow([{ slug: 'gated', if: { kind: 'a' }, whenUnmet: 'fail' }, { slug: 'other' }]);
    const run = await startRun(db, slug, { kind: 'b' });
    const gated = await stepState(db, run.run_id, 'gated');
    expect(gated).toMatchObject({ status: 'failed', skip_reason: null });
    expect(gated.failed_at).toBeInstanceOf(Date);
    expect(typeof gated.error_message).toBe('string');
    const failed = await runRow(db, run.run_id);
    expect(failed.status).toBe('failed');
    expect(failed.failed_at).toBeInstanceOf(Date);
    expect(await pollTasks(db, slug)).toEqual([]);
  });

  it('a contained forbidden pattern is unmet and skips the step', async () => {
    const slug = await flow([{ slug: 'gated', ifNot: { blocked: true } }]);
    const run = await startRun(db, slug, { blocked: true, user: 'x' });
    expect(await stepState(db, run.run_id, 'gated')).toMatchObject({
      status: 'skipped',
      skip_reason: 'condition_unmet',
    });
  });

  it('a forbidden pattern that is not contained lets the step start', async () => {
    const slug = await flow([{ slug: 'gated', ifNot: { blocked: true } }]);
    const run = await startRun(db, slug, { blocked: false });
    expect((await stepState(db, run.run_id, 'gated')).status).toBe('started');
  });

  it('a contained forbidden pattern with fail fails the run', async () => {
    const slug = await flow([{ slug: 'gated', ifNot: { blocked: true }, whenUnmet: 'fail' }]);
    const run = await startRun(db, slug, { blocked: true });
    expect((await stepState(db, run.run_id, 'gated')).status).toBe('failed');
    expect((await runRow(db, run.run_id)).status).toBe('failed');
  });

  it('a contained forbidden pattern with skip-cascade skips the dependents too', async () => {
    const slug = await flow([
      { slug: 'gated', ifNot: { blocked: true }, whenUnmet: 'skip-cascade' },
      { slug: 'child', deps: ['gated'] },
    ]);
    const run = await startRun(db, slug, { blocked: true });
    const states = await stepStates(db, run.run_id);
    expect(states.gated).toMatchObject({ status: 'skipped', skip_reason: 'condition_unmet' });
    expect(states.child).toMatchObject({ status: 'skipped', skip_reason: 'dependency_skipped' });
  });

  it('both patterns must hold: required met but forbidden contained is unmet', async () => {
    const slug = await flow([{ slug: 'gated', if: { kind: 'a' }, ifNot: { test: true } }]);
    const met = await startRun(db, slug, { kind: 'a', test: false });
    const unmet = await startRun(db, slug, { kind: 'a', test: true });
    expect((await stepState(db, met.run_id, 'gated')).status).toBe('started');
    expect(await stepState(db, unmet.run_id, 'gated')).toMatchObject({
      status: 'skipped',
      skip_reason: 'condition_unmet',
    });
  });

  it('a run whose only step is skipped completes at start with an empty output', async () => {
    const slug = await flow([{ slug: 'gated', if: { go: true } }]);
    const run = await startRun(db, slug, { go: false });
    expect(await runRow(db, run.run_id)).toMatchObject({ status: 'completed', remaining_steps: 0, output: {} });
  });
});

describe('dependent step: the object of dependency outputs is the condition input', () => {
  const dependentFlow = (gate: Partial<StepSpec>) =>
    flow([{ slug: 'fetch' }, { slug: 'gate', deps: ['fetch'], ...gate }, { slug: 'notify', deps: ['gate'] }]);

  async function runWithFetchOutput(slug: string, output: unknown, input: unknown = { ok: true }) {
    const run = await startRun(db, slug, input);
    await pollOne(db, slug, 'fetch');
    await completeTask(db, run.run_id, 'fetch', 0, output);
    return run;
  }

  it('a met required pattern lets the step start with the dependency outputs', async () => {
    const slug = await dependentFlow({ if: { fetch: { ok: true } } });
    const run = await runWithFetchOutput(slug, { ok: true, rows: 3 });
    expect((await stepState(db, run.run_id, 'gate')).status).toBe('started');
    expect((await pollOne(db, slug, 'gate')).input).toEqual({ fetch: { ok: true, rows: 3 } });
  });

  it('the run input is not the condition input of a dependent step', async () => {
    const slug = await dependentFlow({ if: { ok: true } });
    const run = await runWithFetchOutput(slug, { ok: true }, { ok: true });
    expect(await stepState(db, run.run_id, 'gate')).toMatchObject({
      status: 'skipped',
      skip_reason: 'condition_unmet',
    });
  });

  it('an unmet required pattern with skip skips the step and its dependent starts without its key', async () => {
    const slug = await dependentFlow({ if: { fetch: { ok: true } }, whenUnmet: 'skip' });
    const run = await runWithFetchOutput(slug, { ok: false });
    expect(await stepState(db, run.run_id, 'gate')).toMatchObject({
      status: 'skipped',
      skip_reason: 'condition_unmet',
    });
    const notify = await pollOne(db, slug, 'notify');
    expect(notify.input).toEqual({});
    await completeTask(db, run.run_id, 'notify', 0, 'sent');
    expect(await runRow(db, run.run_id)).toMatchObject({ status: 'completed', output: { notify: 'sent' } });
  });

  it('an unmet required pattern with skip-cascade skips the step and its dependents, and the run completes', async () => {
    const slug = await dependentFlow({ if: { fetch: { ok: true } }, whenUnmet: 'skip-cascade' });
    const run = await runWithFetchOutput(slug, { ok: false });
    const states = await stepStates(db, run.run_id);
    expect(states.gate).toMatchObject({ status: 'skipped', skip_reason: 'condition_unmet' });
    expect(states.notify).toMatchObject({ status: 'skipped', skip_reason: 'dependency_skipped' });
    expect(await runRow(db, run.run_id)).toMatchObject({ status: 'completed', remaining_steps: 0, output: {} });
  });

  it('an unmet required pattern with fail fails the step and the run', async () => {
    const slug = await dependentFlow({ if: { fetch: { ok: true } }, whenUnmet: 'fail' });
    const run = await runWithFetchOutput(slug, { ok: false });
    expect((await stepState(db, run.run_id, 'gate')).status).toBe('failed');
    expect((await stepState(db, run.run_id, 'notify')).status).toBe('created');
    expect((await runRow(db, run.run_id)).status).toBe('failed');
    expect(await pollTasks(db, slug)).toEqual([]);
  });

  it('a contained forbidden pattern on the dependency outputs skips the step', async () => {
    const slug = await dependentFlow({ ifNot: { fetch: { spam: true } } });
    const run = await runWithFetchOutput(slug, { spam: true });
    expect(await stepState(db, run.run_id, 'gate')).toMatchObject({
      status: 'skipped',
      skip_reason: 'condition_unmet',
    });
  });

  it('a forbidden pattern not contained in the dependency outputs lets the step start', async () => {
    const slug = await dependentFlow({ ifNot: { fetch: { spam: true } } });
    const run = await runWithFetchOutput(slug, { spam: false });
    expect((await stepState(db, run.run_id, 'gate')).status).toBe('started');
  });

  it('a map step whose only dependency is skipped has nothing to map over: it ends and the run completes', async () => {
    const slug = await flow([
      { slug: 'list', if: { go: true }, whenUnmet: 'skip' },
      { slug: 'each', deps: ['list'], type: 'map' },
      { slug: 'other' },
    ]);
    const run = await startRun(db, slug, { go: false });
    expect(['skipped', 'completed']).toContain((await stepState(db, run.run_id, 'each')).status);
    await pollOne(db, slug, 'other');
    await completeTask(db, run.run_id, 'other', 0, 'o');
    expect(await runRow(db, run.run_id)).toMatchObject({ status: 'completed', remaining_steps: 0 });
  });

  it('the condition sees only completed dependencies: a skipped one has no key', async () => {
    const slug = await flow([
      { slug: 'maybe', if: { never: true } },
      { slug: 'always' },
      { slug: 'gate', deps: ['maybe', 'always'], ifNot: { maybe: null } },
    ]);
    const run = await startRun(db, slug, {});
    await pollOne(db, slug, 'always');
    await completeTask(db, run.run_id, 'always', 0, 1);
    // {"maybe": null} would be contained if a skipped dependency left a null key; it must not.
    expect((await stepState(db, run.run_id, 'gate')).status).toBe('started');
    expect((await pollOne(db, slug, 'gate')).input).toEqual({ always: 1 });
  });
});
