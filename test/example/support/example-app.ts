/**
 * The example application on a test database, serving HTTP on a random port: what the e2e tests
 * drive with fetch. Every application is closed after each test.
 */
import type { AddressInfo } from 'node:net';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { PgflowWorkerOptions, RunSnapshot } from 'nestjs-pgflow';
import { AppModule } from '../../../apps/example/src/app.module.ts';
import type { ExampleOptions } from '../../../apps/example/src/example.options.ts';
import { waitFor } from '../../support/wait-for.ts';

/** Worker timings for tests: short polls and heartbeats, so that a closing app stops at once. */
export const TEST_WORKER: PgflowWorkerOptions = Object.freeze({
  pollIntervalMs: 10,
  maxPollSeconds: 1,
  heartbeatIntervalMs: 250,
  shutdownTimeoutMs: 5_000,
});

/** Keeps what the application logs at error level; prints nothing unless PGFLOW_TEST_LOGS is set. */
class QuietLogger implements LoggerService {
  readonly errors: unknown[][] = [];
  private readonly echo = process.env.PGFLOW_TEST_LOGS !== undefined;
  log(...args: unknown[]): void {
    if (this.echo) console.log(...args);
  }
  warn(...args: unknown[]): void {
    if (this.echo) console.warn(...args);
  }
  error(...args: unknown[]): void {
    this.errors.push(args);
    if (this.echo) console.error(...args);
  }
}

export interface HttpAnswer<T = unknown> {
  readonly status: number;
  readonly body: T;
}

export interface ExampleServer {
  readonly app: INestApplication;
  readonly baseUrl: string;
  readonly logger: QuietLogger;
  /** `fetch` on the server; parses the JSON answer. */
  request<T = unknown>(method: string, path: string, body?: string, contentType?: string): Promise<HttpAnswer<T>>;
  get<T = unknown>(path: string): Promise<HttpAnswer<T>>;
  /** POST with a JSON body. */
  post<T = unknown>(path: string, body: unknown): Promise<HttpAnswer<T>>;
}

/**
 * Starts example applications on `databaseUrl()` and closes each one after its test; `worker`
 * replaces TEST_WORKER (e.g. `{ ...TEST_WORKER, enabled: false }` for an API-only application).
 */
export function useExampleServer(
  databaseUrl: () => string,
): (options?: Pick<ExampleOptions, 'dashboardToken' | 'worker'>) => Promise<ExampleServer> {
  const open: INestApplication[] = [];
  afterEach(async () => {
    for (const app of open.splice(0).reverse()) await app.close();
  });
  return async (options = {}) => {
    const logger = new QuietLogger();
    const moduleRef = await Test.createTestingModule({
      // The test database is cloned from a migrated template: nothing to migrate.
      imports: [
        AppModule.forRoot({ databaseUrl: databaseUrl(), migrationsRun: false, worker: TEST_WORKER, ...options }),
      ],
    })
      .setLogger(logger)
      .compile();
    const app = moduleRef.createNestApplication({ logger });
    open.push(app);
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    const baseUrl = `http://127.0.0.1:${port}`;
    const request = async <T>(method: string, path: string, body?: string, contentType?: string) => {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        ...(body === undefined ? {} : { body, headers: { 'content-type': contentType ?? 'application/json' } }),
      });
      const text = await response.text();
      return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
    };
    return {
      app,
      baseUrl,
      logger,
      request,
      get: (path) => request('GET', path),
      post: (path, body) => request('POST', path, JSON.stringify(body)),
    };
  };
}

/** GET /runs/:id: the run's snapshot (the answer must be a 200). */
export async function runSnapshot(server: ExampleServer, runId: string): Promise<RunSnapshot> {
  const { status, body } = await server.get<RunSnapshot>(`/runs/${runId}`);
  expect(status).toBe(200);
  return body;
}

/** Polls GET /runs/:id until the run has left `started` [waitFor's default deadline]. */
export function finishedRun(server: ExampleServer, runId: string, timeoutMs?: number): Promise<RunSnapshot> {
  return waitFor(
    async () => {
      const body = await runSnapshot(server, runId);
      return body.status === 'started' ? undefined : body;
    },
    { ...(timeoutMs === undefined ? {} : { timeoutMs }), description: `run ${runId} to finish` },
  );
}
