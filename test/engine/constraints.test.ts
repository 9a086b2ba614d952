/**
 * Every invariant of the tables is a CHECK constraint: a direct write of an impossible state is
 * rejected with check_violation (23514), whatever function (or bug) attempts it.
 */
import pg from 'pg';
import { useTestDatabase } from '../support/test-database.ts';
import { defineFlow, pollOne, startRun } from './support/engine-driver.ts';

const db = useTestDatabase();

const CHECK_VIOLATION = '23514';

let runId: string;
beforeAll(async () => {
  await defineFlow(db, 'guarded', [{ slug: 'a' }, { slug: 'b', deps: ['a'] }]);
  runId = (await startRun(db, 'guarded', {})).run_id;
  await pollOne(db, 'guarded', 'a');
});

/** The write fails with check_violation; `rule` (when given) is the rule it names, as constraint and in the message. */
async function expectCheckViolation(sql: string, params: unknown[] = [], rule?: string): Promise<void> {
  let caught: unknown;
  try {
    await db.query(sql, params);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(pg.DatabaseError);
  const error = caught as pg.DatabaseError;
  expect({ code: error.code, message: error.message }).toEqual({ code: CHECK_VIOLATION, message: error.message });
  if (rule !== undefined) {
    expect({ constraint: error.constraint, message: error.message }).toEqual({
      constraint: rule,
      message: expect.stringContaining(`violates check constraint "${rule}"`),
    });
  }
}

describe('definitions', () => {
  it.each([
    ['a negative max_attempts', `update pgflow.flows set opt_max_attempts = -1 where flow_slug = 'guarded'`],
    ['a negative base_delay', `update pgflow.flows set opt_base_delay = -1 where flow_slug = 'guarded'`],
    ['a zero timeout', `update pgflow.flows set opt_timeout = 0 where flow_slug = 'guarded'`],
    ['an invalid flow slug', `insert into pgflow.flows (flow_slug) values ('not-a-slug')`],
    ['the reserved flow slug run', `insert into pgflow.flows (flow_slug) values ('run')`],
  ])('flows reject %s', async (_label, sql) => {
    await expectCheckViolation(sql);
  });

  it.each([
    ['an unknown step type', `update pgflow.steps set step_type = 'loop'`],
    ['an unknown when_unmet', `update pgflow.steps set when_unmet = 'sometimes'`],
    ['an unknown when_exhausted', `update pgflow.steps set when_exhausted = 'retry'`],
    ['a negative start delay', `update pgflow.steps set opt_start_delay = -1`],
    ['a zero timeout', `update pgflow.steps set opt_timeout = 0`],
    ['a negative max_attempts', `update pgflow.steps set opt_max_attempts = -1`],
    ['a negative base_delay', `update pgflow.steps set opt_base_delay = -1`],
    ['a negative deps_count', `update pgflow.steps set deps_count = -1`],
    ['a required pattern that is not an object', `update pgflow.steps set required_input_pattern = '[1]'`],
    ['a forbidden pattern that is not an object', `update pgflow.steps set forbidden_input_pattern = '"x"'`],
    ['an invalid step slug', `update pgflow.steps set step_slug = 'bad slug' where step_slug = 'b'`],
  ])('steps reject %s', async (_label, sql) => {
    await expectCheckViolation(`${sql}${sql.includes('where') ? ' and' : ' where'} flow_slug = 'guarded'`);
  });

  it('deps reject a step depending on itself', async () => {
    await expectCheckViolation(`insert into pgflow.deps (flow_slug, dep_slug, step_slug) values ('guarded', 'a', 'a')`);
  });
});

// The rules of runs, step states and tasks are one constraint per table that calls a function
// (pgflow._check_runs_row, ...): the error still names the rule the row breaks.
describe('runs', () => {
  it.each([
    ['an unknown status', `update pgflow.runs set status = 'paused' where run_id = $1`, 'runs_status_is_valid'],
    [
      'negative remaining steps',
      `update pgflow.runs set remaining_steps = -1 where run_id = $1`,
      'runs_remaining_steps_non_negative',
    ],
    [
      'both completed_at and failed_at',
      `update pgflow.runs set status = 'failed', completed_at = now(), failed_at = now() where run_id = $1`,
      'runs_one_terminal_timestamp',
    ],
    [
      'a failure before the start',
      `update pgflow.runs set status = 'failed', failed_at = started_at - interval '1 hour' where run_id = $1`,
      'runs_failed_after_start',
    ],
    [
      'a completion before the start',
      `update pgflow.runs set status = 'completed', remaining_steps = 0, completed_at = started_at - interval '1 hour'
        where run_id = $1`,
      'runs_completed_after_start',
    ],
    [
      'a parent run without its step',
      `update pgflow.runs set parent_run_id = gen_random_uuid() where run_id = $1`,
      'runs_parent_all_or_none',
    ],
  ])('runs reject %s', async (_label, sql, rule) => {
    await expectCheckViolation(sql, [runId], rule);
  });

  it('accept a write that keeps every rule', async () => {
    await expect(db.query('update pgflow.runs set priority = 5 where run_id = $1', [runId])).resolves.toBeDefined();
    await db.query('update pgflow.runs set priority = 0 where run_id = $1', [runId]);
  });
});

describe('step states', () => {
  const where = `where run_id = $1 and step_slug = 'a'`;
  it.each([
    ['an unknown status', `update pgflow.step_states set status = 'waiting' ${where}`],
    ['negative remaining deps', `update pgflow.step_states set remaining_deps = -1 ${where}`],
    ['negative initial tasks', `update pgflow.step_states set initial_tasks = -1 ${where}`],
    ['negative remaining tasks', `update pgflow.step_states set remaining_tasks = -1 ${where}`],
    [
      'a skipped step without a skip reason',
      `update pgflow.step_states set status = 'skipped', skipped_at = now(), remaining_tasks = null ${where}`,
    ],
    ['a skip reason on a started step', `update pgflow.step_states set skip_reason = 'condition_unmet' ${where}`],
    [
      'an unknown skip reason',
      `update pgflow.step_states set status = 'skipped', skip_reason = 'bored', skipped_at = now(),
              remaining_tasks = null ${where}`,
    ],
    ['an output on a started step', `update pgflow.step_states set output = '1' ${where}`],
    [
      'two terminal timestamps',
      `update pgflow.step_states set status = 'failed', failed_at = now(), completed_at = now() ${where}`,
    ],
    [
      'a completion before the start',
      `update pgflow.step_states set status = 'completed', remaining_tasks = 0, output = '1',
              completed_at = started_at - interval '1 hour' ${where}`,
    ],
  ])('step_states reject %s', async (_label, sql) => {
    await expectCheckViolation(sql, [runId]);
  });

  it('name the rule a step state breaks', async () => {
    await expectCheckViolation(
      `update pgflow.step_states set skip_reason = 'condition_unmet' ${where}`,
      [runId],
      'step_states_skip_reason_iff_skipped',
    );
  });
});

describe('tasks', () => {
  const where = `where run_id = $1 and step_slug = 'a' and task_index = 0`;
  it.each([
    ['an unknown status', `update pgflow.step_tasks set status = 'running' ${where}`],
    ['a negative attempts count', `update pgflow.step_tasks set attempts_count = -1 ${where}`],
    ['an output on a started task', `update pgflow.step_tasks set output = '"early"' ${where}`],
    ['an output on a queued task', `update pgflow.step_tasks set status = 'queued', output = '1' ${where}`],
  ])('step_tasks reject %s', async (_label, sql) => {
    await expectCheckViolation(sql, [runId]);
  });

  it('name the rule a task breaks', async () => {
    await expectCheckViolation(
      `update pgflow.step_tasks set attempts_count = -1 ${where}`,
      [runId],
      'step_tasks_attempts_non_negative',
    );
  });
});
