/**
 * nestjs-pgflow: durable DAG workflows for NestJS, inside PostgreSQL. This file is the package's
 * whole public surface.
 */
export { pgflowMigrations } from '../../../migrations/index.ts';
