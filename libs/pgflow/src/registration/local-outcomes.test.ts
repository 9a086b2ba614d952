import type { RunOutcomeRow } from '../client/run-wait.ts';
import { LocalOutcomes, type RunOutcomeJson } from './local-outcomes.ts';

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
});
