import { BadRequestException } from '@nestjs/common';
import type { JsonValue } from 'nestjs-pgflow';

/** The body of `POST /runs`. */
export interface StartRunRequest {
  /** The slug or the alias of the flow to run (GET /flows lists them). */
  readonly flow: string;
  /** The run's input. */
  readonly input: JsonValue;
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
  const { flow, input, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw new BadRequestException(
      `Unknown field '${unknown[0]}' in the request body: it has only flow and input, like ${EXAMPLE}.`,
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
  // Express's JSON parser produced it, so it is JSON.
  return { flow, input: input as JsonValue };
}
