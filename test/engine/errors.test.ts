/**
 * The engine's own errors: each has its SQLSTATE (PF001-PF010), a message naming the offending
 * value and a HINT naming the fix; and a call that fails writes nothing.
 */
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '../support/test-database.ts';
import {
  addStep,
  completeTask,
  createFlow,
  defineFlow,
  failTask,
  pollOne,
  type StepSpec,
  snapshotTables,
  startRun,
} from './support/engine-driver.ts';
import { expectEngineError } from './support/engine-errors.ts';

const db = useTestDatabase();

/** The pgflow tables and the list of queues: equal before and after means nothing was written. */
async function everything(): Promise<unknown> {
  const queues = await db.query('select queue_name from pgmq.list_queues() order by queue_name');
  return { tables: await snapshotTables(db), queues };
}

/** Runs a call that must fail with `code` and checks that it changed nothing. */
async function expectRejectedWithoutChange(
  call: () => Promise<unknown>,
  code: string,
  naming: readonly string[] = [],
): Promise<void> {
  const before = await everything();
  await expectEngineError(call(), { code, naming });
  expect(await everything()).toEqual(before);
}

beforeAll(async () => {
  await defineFlow(db, 'base_flow', [{ slug: 'a' }, { slug: 'b', deps: ['a'] }]);
  await defineFlow(db, 'root_map_flow', [{ slug: 'each', type: 'map' }]);
});

describe('PF001 invalid slug', () => {
  it.each([
    ['bad-slug'],
    ['1starts_with_digit'],
    ['run'],
    ['has space'],
    ["quote'd"],
    ['semi;colon'],
    ['dollar$sign'],
    ['double--dash'],
  ])('create_flow rejects the flow slug %j', async (slug) => {
    await expectRejectedWithoutChange(() => createFlow(db, slug), 'PF001', [slug]);
  });

  it('create_flow rejects a flow slug longer than the 47 characters a queue name allows', async () => {
    const slug = `f${'x'.repeat(47)}`;
    await expectRejectedWithoutChange(() => createFlow(db, slug), 'PF001', [slug]);
  });

  it.each([['bad-step'], ['run'], ['9'], [`s${'x'.repeat(128)}`]])(
    'add_step rejects the step slug %j',
    async (slug) => {
      await expectRejectedWithoutChange(() => addStep(db, 'base_flow', { slug }), 'PF001', [slug]);
    },
  );
});

describe('PF002 unknown flow', () => {
  it('start_flow names the unknown flow', async () => {
    await expectRejectedWithoutChange(() => startRun(db, 'no_such_flow', {}), 'PF002', ['no_such_flow']);
  });

  it('add_step names the unknown flow', async () => {
    await expectRejectedWithoutChange(() => addStep(db, 'no_such_flow', { slug: 'a' }), 'PF002', ['no_such_flow']);
  });

  it('start_flow_with_states names the unknown flow', async () => {
    await expectRejectedWithoutChange(
      () =>
        db.query('select pgflow.start_flow_with_states(flow_slug => $1, input => $2::jsonb)', ['no_such_flow', '{}']),
      'PF002',
      ['no_such_flow'],
    );
  });
});

describe('add_step structure errors', () => {
  it('PF003: a dependency on a step that does not exist', async () => {
    await expectRejectedWithoutChange(() => addStep(db, 'base_flow', { slug: 'c', deps: ['a', 'ghost'] }), 'PF003', [
      'ghost',
    ]);
  });

  it('PF004: a step that depends on itself', async () => {
    await expectRejectedWithoutChange(() => addStep(db, 'base_flow', { slug: 'loop', deps: ['loop'] }), 'PF004', [
      'loop',
    ]);
  });

  it('PF004: a step that depends on itself among other dependencies', async () => {
    await expectRejectedWithoutChange(
      () => addStep(db, 'base_flow', { slug: 'loop2', deps: ['a', 'loop2'] }),
      'PF004',
      ['loop2'],
    );
  });

  it('PF005: a map step with more than one dependency', async () => {
    await expectRejectedWithoutChange(
      () => addStep(db, 'base_flow', { slug: 'fan', type: 'map', deps: ['a', 'b'] }),
      'PF005',
      ['fan'],
    );
  });
});

describe('PF006 root map over a non-array input', () => {
  it.each([[{ items: [1, 2] }], [3], ['text'], [null]])('start_flow with input %j creates nothing', async (input) => {
    await expectRejectedWithoutChange(() => startRun(db, 'root_map_flow', input), 'PF006', ['each']);
    const messages = await db.query('select count(*)::int as n from pgmq.q_root_map_flow');
    expect(messages).toEqual([{ n: 0 }]);
  });
});

describe('PF007 invalid option', () => {
  it.each([
    ['max_attempts -1', { maxAttempts: -1 }],
    ['base_delay -1', { baseDelay: -1 }],
    ['timeout 0', { timeout: 0 }],
    ['timeout -5', { timeout: -5 }],
  ])('create_flow rejects %s', async (_label, options) => {
    await expectRejectedWithoutChange(() => createFlow(db, 'invalid_options_flow', options), 'PF007');
  });

  const invalidSteps: Array<[string, Partial<StepSpec>, string]> = [
    ['max_attempts -1', { maxAttempts: -1 }, '-1'],
    ['base_delay -2', { baseDelay: -2 }, '-2'],
    ['timeout 0', { timeout: 0 }, '0'],
    ['start_delay -3', { startDelay: -3 }, '-3'],
    ['step_type "loop"', { type: 'loop' as 'map' }, 'loop'],
    ['when_unmet "explode"', { whenUnmet: 'explode' as 'fail' }, 'explode'],
    ['when_exhausted "retry"', { whenExhausted: 'retry' as 'fail' }, 'retry'],
    ['a required pattern that is an array', { if: [1, 2] }, ''],
    ['a required pattern that is a string', { if: 'yes' }, ''],
    ['a forbidden pattern that is a number', { ifNot: 42 }, ''],
  ];
  it.each(invalidSteps)('add_step rejects %s', async (_label, options, value) => {
    await expectRejectedWithoutChange(
      () => addStep(db, 'base_flow', { slug: 'invalid_step', deps: ['a'], ...options }),
      'PF007',
      value ? [value] : [],
    );
  });
});

describe('PF008 duplicate run id', () => {
  it('start_flow with a run_id that already exists', async () => {
    const runId = randomUUID();
    await startRun(db, 'base_flow', { first: true }, runId);
    await expectRejectedWithoutChange(() => startRun(db, 'base_flow', { second: true }, runId), 'PF008', [runId]);
  });
});

describe('PF009 unknown run', () => {
  it('complete_task for a run that does not exist', async () => {
    const runId = randomUUID();
    await expectRejectedWithoutChange(() => completeTask(db, runId, 'a', 0, {}), 'PF009', [runId]);
  });

  it('fail_task for a run that does not exist', async () => {
    const runId = randomUUID();
    await expectRejectedWithoutChange(() => failTask(db, runId, 'a', 0, 'boom'), 'PF009', [runId]);
  });
});

describe('PF010 unknown task', () => {
  let runId: string;
  beforeAll(async () => {
    await defineFlow(db, 'task_errors_flow', [{ slug: 'a' }, { slug: 'b', deps: ['a'] }]);
    runId = (await startRun(db, 'task_errors_flow', {})).run_id;
    await pollOne(db, 'task_errors_flow', 'a');
  });

  it.each([
    ['an unknown step', 'ghost', 0],
    ['a task index the step does not have', 'a', 3],
    ['a step that has no task yet', 'b', 0],
  ])('complete_task for %s', async (_label, stepSlug, taskIndex) => {
    await expectRejectedWithoutChange(() => completeTask(db, runId, stepSlug, taskIndex, {}), 'PF010', [stepSlug]);
  });

  it.each([
    ['an unknown step', 'ghost', 0],
    ['a task index the step does not have', 'a', 3],
  ])('fail_task for %s', async (_label, stepSlug, taskIndex) => {
    await expectRejectedWithoutChange(() => failTask(db, runId, stepSlug, taskIndex, 'boom'), 'PF010', [stepSlug]);
  });
});
