import { jest } from '@jest/globals';
import type { NotificationListener } from '../db/notification-listener.ts';
import { LocalOutcomes, type RunOutcomeJson } from '../registration/local-outcomes.ts';
import { type RunOutcomeRow, type RunWaitContext, waitForRun } from './run-wait.ts';

const RUN = '01a24e0e-bd17-7b3a-b55b-6c5bfce7a726';

const STARTED: RunOutcomeRow = {
  run_id: RUN,
  flow_slug: 'f',
  status: 'started',
  input: {},
  output: null,
  started_at: new Date('2026-12-07T01:00:00Z'),
  completed_at: null,
  failed_at: null,
  cancel_reason: null,
  failed_step: null,
  error_message: null,
};

const COMPLETED: RunOutcomeJson = {
  ...STARTED,
  status: 'completed',
  output: { only: 1 },
  started_at: '2026-12-07T01:00:00+00:00',
  completed_at: '2026-12-07T01:00:01+00:00',
  failed_at: null,
};

/** A wait's context on a listener whose LISTEN becomes active when `listen()` is called. */
function context(outcomes: LocalOutcomes) {
  let activate: () => void = () => {};
  let notify: (payload: string) => void = () => {};
  const reads: string[] = [];
  const listener = {
    subscribe: (_channel: string, handler: (payload: string) => void) => {
      notify = handler;
      return new Promise<() => Promise<void>>((resolve) => {
        activate = () => resolve(async () => {});
      });
    },
    onReconnect: () => () => {},
  } as unknown as NotificationListener;
  const wait: RunWaitContext = {
    listener,
    readOutcome: async (runId) => {
      reads.push(runId);
      return STARTED;
    },
    awaitLocally: (runId, settle) => outcomes.await(runId, settle),
    onShutdown: () => () => {},
  };
  return { wait, reads, listen: () => activate(), notify: (payload: string) => notify(payload) };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('waitForRun with the outcomes of this process’s worker', () => {
  it('settles from the report that ended the run, and reads it when its LISTEN is active', async () => {
    const outcomes = new LocalOutcomes();
    const { wait, reads, listen } = context(outcomes);
    const waiting = waitForRun(RUN, { timeoutMs: 5_000 }, wait);
    listen();
    await tick();
    expect(reads).toEqual([RUN]);
    const named = outcomes.startReport([RUN]);
    outcomes.deliver([COMPLETED]);
    outcomes.reportEnded(named);
    await expect(waiting).resolves.toMatchObject({ runId: RUN, status: 'completed', output: { only: 1 } });
    expect(reads).toEqual([RUN]);
  });

  it('defers the read when its LISTEN becomes active while a report naming the run is in flight', async () => {
    const outcomes = new LocalOutcomes();
    const { wait, reads, listen } = context(outcomes);
    const waiting = waitForRun(RUN, { timeoutMs: 5_000 }, wait);
    const named = outcomes.startReport([RUN]);
    listen();
    await tick();
    expect(reads).toEqual([]);
    outcomes.deliver([COMPLETED]);
    outcomes.reportEnded(named);
    await expect(waiting).resolves.toMatchObject({ status: 'completed' });
    expect(reads).toEqual([]);
  });

  it('reads after the report when the report did not end the run, and on its end event after that', async () => {
    const outcomes = new LocalOutcomes();
    const { wait, reads, listen, notify } = context(outcomes);
    const waiting = waitForRun(RUN, { timeoutMs: 5_000 }, wait);
    const named = outcomes.startReport([RUN]);
    listen();
    await tick();
    notify(JSON.stringify({ event_type: 'run:completed', run_id: RUN }));
    await tick();
    expect(reads).toEqual([]);
    // The read the LISTEN deferred, then the one the end event deferred (each after the one before).
    outcomes.reportEnded(named);
    await tick();
    expect(reads).toEqual([RUN, RUN]);
    notify(JSON.stringify({ event_type: 'run:completed', run_id: RUN }));
    await tick();
    expect(reads).toEqual([RUN, RUN, RUN]);
    outcomes.startReport([RUN]);
    outcomes.deliver([COMPLETED]);
    await expect(waiting).resolves.toMatchObject({ status: 'completed' });
  });

  it('does not LISTEN while the worker holds a task of the run: the report ends the wait without one', async () => {
    const held = new Set([RUN]);
    const outcomes = new LocalOutcomes(() => ({ heldRunIds: () => held }));
    const { wait, reads } = context(outcomes);
    const subscribe = jest.spyOn(wait.listener, 'subscribe');
    const waiting = waitForRun(RUN, { timeoutMs: 5_000 }, wait);
    const named = outcomes.startReport([RUN]);
    outcomes.deliver([COMPLETED]);
    outcomes.reportEnded(named);
    await expect(waiting).resolves.toMatchObject({ status: 'completed' });
    expect({ subscribed: subscribe.mock.calls.length, reads }).toEqual({ subscribed: 0, reads: [] });
  });

  it('listens, and reads once active, when the worker no longer holds a task of a run that goes on', async () => {
    const held = new Set([RUN]);
    const outcomes = new LocalOutcomes(() => ({ heldRunIds: () => held }));
    const { wait, reads, listen } = context(outcomes);
    const subscribe = jest.spyOn(wait.listener, 'subscribe');
    const waiting = waitForRun(RUN, { timeoutMs: 5_000 }, wait);
    outcomes.heldChanged();
    expect(subscribe).not.toHaveBeenCalled();
    held.clear();
    outcomes.heldChanged();
    expect(subscribe).toHaveBeenCalledTimes(1);
    listen();
    await tick();
    expect(reads).toEqual([RUN]);
    outcomes.startReport([RUN]);
    outcomes.deliver([COMPLETED]);
    await expect(waiting).resolves.toMatchObject({ status: 'completed' });
  });
});
