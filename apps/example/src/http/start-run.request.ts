import { BadRequestException } from '@nestjs/common';
import type { JsonValue } from 'nestjs-pgflow';

/** The body of `POST /runs`. */
export interface StartRunRequest {
  /** The slug or the alias of the flow to run (GET /flows lists them). */
  readonly flow: string;
  /** The run's input. */
  readonly input: JsonValue;
  /** Optional, an integer from -1000000 to 1000000 [0]: the flow's higher-priority runs get their tasks claimed first. */
  readonly priority?: number;
}

const EXAMPLE = '{ "flow": "analyze_website", "input": { "url": "https://example.com/docs" } }';

/**
 * Reads a `POST /runs` body (already parsed by Express's JSON parser), throwing a 400 that says what
 * is wrong and what a good body looks like.
 */
export function parseStartRunRequest(body: unknown): StartRunRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestException(
      `The request body must be a JSON object like ${EXAMPLE}, sent with Content-Type: application/json.`,
    );
  }
  const { flow, input, priority, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw new BadRequestException(
      `Unknown field '${unknown[0]}' in the request body: it has only flow, input and priority, like ${EXAMPLE}.`,
    );
  }
  if (flow === undefined) throw new BadRequestException(`The request body has no flow: send ${EXAMPLE}.`);
  if (typeof flow !== 'string' || flow.length === 0) {
    throw new BadRequestException(
      `flow must be the slug or the alias of a flow (GET /flows lists them), got ${JSON.stringify(flow)}: send ${EXAMPLE}.`,
    );
  }
  if (input === undefined) {
    throw new BadRequestException(`The request body has no input (the run's input, JSON): send ${EXAMPLE}.`);
  }
  if (
    priority !== undefined &&
    (typeof priority !== 'number' || !Number.isInteger(priority) || priority < -1_000_000 || priority > 1_000_000)
  ) {
    throw new BadRequestException(
      `priority must be an integer from -1000000 to 1000000 (higher runs first; leave it out for 0), got ${JSON.stringify(priority)}.`,
    );
  }
  // Express's JSON parser produced it, so it is JSON.
  return priority === undefined ? { flow, input: input as JsonValue } : { flow, input: input as JsonValue, priority };
}
