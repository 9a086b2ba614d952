/**
 * A real Nest HTTP application with the dashboard mounted at /pgflow (no worker), on a benchmark
 * database, listening on a free port of 127.0.0.1: what the dashboard benchmark requests.
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PgflowDashboardModule, PgflowModule } from 'nestjs-pgflow';
import type { BenchDatabase } from '../support/server.ts';

export interface DashboardBenchApp {
  /** http://127.0.0.1:<port>/pgflow */
  readonly url: string;
  close(): Promise<void>;
}

export async function startDashboardBenchApp(database: BenchDatabase): Promise<DashboardBenchApp> {
  class DashboardBenchModule {}
  const app: INestApplication = await NestFactory.create(
    {
      module: DashboardBenchModule,
      imports: [
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: database.url,
          autoLoadEntities: true,
          extra: { max: 10, application_name: 'pgflow bench dashboard' },
        }),
        PgflowModule.forRoot({ worker: { enabled: false } }),
        PgflowDashboardModule.forRoot(),
      ],
    },
    { logger: ['error', 'warn'] },
  );
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { url: `http://127.0.0.1:${port}/pgflow`, close: () => app.close() };
}
