import { jest } from '@jest/globals';
import type { RunOutcomeRow } from '../client/run-wait.ts';
import { HELD_LISTEN_DEFER_MS, LocalOutcomes, type RunOutcomeJson } from './local-outcomes.ts';

const RUN = '01a24e0e-bd17-7b3a-b55b-6c5bfce7a726';
const OTHER = '01a24e0e-bd17-7b3a-b55b-6c5bfce7a727';

function ended(runId: string, status: 'completed' | 'failed' = 'completed'): RunOutcomeJson {
  return {
    run_id: runId,
    flow_slug: 'f',
    status,
    input: { n: 1 },
    output: status === 'completed' ? { only: 2 } : null,
    started_at: '2026-12-07T01:23:45.123456+00:00',
    completed_at: status === 'completed' ? '2026-12-07T01:23:46.5+00:00' : null,
    failed_at: status === 'failed' ? '2026-12-07T01:23:47+00:00' : null,
    cancel_reason: null,
    failed_step: status === 'failed' ? 'only' : null,
    error_message: status === 'failed' ? 'boom' : null,
  };
}

describe('LocalOutcomes', () => {
  it('names only the awaited runs among those of a report, each once', () => {
    const outcomes = new LocalOutcomes();
    expect(outcomes.startReport([RUN, OTHER])).toEqual([]);
    outcomes.await(RUN, () => {});
    expect(outcomes.startReport([OTHER, RUN, RUN])).toEqual([RUN]);
    outcomes.reportEnded([RUN]);
  });

  it('settles every wait of an ended run, with its timestamps as dates', () => {
    const outcomes = new LocalOutcomes();
    const settled: RunOutcomeRow[] = [];
    outcomes.await(RUN, (outcome) => settled.push(outcome));
    outcomes.await(RUN, (outcome) => settled.push(outcome));
    outcomes.deliver([ended(RUN), ended(OTHER)]);
    expect(settled).toHaveLength(2);
    expect(settled[0]).toMatchObject({ run_id: RUN, status: 'completed', output: { only: 2 }, failed_at: null });
    expect(settled[0]?.started_at).toEqual(new Date('2026-12-07T01:23:45.123Z'));
    expect(settled[0]?.completed_at).toEqual(new Date('2026-12-07T01:23:46.500Z'));
  });

  it('keeps the failed step and its error of a failed run', () => {
    const outcomes = new LocalOutcomes();
    const settled: RunOutcomeRow[] = [];
    outcomes.await(RUN, (outcome) => settled.push(outcome));
    outcomes.deliver([ended(RUN, 'failed')]);
    expect(settled[0]).toMatchObject({
      status: 'failed',
      failed_step: 'only',
      error_message: 'boom',
      completed_at: null,
    });
    expect(settled[0]?.failed_at).toEqual(new Date('2026-12-07T01:23:47Z'));
  });

  it('forgets a wait once it stops, and the run once no wait is left', () => {
    const outcomes = new LocalOutcomes();
    const settled: string[] = [];
    const first = outcomes.await(RUN, () => settled.push('first'));
    const second = outcomes.await(RUN, () => settled.push('second'));
    first.stop();
    outcomes.deliver([ended(RUN)]);
    expect(settled).toEqual(['second']);
    second.stop();
    second.stop();
    expect(outcomes.startReport([RUN])).toEqual([]);
  });

  it('defers what a wait does after its run’s end event until the reports naming the run have ended', () => {
    const outcomes = new LocalOutcomes();
    const done: string[] = [];
    const wait = outcomes.await(RUN, () => {});
    wait.afterReports(() => done.push('no report in flight: at once'));
    const firstReport = outcomes.startReport([RUN]);
    const secondReport = outcomes.startReport([RUN, OTHER]);
    wait.afterReports(() => done.push('after both reports'));
    outcomes.reportEnded(firstReport);
    expect(done).toEqual(['no report in flight: at once']);
    outcomes.reportEnded(secondReport);
    expect(done).toEqual(['no report in flight: at once', 'after both reports']);
    wait.afterReports(() => done.push('at once again'));
    expect(done).toHaveLength(3);
  });

  describe('whenReleased (the LISTEN of a wait while the worker holds a task of its run)', () => {
    /** A worker that holds the runs in `held`. */
    function holding(held: Set<string>): LocalOutcomes {
      return new LocalOutcomes(() => ({ heldRunIds: () => held }));
    }

    afterEach(() => jest.useRealTimers());

    it('goes on at once without a worker, or when the worker holds no task of the run', () => {
      const done: string[] = [];
      new LocalOutcomes().await(RUN, () => {}).whenReleased(() => done.push('no worker'));
      holding(new Set([OTHER]))
        .await(RUN, () => {})
        .whenReleased(() => done.push('another run held'));
      expect(done).toEqual(['no worker', 'another run held']);
    });

    it('waits while the worker holds a task of the run, and goes on when a change leaves it none', () => {
      const held = new Set([RUN, OTHER]);
      const outcomes = holding(held);
      const done: string[] = [];
      outcomes.await(RUN, () => {}).whenReleased(() => done.push('released'));
      outcomes.heldChanged();
      expect(done).toEqual([]);
      held.delete(RUN);
      outcomes.heldChanged();
      outcomes.heldChanged();
      expect(done).toEqual(['released']);
      expect(outcomes.isEmpty).toBe(false);
    });

    it(`goes on after ${HELD_LISTEN_DEFER_MS} ms at the latest while the run stays held`, () => {
      jest.useFakeTimers();
      const outcomes = holding(new Set([RUN]));
      const done: string[] = [];
      const wait = outcomes.await(RUN, () => {});
      wait.whenReleased(() => done.push('late'));
      jest.advanceTimersByTime(HELD_LISTEN_DEFER_MS - 1);
      expect(done).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(done).toEqual(['late']);
      outcomes.heldChanged();
      expect(done).toEqual(['late']);
      wait.stop();
      expect(outcomes.isEmpty).toBe(true);
    });

    it('forgets the deferral of a wait that stops (settled by a report meanwhile)', () => {
      jest.useFakeTimers();
      const held = new Set([RUN]);
      const outcomes = holding(held);
      const done: string[] = [];
      const wait = outcomes.await(RUN, () => {});
      wait.whenReleased(() => done.push('should not run'));
      wait.stop();
      expect(outcomes.isEmpty).toBe(true);
      held.clear();
      outcomes.heldChanged();
      jest.advanceTimersByTime(HELD_LISTEN_DEFER_MS);
      expect(done).toEqual([]);
    });
  });
});
