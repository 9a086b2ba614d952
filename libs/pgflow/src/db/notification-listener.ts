import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type pg from 'pg';
import { Backoff } from '../support/backoff.ts';
import { sql } from './engine.sql.ts';
import { PgflowDatabase } from './pgflow-database.ts';

export type NotificationHandler = (payload: string) => void;

/**
 * One LISTEN connection per process, shared by the worker (new work) and FlowClient (run events).
 * Channels are reference-counted: LISTEN on the first subscription, UNLISTEN after the last. When
 * the connection drops it reconnects with a backoff, listens again to every channel, and tells the
 * `onReconnect` callbacks, so that whoever waits re-reads the state it may have missed.
 */
@Injectable()
export class NotificationListener implements OnApplicationShutdown {
  private readonly logger = new Logger('PgflowListener');
  private readonly handlers = new Map<string, Set<NotificationHandler>>();
  /** Per channel, the LISTEN in progress or done: every subscriber waits for it, not only the first. */
  private readonly listening = new Map<string, Promise<void>>();
  private readonly reconnectCallbacks = new Set<() => void>();
  private readonly backoff = new Backoff(100, 5_000);
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The client's statements, one after the other (pg deprecates overlapping queries on a client). */
  private statements: Promise<unknown> = Promise.resolve();

  constructor(private readonly database: PgflowDatabase) {}

  /**
   * Calls `handler` with the payload of every notification on `channel`, from the moment the returned
   * promise resolves (the LISTEN is then active). Returns the function that unsubscribes.
   */
  async subscribe(channel: string, handler: NotificationHandler): Promise<() => Promise<void>> {
    if (this.closed) throw new Error('The pgflow notification listener is closed (the application is shutting down).');
    let channelHandlers = this.handlers.get(channel);
    const first = channelHandlers === undefined;
    if (channelHandlers === undefined) {
      channelHandlers = new Set();
      this.handlers.set(channel, channelHandlers);
    }
    channelHandlers.add(handler);
    if (first) {
      this.listening.set(
        channel,
        (async () => {
          try {
            const client = await this.connect();
            await this.send(client, sql.listen(channel));
          } catch (error) {
            // The reconnection loop listens to every subscribed channel again once the server is back.
            this.scheduleReconnect(error);
          }
        })(),
      );
    }
    await this.listening.get(channel);
    let subscribed = true;
    return async () => {
      if (!subscribed) return;
      subscribed = false;
      const current = this.handlers.get(channel);
      current?.delete(handler);
      if (current !== undefined && current.size === 0) {
        this.handlers.delete(channel);
        this.listening.delete(channel);
        const client = this.client;
        if (client !== undefined) await this.send(client, sql.unlisten(channel)).catch(() => {});
      }
    };
  }

  /** Calls `callback` after each reconnection (when notifications may have been missed). */
  onReconnect(callback: () => void): () => void {
    this.reconnectCallbacks.add(callback);
    return () => this.reconnectCallbacks.delete(callback);
  }

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  /** Closes the connection; later subscriptions fail. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.handlers.clear();
    this.listening.clear();
    this.reconnectCallbacks.clear();
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private connect(): Promise<pg.Client> {
    if (this.client !== undefined) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const client = this.database.createClient('pgflow listener');
      // Set when the connection dies, even before it becomes this.client (lost() ignores it then).
      let ended: unknown;
      client.on('notification', (message) => this.dispatch(message.channel, message.payload ?? ''));
      client.on('error', (error) => {
        ended ??= error;
        this.lost(client, error);
      });
      client.on('end', () => {
        ended ??= new Error('connection ended');
        this.lost(client, ended);
      });
      try {
        await client.connect();
      } catch (error) {
        await client.end().catch(() => {});
        throw error;
      }
      if (this.closed || ended !== undefined) {
        // Closed meanwhile, or the server ended the connection right after accepting it (a
        // pg_terminate_backend or a restart at that moment): never keep a dead client.
        await client.end().catch(() => {});
        throw ended ?? new Error('The pgflow notification listener is closed.');
      }
      this.client = client;
      return client;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** Runs a statement after the ones already sent on this connection. */
  private send(client: pg.Client, statement: string): Promise<unknown> {
    const result = this.statements.then(() => client.query(statement));
    this.statements = result.catch(() => undefined);
    return result;
  }

  private dispatch(channel: string, payload: string): void {
    for (const handler of this.handlers.get(channel) ?? []) {
      try {
        handler(payload);
      } catch (error) {
        this.logger.error(`A handler of notifications on ${channel} threw`, (error as Error)?.stack);
      }
    }
  }

  private lost(client: pg.Client, error: unknown): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => {});
    this.scheduleReconnect(error);
  }

  private scheduleReconnect(error: unknown): void {
    if (this.closed || this.reconnectTimer !== undefined) return;
    const delay = this.backoff.next();
    if (this.backoff.attempts === 1) {
      this.logger.warn(`Lost the LISTEN connection (${(error as Error)?.message ?? error}); reconnecting.`);
    }
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.reconnect();
    }, delay);
  }

  private async reconnect(): Promise<void> {
    if (this.closed) return;
    try {
      const client = await this.connect();
      try {
        for (const channel of this.handlers.keys()) await this.send(client, sql.listen(channel));
      } catch (error) {
        if (this.client === client) this.client = undefined;
        await client.end().catch(() => {});
        throw error;
      }
    } catch (error) {
      this.scheduleReconnect(error);
      return;
    }
    if (this.backoff.attempts > 0) this.logger.log('LISTEN connection restored.');
    this.backoff.reset();
    for (const callback of this.reconnectCallbacks) callback();
  }
}
