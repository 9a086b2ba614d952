/**
 * @OnFlowEvent: methods of any provider receive the run events of every run of a flow, in every
 * process that declares one, from the engine's per-flow channel.
 */
import { Injectable } from '@nestjs/common';
import { Flow, type FlowEvent, OnFlowEvent, Step, type StepContext } from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

@Flow({ slug: 'events_ok', maxAttempts: 1 })
class OkFlow {
  @Step()
  only() {
    return 'fine';
  }
}

@Flow({ slug: 'events_bad', maxAttempts: 1 })
class BadFlow {
  @Step()
  only(_input: unknown, _ctx: StepContext) {
    throw new Error('this run fails');
  }
}

@Injectable()
class Alerts {
  readonly failed: FlowEvent[] = [];
  readonly okCompleted: FlowEvent[] = [];
  readonly everything: FlowEvent[] = [];

  @OnFlowEvent('run:failed')
  onFailed(event: FlowEvent) {
    this.failed.push(event);
  }

  @OnFlowEvent('run:completed', { flow: OkFlow })
  onOkCompleted(event: FlowEvent) {
    this.okCompleted.push(event);
  }

  @OnFlowEvent('*')
  onAny(event: FlowEvent) {
    this.everything.push(event);
  }

  @OnFlowEvent('run:started')
  broken() {
    throw new Error('a broken handler');
  }
}

const db = useTestDatabase();
const apps = useApps();

describe('@OnFlowEvent', () => {
  it('delivers the run events of every run, filtered by type and flow, in every process that declares one', async () => {
    const worker = await apps.start({ url: db.url, providers: [OkFlow, BadFlow, Alerts] });
    const elsewhere = await apps.start({
      url: db.url,
      providers: [OkFlow, BadFlow, Alerts],
      pgflow: { worker: { enabled: false } },
    });
    // Runs started with plain SQL too: the events come from the engine.
    const [ok] = await db.query<{ run_id: string }>("select run_id from pgflow.start_flow('events_ok', '{}')");
    const bad = await worker.client.start(BadFlow, {});
    await worker.client.wait(ok?.run_id as string, { timeoutMs: 10_000 });
    await bad.wait({ timeoutMs: 10_000 }).catch(() => {});

    for (const app of [worker, elsewhere]) {
      const alerts = app.app.get(Alerts);
      await waitFor(() => alerts.failed.length === 1 && alerts.okCompleted.length === 1, {
        description: 'the failed and completed events',
      });
      expect(alerts.failed[0]).toMatchObject({
        event_type: 'run:failed',
        run_id: bad.runId,
        flow_slug: 'events_bad',
        status: 'failed',
        error_message: expect.stringContaining('this run fails'),
      });
      expect(alerts.okCompleted).toEqual([
        expect.objectContaining({ event_type: 'run:completed', run_id: ok?.run_id, flow_slug: 'events_ok' }),
      ]);
      await waitFor(() => alerts.everything.length >= 4, { description: 'all four run events' });
      expect(alerts.everything.map((e) => `${e.flow_slug} ${e.event_type}`).sort()).toEqual([
        'events_bad run:failed',
        'events_bad run:started',
        'events_ok run:completed',
        'events_ok run:started',
      ]);
    }
    // The broken handler was logged, and did not stop the others.
    const errors = [...worker.logger.errors, ...elsewhere.logger.errors].map((entry) => String(entry[0]));
    expect(errors.some((message) => message.includes('@OnFlowEvent handler Alerts.broken failed on run:started'))).toBe(
      true,
    );
  });
});
