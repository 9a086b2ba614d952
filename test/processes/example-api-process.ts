/**
 * The example application (apps/example's AppModule) serving HTTP in a child process, as a
 * deployment runs it: `NestFactory.create`, `enableShutdownHooks()` (SIGTERM closes it gracefully),
 * `listen`. It prints `listening on <port>` once it serves. Its worker serves check_links only, so
 * that a run of analyze_website stays pending: what a shutdown test needs.
 *
 * Environment: DATABASE_URL (required, a migrated database).
 */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from '../../apps/example/src/app.module.ts';

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error('example-api-process: set DATABASE_URL to a migrated database.');

const app = await NestFactory.create<NestExpressApplication>(
  AppModule.forRoot({
    databaseUrl,
    migrationsRun: false,
    worker: { flows: ['check_links'], pollIntervalMs: 10, maxPollSeconds: 1, heartbeatIntervalMs: 250 },
  }),
  { logger: ['error', 'warn'] },
);
app.enableShutdownHooks();
await app.listen(0, '127.0.0.1');
process.stdout.write(`listening on ${(app.getHttpServer().address() as AddressInfo).port}\n`);
