/**
 * The fallback's schema. Its comment is how tools and humans tell the fallback from the real
 * extension (see the README's "which implementation" query and ../queue-layer/detect.ts).
 */
import { literal } from './sql.ts';

/** Every comment the fallback puts on schema pgmq starts with this marker. */
export const FALLBACK_MARKER = 'pgflow fallback';

export const FALLBACK_SCHEMA_COMMENT =
  `${FALLBACK_MARKER}: the pgmq 1.5 SQL API implemented in plain SQL and PL/pgSQL (no extension), ` +
  'installed by the nestjs-pgflow migration QueueLayer1764150000000. Removed by reverting that migration.';

export const createSchema = 'create schema pgmq';

export const commentOnSchema = `comment on schema pgmq is ${literal(FALLBACK_SCHEMA_COMMENT)}`;

/** Everything the fallback created lives in the schema, queues included. */
export const dropSchema = 'drop schema pgmq cascade';
