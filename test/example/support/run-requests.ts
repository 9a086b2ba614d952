/**
 * What the example application's HTTP API tests share: its error body, starting a run with
 * POST /runs, and waiting for a run to end.
 */
import type { RunSnapshot } from 'nestjs-pgflow';
import { type ExampleServer, finishedRun } from './example-app.ts';

/** The body of the API's error answers. */
export interface ErrorBody {
  readonly statusCode: number;
  readonly message: string;
  readonly code?: string;
}

/** Polls GET /runs/:id until the run has left `started`. */
export function finished(server: ExampleServer, runId: string): Promise<RunSnapshot> {
  return finishedRun(server, runId, 15_000);
}

/** POST /runs: starts a run of `flow` (the answer must be a 201) and returns its id. */
export async function startRun(server: ExampleServer, flow: string, input: unknown): Promise<string> {
  const { status, body } = await server.post<{ runId: string }>('/runs', { flow, input });
  expect({ status, body }).toEqual({ status: 201, body: { runId: expect.any(String) } });
  return body.runId;
}
