/**
 * Map steps in a real Nest application: one task per array element, outputs gathered in element
 * order whatever order the tasks finish in, root maps over the run input and dependent maps over a
 * step's array output.
 */
import {
  Flow,
  InvalidRunInputError,
  type MapItem,
  type MapStepContext,
  RunFailedError,
  Step,
  type StepContext,
  type StepInput,
} from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { useApps } from '../fixtures/pgflow-app.ts';
import { CallLog } from '../fixtures/recorders.ts';

/** Lets later elements finish first, so that completion order differs from element order. */
function jitter(index: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, (97 - index) % 5));
}

@Flow({ slug: 'map_root', maxAttempts: 1 })
class DoubleEachFlow {
  constructor(private readonly log: CallLog) {}

  @Step({ map: true })
  async double(item: number, ctx: MapStepContext) {
    this.log.record(item, ctx);
    await jitter(item);
    return item * 2;
  }
}

@Flow({ slug: 'map_dependent', maxAttempts: 1 })
class WordsFlow {
  constructor(private readonly log: CallLog) {}

  @Step()
  split(input: { text: string }) {
    return input.text === '' ? [] : input.text.split(' ');
  }

  @Step({ dependsOn: ['split'], map: true })
  upper(word: MapItem<WordsFlow, 'split'>, ctx: MapStepContext) {
    this.log.record(word, ctx);
    return word.toUpperCase();
  }

  @Step({ dependsOn: ['upper'] })
  join(deps: StepInput<WordsFlow, 'upper'>, ctx: StepContext) {
    this.log.record(deps, ctx);
    return deps.upper.join('-');
  }
}

@Flow({ slug: 'map_not_an_array', maxAttempts: 1 })
class NotAnArrayFlow {
  @Step()
  produce(): unknown {
    return { not: 'an array' };
  }

  @Step({ dependsOn: ['produce'], map: true })
  each(item: unknown, _ctx: MapStepContext) {
    return item;
  }
}

const db = useTestDatabase();
const apps = useApps();

function startApp() {
  return apps.start({ url: db.url, providers: [CallLog, DoubleEachFlow, WordsFlow, NotAnArrayFlow] });
}

describe('map steps in a Nest application', () => {
  it('a root map over 100 items returns the outputs in item order', async () => {
    const { app, client } = await startApp();
    const items = Array.from({ length: 100 }, (_, i) => i);
    const run = await client.start(DoubleEachFlow, items);
    const done = await run.wait({ timeoutMs: 20_000 });

    expect(done.output).toEqual({ double: items.map((item) => item * 2) });
    const calls = app.get(CallLog).of('double', run.runId);
    expect(calls).toHaveLength(100);
    expect(calls.map((call) => call.taskIndex).sort((a, b) => a - b)).toEqual(items);
    for (const call of calls) {
      expect(call.input).toBe(call.taskIndex);
      expect(call).toMatchObject({ kind: 'map', attempt: 1, flowSlug: 'map_root' });
    }
  });

  it('records one completed task per item, in task order, in the run snapshot', async () => {
    const { client } = await startApp();
    const run = await client.start(DoubleEachFlow, [5, 6, 7]);
    await run.wait({ timeoutMs: 10_000 });

    const [step] = (await client.getRun(run.runId)).steps;
    expect(step).toMatchObject({ stepSlug: 'double', status: 'completed', output: [10, 12, 14] });
    expect(step?.tasks).toEqual([
      expect.objectContaining({ taskIndex: 0, status: 'completed', attemptsCount: 1 }),
      expect.objectContaining({ taskIndex: 1, status: 'completed', attemptsCount: 1 }),
      expect.objectContaining({ taskIndex: 2, status: 'completed', attemptsCount: 1 }),
    ]);
  });

  it('a root map over an empty array completes with an empty output and calls no handler', async () => {
    const { app, client } = await startApp();
    const run = await client.start(DoubleEachFlow, []);

    await expect(run.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { double: [] } });
    expect(app.get(CallLog).of('double', run.runId)).toEqual([]);
  });

  it('a dependent map maps over the array its dependency returned, and its dependent gets the array', async () => {
    const { app, client } = await startApp();
    const run = await client.start(WordsFlow, { text: 'map the words' });
    const done = await run.wait({ timeoutMs: 10_000 });

    expect(done.output).toEqual({ join: 'MAP-THE-WORDS' });
    const log = app.get(CallLog);
    const upper = log.of('upper', run.runId).sort((a, b) => a.taskIndex - b.taskIndex);
    expect(upper.map((call) => [call.taskIndex, call.input])).toEqual([
      [0, 'map'],
      [1, 'the'],
      [2, 'words'],
    ]);
    expect(upper.every((call) => call.kind === 'map')).toBe(true);
    expect(upper[0]?.flowInput).toEqual({ text: 'map the words' });
    expect(log.of('join', run.runId).map((call) => call.input)).toEqual([{ upper: ['MAP', 'THE', 'WORDS'] }]);
  });

  it('a dependent map over an empty array completes with no tasks and its dependent gets []', async () => {
    const { app, client } = await startApp();
    const run = await client.start(WordsFlow, { text: '' });

    await expect(run.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { join: '' } });
    const log = app.get(CallLog);
    expect(log.of('upper', run.runId)).toEqual([]);
    expect(log.of('join', run.runId).map((call) => call.input)).toEqual([{ upper: [] }]);
  });

  it('fails the run with a TYPE_VIOLATION when a map step depends on a step that returned no array', async () => {
    const { client } = await startApp();
    const run = await client.start(NotAnArrayFlow, {});

    const error = await run.wait({ timeoutMs: 10_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error).toMatchObject({ runId: run.runId, errorMessage: expect.stringMatching(/^\[TYPE_VIOLATION\]/) });
  });

  it('refuses a non-array input to a flow with a root map step, starting nothing', async () => {
    const { client } = await startApp();
    const before = await db.query("select count(*)::int as n from pgflow.runs where flow_slug = 'map_root'");

    for (const input of [{ items: [1, 2] }, 'one', 3, null]) {
      const error = await client.start(DoubleEachFlow, input as never).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InvalidRunInputError);
      expect(error).toMatchObject({ code: 'PGFLOW_INVALID_INPUT', flowSlug: 'map_root' });
      expect((error as Error).message).toMatch(/'double'.*must be an array/);
    }
    expect(await db.query("select count(*)::int as n from pgflow.runs where flow_slug = 'map_root'")).toEqual(before);
  });
});
