/**
 * A real Nest application with the library's worker and client, on a benchmark database: what the
 * library benchmarks measure, booted outside the clock.
 */
import 'reflect-metadata';
import type { INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FlowClient, PgflowModule, type PgflowWorkerOptions } from 'nestjs-pgflow';
import type { BenchDatabase } from '../support/server.ts';
import { benchFlows } from './bench-flows.ts';

export interface WorkerApp {
  readonly client: FlowClient;
  /** The Nest application, for its other providers (e.g. the PgflowWorker of a worker started by hand). */
  readonly app: INestApplicationContext;
  close(): Promise<void>;
}

export async function startWorkerApp(
  database: BenchDatabase,
  worker: PgflowWorkerOptions,
  flows: readonly Type[] = benchFlows,
): Promise<WorkerApp> {
  class BenchAppModule {}
  const app: INestApplicationContext = await NestFactory.createApplicationContext(
    {
      module: BenchAppModule,
      imports: [
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: database.url,
          autoLoadEntities: true,
          extra: { max: 20, application_name: 'pgflow bench app' },
        }),
        PgflowModule.forRoot({ worker }),
      ],
      providers: [...flows],
    },
    { logger: ['error', 'warn'] },
  );
  await app.init();
  return { client: app.get(FlowClient), app, close: () => app.close() };
}
