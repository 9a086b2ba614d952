/**
 * Signal steps in the engine: a step declared with a signal (the shape's options.signal, synced by
 * _sync_step_signals) waits without a queue message until pgflow.send_signal delivers it; a signal
 * sent before the step is ready is kept and delivered when it starts; refusals change nothing; the
 * sweep fails a wait past its signal timeout like an exhausted task; retry_run waits again.
 */
import { useTestDatabase } from '../support/test-database.ts';
import {
  completeTask,
  json,
  pollOne,
  pollTasks,
  runRow,
  startRun,
  statuses,
  stepTask,
} from './support/engine-driver.ts';
import { expectEngineError } from './support/engine-errors.ts';
import { eventNames, listenToRun } from './support/engine-events.ts';

const db = useTestDatabase();

interface ShapeStep {
  slug: string;
  deps?: string[];
  signal?: unknown;
  signalTimeout?: unknown;
  map?: boolean;
  whenExhausted?: string;
}

function shape(steps: readonly ShapeStep[]) {
  return {
    steps: steps.map((step) => ({
      slug: step.slug,
      stepType: step.map ? 'map' : 'single',
      dependencies: step.deps ?? [],
      whenUnmet: 'skip',
      whenExhausted: step.whenExhausted ?? 'fail',
      requiredInputPattern: { defined: false },
      forbiddenInputPattern: { defined: false },
      ...(step.signal === undefined
        ? {}
        : {
            options: {
              signal: step.signal,
              ...(step.signalTimeout === undefined ? {} : { signalTimeout: step.signalTimeout }),
            },
          }),
    })),
  };
}

async function compile(slug: string, steps: readonly ShapeStep[]) {
  const [row] = await db.query<{ result: { status: string } }>(
    'select pgflow.ensure_flow_compiled($1, $2::jsonb) as result',
    [slug, json(shape(steps))],
  );
  return row?.result;
}

function sendSignal(runId: string, name: string, payload: unknown) {
  return db.query<{ result: { step_slug: string; delivered: boolean } }>(
    'select pgflow.send_signal($1::uuid, $2, $3::jsonb) as result',
    [runId, name, json(payload)],
  );
}

let flows = 0;
/** A flow `prepare` → `approve` (waits for 'approval') → `ship`, started and its first step completed. */
async function waitingRun(options: { signalTimeout?: number; whenExhausted?: string; complete?: boolean } = {}) {
  const slug = `signal_${++flows}`;
  await compile(slug, [
    { slug: 'prepare' },
    { slug: 'approve', deps: ['prepare'], signal: 'approval', ...options },
    { slug: 'ship', deps: ['approve'] },
  ]);
  const run = await startRun(db, slug, { order: 7 });
  if (options.complete !== false) {
    await pollOne(db, slug, 'prepare');
    await completeTask(db, run.run_id, 'prepare', 0, { total: 70 });
  }
  return { slug, runId: run.run_id };
}

it('a ready signal step waits without a message (step:waiting), then runs with the payload and its deps', async () => {
  const { slug, runId } = await waitingRun({ complete: false });
  const listener = await listenToRun(db, runId);
  await pollOne(db, slug, 'prepare');
  await completeTask(db, runId, 'prepare', 0, { total: 70 });

  expect(await stepTask(db, runId, 'approve')).toMatchObject({ status: 'queued', message_id: null });
  expect(await pollTasks(db, slug)).toEqual([]);
  const [snapshot] = await db.query<{ waiting: boolean }>(
    `select exists (select from pgflow.step_states s where s.run_id = $1 and s.step_slug = 'approve'
                      and s.status = 'started') as waiting`,
    [runId],
  );
  expect(snapshot?.waiting).toBe(true);

  const [sent] = await sendSignal(runId, 'approval', { approvedBy: 'ana' });
  expect(sent?.result).toMatchObject({ step_slug: 'approve', delivered: true });
  const task = await pollOne(db, slug, 'approve');
  expect(task.input).toEqual({ payload: { approvedBy: 'ana' }, deps: { prepare: { total: 70 } } });
  await completeTask(db, runId, 'approve', 0, { ok: true });
  await pollOne(db, slug, 'ship');
  await completeTask(db, runId, 'ship', 0, 'shipped');
  expect((await runRow(db, runId)).status).toBe('completed');

  await listener.settle();
  const names = eventNames(listener.events());
  expect(names).toEqual(expect.arrayContaining(['step:waiting approve', 'step:signalled approve']));
  expect(names.indexOf('step:waiting approve')).toBeLessThan(names.indexOf('step:signalled approve'));
  expect(listener.events().find((e) => e.event_type === 'step:waiting')).toMatchObject({ signal_name: 'approval' });
  await listener.close();
});

it('a signal sent before its step is ready is kept and delivered when the step starts', async () => {
  const { slug, runId } = await waitingRun({ complete: false });
  const [sent] = await sendSignal(runId, 'approval', 'early');
  expect(sent?.result).toMatchObject({ step_slug: 'approve', delivered: false });
  expect((await statuses(db, runId)).approve).toBe('created');

  await pollOne(db, slug, 'prepare');
  await completeTask(db, runId, 'prepare', 0, { total: 70 });
  const task = await pollOne(db, slug, 'approve');
  expect(task.input).toEqual({ payload: 'early', deps: { prepare: { total: 70 } } });
  const [signal] = await db.query<{ delivered: boolean }>(
    'select delivered_at is not null as delivered from pgflow.signals where run_id = $1',
    [runId],
  );
  expect(signal?.delivered).toBe(true);
});

it('a root signal step waits from the start of the run', async () => {
  const slug = `signal_${++flows}`;
  await compile(slug, [{ slug: 'gate', signal: 'go' }]);
  const run = await startRun(db, slug, {});
  expect(await stepTask(db, run.run_id, 'gate')).toMatchObject({ status: 'queued', message_id: null });
  await sendSignal(run.run_id, 'go', 1);
  const task = await pollOne(db, slug, 'gate');
  expect(task.input).toEqual({ payload: 1, deps: {} });
});

it('refusals change nothing: a second signal, an unknown name, an unknown run, an ended run', async () => {
  const { slug, runId } = await waitingRun();
  await sendSignal(runId, 'approval', 'first');
  await expectEngineError(sendSignal(runId, 'approval', 'second'), { code: 'PF042', naming: [runId, 'approval'] });
  const [signal] = await db.query<{ payload: unknown }>('select payload from pgflow.signals where run_id = $1', [
    runId,
  ]);
  expect(signal?.payload).toBe('first');
  expect((await pollOne(db, slug, 'approve')).input).toMatchObject({ payload: 'first' });

  await expectEngineError(sendSignal(runId, 'aproval', 1), { code: 'PF041', naming: ['aproval', "'approval'"] });
  await expectEngineError(sendSignal('00000000-0000-4000-8000-000000000000', 'approval', 1), { code: 'PF009' });

  await completeTask(db, runId, 'approve', 0, 1);
  await pollOne(db, slug, 'ship');
  await completeTask(db, runId, 'ship', 0, 2);
  await expectEngineError(sendSignal(runId, 'later', 1), { code: 'PF040', naming: [runId, 'completed'] });
  const [count] = await db.query<{ n: number }>('select count(*)::int as n from pgflow.signals where run_id = $1', [
    runId,
  ]);
  expect(count?.n).toBe(1);
});

it('a wait past its signal timeout fails like an exhausted task: skip lets the run go on', async () => {
  const { slug, runId } = await waitingRun({ signalTimeout: 2, whenExhausted: 'skip' });
  await db.query('select pgflow.requeue_stalled_tasks()');
  expect((await statuses(db, runId)).approve).toBe('started');
  // As if the step had waited 3 seconds.
  await db.query(
    `update pgflow.step_tasks set queued_at = now() - interval '3 seconds' where run_id = $1
                    and step_slug = 'approve'`,
    [runId],
  );
  await db.query('select pgflow.requeue_stalled_tasks()');
  expect(await statuses(db, runId)).toMatchObject({ approve: 'skipped' });
  expect((await stepTask(db, runId, 'approve')).error_message).toContain('signal timeout');
  await expectEngineError(sendSignal(runId, 'approval', 1), { code: 'PF043', naming: ['approve', 'skipped'] });
  const ship = await pollOne(db, slug, 'ship');
  expect(ship.input).toEqual({});
  await completeTask(db, runId, 'ship', 0, 'without approval');
  expect((await runRow(db, runId)).status).toBe('completed');
});

it('a wait past its signal timeout with whenExhausted fail fails the run; retry waits again', async () => {
  const { slug, runId } = await waitingRun({ signalTimeout: 2 });
  await db.query(
    `update pgflow.step_tasks set queued_at = now() - interval '3 seconds' where run_id = $1
                    and step_slug = 'approve'`,
    [runId],
  );
  await db.query('select pgflow.requeue_stalled_tasks()');
  expect((await runRow(db, runId)).status).toBe('failed');

  await db.query('select * from pgflow.retry_run($1::uuid)', [runId]);
  expect((await runRow(db, runId)).status).toBe('started');
  expect(await stepTask(db, runId, 'approve')).toMatchObject({ status: 'queued', message_id: null });
  expect(await pollTasks(db, slug)).toEqual([]);
  await sendSignal(runId, 'approval', 'late but fine');
  expect((await pollOne(db, slug, 'approve')).input).toMatchObject({ payload: 'late but fine' });
});

it('cancel while waiting, then retry: the step waits again for its signal', async () => {
  const { slug, runId } = await waitingRun();
  await db.query('select pgflow.cancel_run($1::uuid)', [runId]);
  await expectEngineError(sendSignal(runId, 'approval', 1), { code: 'PF040', naming: ['cancelled'] });
  await db.query('select * from pgflow.retry_run($1::uuid)', [runId]);
  expect(await stepTask(db, runId, 'approve')).toMatchObject({ status: 'queued', message_id: null });
  expect(await pollTasks(db, slug)).toEqual([]);
  await sendSignal(runId, 'approval', 'ok');
  expect((await pollOne(db, slug, 'approve')).input).toMatchObject({ payload: 'ok' });
});

it('declarations the engine refuses (PF007), nothing changed: map step, two steps for one name, bad name, bad timeout', async () => {
  const slug = `signal_${++flows}`;
  await compile(slug, [{ slug: 'a' }, { slug: 'b', deps: ['a'] }]);
  const cases: [ShapeStep[], string[]][] = [
    [
      [
        { slug: 'a', signal: 'x' },
        { slug: 'b', deps: ['a'], signal: 'x' },
      ],
      ["'x'", "'a'", "'b'"],
    ],
    [
      [
        { slug: 'a', signal: 'not a slug' },
        { slug: 'b', deps: ['a'] },
      ],
      ['not a slug'],
    ],
    [
      [
        { slug: 'a', signal: 'x', signalTimeout: 0 },
        { slug: 'b', deps: ['a'] },
      ],
      ['0'],
    ],
    [
      [
        { slug: 'a', signal: 'x', signalTimeout: 1.5 },
        { slug: 'b', deps: ['a'] },
      ],
      ['1.5'],
    ],
  ];
  for (const [steps, naming] of cases) {
    await expectEngineError(compile(slug, steps), { code: 'PF007', naming });
  }
  const mapSlug = `signal_${++flows}`;
  await compile(mapSlug, [{ slug: 'items', map: true }]);
  await expectEngineError(compile(mapSlug, [{ slug: 'items', map: true, signal: 'x' }]), {
    code: 'PF007',
    naming: ['items'],
  });
  const rows = await db.query<{ n: number }>(
    'select count(*)::int as n from pgflow.steps where flow_slug = any($1) and signal_name is not null',
    [[slug, mapSlug]],
  );
  expect(rows[0]?.n).toBe(0);
});

it('a deploy makes a step a signal step and back; the change is reported', async () => {
  const slug = `signal_${++flows}`;
  await compile(slug, [{ slug: 'a' }]);
  const [changed] = await db.query<{ result: { options_changed: string[] } }>(
    'select pgflow.ensure_flow_compiled($1, $2::jsonb) as result',
    [slug, json(shape([{ slug: 'a', signal: 'go', signalTimeout: 60 }]))],
  );
  expect(changed?.result.options_changed).toEqual([`step 'a': signal none -> 'go' (timeout 60 s)`]);
  const [row] = await db.query<{ signal_name: string; signal_timeout: number }>(
    'select signal_name, signal_timeout from pgflow.steps where flow_slug = $1',
    [slug],
  );
  expect(row).toEqual({ signal_name: 'go', signal_timeout: 60 });
  await compile(slug, [{ slug: 'a' }]);
  const [after] = await db.query<{ signal_name: string | null }>(
    'select signal_name from pgflow.steps where flow_slug = $1',
    [slug],
  );
  expect(after?.signal_name).toBeNull();
});
