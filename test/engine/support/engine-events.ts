/**
 * Listening to the engine's events the way a client does: LISTEN on a run's channel
 * ("pgflow:run:<run_id>", quoted because of the colons) or on "pgflow:work", on a connection of its
 * own. To check that something was *not* sent without sleeping, `settle()` sends a marker on the
 * same channel from another connection and waits for it: NOTIFY delivers in commit order, so
 * everything committed before the marker has arrived by then.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { TestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';

export interface EngineEvent {
  event_type: string;
  run_id: string;
  flow_slug: string;
  step_slug?: string;
  status: string;
  output?: unknown;
  output_omitted?: boolean;
  error_message?: string;
  skip_reason?: string;
  at: string;
  [key: string]: unknown;
}

export interface Notification {
  readonly channel: string;
  readonly payload: string;
}

export interface Listener {
  /** Every notification received, in arrival order (markers excluded). */
  readonly notifications: Notification[];
  /** The JSON payloads of the run channels' notifications, in arrival order. */
  events(): EngineEvent[];
  /** Resolves once everything committed before this call has been delivered. */
  settle(): Promise<void>;
  /** Waits until `count` notifications matched `predicate`. */
  waitFor(predicate: (n: Notification) => boolean, count?: number, description?: string): Promise<Notification[]>;
  close(): Promise<void>;
}

const MARKER_PREFIX = 'engine-test-marker:';

export function runChannel(runId: string): string {
  return `pgflow:run:${runId}`;
}

export async function listen(db: TestDatabase, channels: readonly string[]): Promise<Listener> {
  const client = await db.connect('engine test listener');
  const notifications: Notification[] = [];
  const markers = new Set<string>();
  client.on('notification', (message) => {
    const payload = message.payload ?? '';
    if (payload.startsWith(MARKER_PREFIX)) markers.add(payload);
    else notifications.push({ channel: message.channel, payload });
  });
  for (const channel of channels) await client.query(`listen ${pg.escapeIdentifier(channel)}`);

  const matching = (predicate: (n: Notification) => boolean) => notifications.filter(predicate);
  return {
    notifications,
    events: () =>
      notifications.filter((n) => n.channel.startsWith('pgflow:run:')).map((n) => JSON.parse(n.payload) as EngineEvent),
    settle: async () => {
      const marker = `${MARKER_PREFIX}${randomUUID()}`;
      await db.query('select pg_notify($1, $2)', [channels[0], marker]);
      await waitFor(() => markers.has(marker), { description: `marker ${marker} on ${channels[0]}` });
    },
    waitFor: async (predicate, count = 1, description = 'notifications') =>
      waitFor(
        () => {
          const found = matching(predicate);
          return found.length >= count ? found : undefined;
        },
        { description: `${count} ${description}` },
      ),
    close: () => client.end(),
  };
}

/** Listens on one run's channel. */
export function listenToRun(db: TestDatabase, runId: string): Promise<Listener> {
  return listen(db, [runChannel(runId)]);
}

/** A compact picture of an event sequence: "run:started", "step:started a", ... */
export function eventNames(events: readonly EngineEvent[]): string[] {
  // A run event may name the step that ended the run (an addition the payload allows): not shown.
  return events.map((e) => (e.event_type.startsWith('step:') ? `${e.event_type} ${e.step_slug}` : e.event_type));
}
