-- The fallback's schema. Its comment is how tools and humans tell the fallback from the real
-- extension (see the README's "which implementation" query and migrations/queue-layer/detect.ts).
create schema pgmq;

comment on schema pgmq is 'pgflow fallback: the pgmq 1.5 SQL API implemented in plain SQL and PL/pgSQL (no extension), installed by the nestjs-pgflow migration QueueLayer1764150000000. Removed by reverting that migration.';
