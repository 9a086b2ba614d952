import type { ServerResponse } from 'node:http';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type MessageEvent } from '@nestjs/common';
import { Observable, type Subscriber } from 'rxjs';
import { FlowClient } from '../client/flow.client.ts';
import type { RunSnapshot } from '../client/run.types.ts';

/**
 * Run pages' live updates as server-sent events. Each event of a run (a notification on the
 * registration's LISTEN connection, through FlowClient.watch) only wakes a stream up; the state sent
 * is read again from the tables, so a notification too large to carry an output, or one that arrives
 * while a read is in progress, loses nothing. Reads never overlap: changes during one are coalesced
 * into the next. Subscribing replays the run's past events, so the first state is sent at once.
 * Streams end at shutdown: an open page must not hold the HTTP server's close. A stream asked for
 * once shutdown began (a page's EventSource reconnecting to the stream that just ended, or a request
 * that arrived a moment before) ends at once, or it would hold the close until the page goes away.
 * Either way its connection is closed once the response is sent: the stream's response is
 * keep-alive, and a page's EventSource would reconnect over that same connection every few seconds,
 * which a closing server does not refuse and which never stays idle long enough to be dropped.
 */
@Injectable()
export class RunUpdates implements BeforeApplicationShutdown {
  private readonly logger = new Logger('PgflowDashboard');
  private readonly open = new Map<Subscriber<MessageEvent>, ServerResponse>();
  private shuttingDown = false;

  constructor(@Inject(FlowClient) private readonly client: FlowClient) {}

  /** The states of run `runId`, each rendered by `render`, as 'state' events `{ status, html }`. */
  stream(
    runId: string,
    render: (run: RunSnapshot) => Promise<string>,
    response: ServerResponse,
  ): Observable<MessageEvent> {
    return new Observable<MessageEvent>((subscriber) => {
      if (this.shuttingDown) {
        closeConnectionWhenSent(response);
        subscriber.complete();
        return;
      }
      this.open.set(subscriber, response);
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
            const run = await this.client.getRun(runId);
            const markup = await render(run);
            if (!closed) subscriber.next({ type: 'state', data: { status: run.status, html: markup } });
          } while (stale && !closed);
        } catch (error) {
          this.logger.warn(`Could not read run ${runId} for its live page: ${(error as Error).message}`);
        } finally {
          reading = false;
        }
      };
      let unwatch: (() => void) | undefined;
      this.client
        .watch(runId, '*', () => void read())
        .then(
          (stop) => {
            if (closed) stop();
            else unwatch = stop;
          },
          (error: unknown) => subscriber.error(error),
        );
      return () => {
        closed = true;
        this.open.delete(subscriber);
        unwatch?.();
      };
    });
  }

  beforeApplicationShutdown(): void {
    this.shuttingDown = true;
    for (const [subscriber, response] of [...this.open]) {
      closeConnectionWhenSent(response);
      subscriber.complete();
    }
  }
}

/** Ends the connection of `response` once the response is sent, instead of keeping it alive. */
function closeConnectionWhenSent(response: ServerResponse): void {
  const socket = response.socket;
  if (socket === null) return;
  if (response.writableFinished) socket.end();
  else response.once('finish', () => socket.end());
}
