import { Logger, type MessageEvent } from '@nestjs/common';
import { Observable } from 'rxjs';
import type { FlowClient } from '../client/flow.client.ts';
import type { RunSnapshot } from '../client/run.types.ts';

/**
 * A run page's live updates as server-sent events: each event of the run (a notification on the
 * registration's LISTEN connection, through FlowClient.watch) only wakes this up; the state sent is
 * read again from the tables, so a notification too large to carry an output, or one that arrives
 * while a read is in progress, loses nothing. Reads never overlap: changes during one are coalesced
 * into the next. Subscribing also replays the run's past events, so the first state is sent at once.
 */
export function runUpdates(
  client: FlowClient,
  runId: string,
  render: (run: RunSnapshot) => Promise<string>,
): Observable<MessageEvent> {
  const logger = new Logger('PgflowDashboard');
  return new Observable<MessageEvent>((subscriber) => {
    let reading = false;
    let stale = false;
    let closed = false;
    const read = async (): Promise<void> => {
      if (reading) {
        stale = true;
        return;
      }
      reading = true;
      try {
        do {
          stale = false;
          const run = await client.getRun(runId);
          const markup = await render(run);
          if (!closed) subscriber.next({ type: 'state', data: { status: run.status, html: markup } });
        } while (stale && !closed);
      } catch (error) {
        logger.warn(`Could not read run ${runId} for its live page: ${(error as Error).message}`);
      } finally {
        reading = false;
      }
    };
    let unwatch: (() => void) | undefined;
    client.watch(runId, '*', () => void read()).then(
      (stop) => {
        if (closed) stop();
        else unwatch = stop;
      },
      (error: unknown) => subscriber.error(error),
    );
    return () => {
      closed = true;
      unwatch?.();
    };
  });
}
