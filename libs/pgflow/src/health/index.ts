/**
 * `nestjs-pgflow/health`: the @nestjs/terminus health indicator, in an entry of its own so that the
 * package's main entry works without @nestjs/terminus installed (an optional peer dependency).
 */
export { PgflowHealthIndicator } from './pgflow-health.indicator.ts';
