/**
 * A run waiting for a slot of its key's concurrency limit: the run page and the runs list say
 * "waiting for a slot (key X)", the key as text (escaped), and say nothing for other runs.
 */
import type { RunSnapshot } from '../client/run.types.ts';
import type { RunSummary } from '../client/run-control.types.ts';
import { runLivePart } from './run.page.ts';
import { runsPage } from './runs.page.ts';

const KEY = '<b>acme</b>';

function summary(waitingForSlot: boolean): RunSummary {
  return {
    runId: '00000000-0000-4000-8000-000000000001',
    flowSlug: 'tenant_export',
    status: 'started',
    input: {},
    output: null,
    startedAt: new Date('2026-12-01T10:00:00Z'),
    completedAt: null,
    failedAt: null,
    cancelledAt: null,
    cancelReason: null,
    concurrencyKey: KEY,
    waitingForSlot,
  };
}

function snapshot(waitingForSlot: boolean): RunSnapshot {
  return {
    ...summary(waitingForSlot),
    alias: null,
    priority: 0,
    parent: null,
    children: [],
    steps: [],
  };
}

describe('a run waiting for a slot on the dashboard', () => {
  it('shows "waiting for a slot (key X)" on the run page, the key escaped', () => {
    const text = runLivePart({ basePath: '/pgflow', run: snapshot(true), graph: [], readOnly: true }).text;
    expect(text).toContain('waiting for a slot (key &lt;b&gt;acme&lt;/b&gt;)');
    expect(text).not.toContain(KEY);
  });

  it('shows it in the runs list', () => {
    const text = runsPage('/pgflow', ['tenant_export'], {}, { runs: [summary(true)], nextCursor: null });
    expect(text).toContain('waiting for a slot (key &lt;b&gt;acme&lt;/b&gt;)');
    expect(text).not.toContain(KEY);
  });

  it('says nothing for a run that holds its slot', () => {
    expect(runLivePart({ basePath: '/pgflow', run: snapshot(false), graph: [], readOnly: true }).text).not.toContain(
      'waiting for a slot',
    );
    expect(runsPage('/pgflow', [], {}, { runs: [summary(false)], nextCursor: null })).not.toContain(
      'waiting for a slot',
    );
  });
});
