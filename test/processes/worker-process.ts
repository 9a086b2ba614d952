/**
 * A worker deployment for the reliability tests, run as a real child process:
 * `node .build/test/processes/worker-process.js`. A Nest application context with TypeORM on
 * DATABASE_URL and PgflowModule serving the fanout flow, with shutdown hooks (SIGTERM closes it
 * gracefully). It writes one JSON object per line on stdout: every log line
 * (`{"type":"log","level":...}`), then `{"type":"ready","pid":...}` once the worker polls, or
 * `{"type":"boot-failed",...}` (exit code 1) when the application refuses to start.
 *
 * Environment: DATABASE_URL (required); RELIABILITY_WORKER (a label, stored with executions);
 * RELIABILITY_FLOW (`fanout` [default], `changed`, `patient`, the versions `order_v1`, `order_v2`
 * of versioned-flows.ts, `scheduled`, scheduled-flows.ts, `subflows`, subflow-flows.ts, or
 * `concurrency`, the three flows of concurrency-flows.ts); RELIABILITY_GATE_FILE (order_v1's handlers wait for this file);
 * RELIABILITY_DELAY_MS (`min-max`, the handlers' duration [0-0]); PGFLOW_MAX_CONCURRENT, PGFLOW_BATCH_SIZE, PGFLOW_VISIBILITY_TIMEOUT,
 * PGFLOW_HEARTBEAT_MS, PGFLOW_SHUTDOWN_TIMEOUT_MS, PGFLOW_POLL_INTERVAL_MS, PGFLOW_MAX_POLL_SECONDS;
 * RELIABILITY_TRACE_SPANS=1: an OpenTelemetry tracer provider writes each finished span as a line
 * `{"type":"span",...}` (with RELIABILITY_FLOW `traced_chain`, traced-flows.ts). RELIABILITY_FLOW `soak`
 * serves the five flows of soak-flows.ts; RELIABILITY_RETENTION_SECONDS (optional) keeps ended runs
 * that long (the `retention` option, applied every RELIABILITY_RETENTION_INTERVAL_MS [10000]);
 * RELIABILITY_MEMORY_MS: every that many ms, a line `{"type":"memory","rssMb":...,"heapUsedMb":...}`.
 */
import 'reflect-metadata';
import { type LoggerService, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PgflowModule, type PgflowWorkerOptions } from 'nestjs-pgflow';
import { CONCURRENCY_FLOWS } from './concurrency-flows.ts';
import {
  ChangedFanoutFlow,
  ExecutionLog,
  FanoutFlow,
  HANDLER_BEHAVIOUR,
  type HandlerBehaviour,
  PatientFanoutFlow,
} from './reliability-flows.ts';
import { EverySecondFlow } from './scheduled-flows.ts';
import { SOAK_FLOWS } from './soak-flows.ts';
import { SubflowChildFlow, SubflowParentFlow } from './subflow-flows.ts';
import { exportSpansTo, TracedChainFlow } from './traced-flows.ts';
import { OrderV1Flow, OrderV2Flow } from './versioned-flows.ts';

function emit(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ...line, pid: process.pid, at: Date.now() })}\n`);
}

/** Nest's logger, as JSON lines the test parses (level, context, message, stack). */
class JsonLinesLogger implements LoggerService {
  log(message: unknown, ...rest: unknown[]): void {
    this.write('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(level: string, message: unknown, rest: unknown[]): void {
    const context = rest.length > 0 ? rest[rest.length - 1] : undefined;
    const details = rest.slice(0, -1).map(String);
    emit({ type: 'log', level, context, message: String(message), details });
  }
}

function integer(name: string): number | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : Number(value);
}

function delayRange(): [number, number] {
  const [min = 0, max = min] = (process.env.RELIABILITY_DELAY_MS ?? '0').split('-').map(Number);
  return [min, max];
}

if (process.env.RELIABILITY_TRACE_SPANS === '1') exportSpansTo((line) => emit({ ...line }));

const url = process.env.DATABASE_URL;
if (!url) throw new Error('worker-process: set DATABASE_URL to the database to work on.');

const worker: PgflowWorkerOptions = Object.fromEntries(
  Object.entries({
    maxConcurrent: integer('PGFLOW_MAX_CONCURRENT'),
    batchSize: integer('PGFLOW_BATCH_SIZE'),
    visibilityTimeout: integer('PGFLOW_VISIBILITY_TIMEOUT'),
    heartbeatIntervalMs: integer('PGFLOW_HEARTBEAT_MS'),
    shutdownTimeoutMs: integer('PGFLOW_SHUTDOWN_TIMEOUT_MS'),
    pollIntervalMs: integer('PGFLOW_POLL_INTERVAL_MS'),
    maxPollSeconds: integer('PGFLOW_MAX_POLL_SECONDS'),
    declareDeadAfterMs: integer('PGFLOW_DECLARE_DEAD_AFTER_MS'),
  }).filter(([, value]) => value !== undefined),
);
const retentionSeconds = integer('RELIABILITY_RETENTION_SECONDS');
const retention =
  retentionSeconds === undefined
    ? undefined
    : {
        completedRuns: retentionSeconds / 86_400,
        failedRuns: retentionSeconds / 86_400,
        intervalMs: integer('RELIABILITY_RETENTION_INTERVAL_MS') ?? 10_000,
      };
const flow = process.env.RELIABILITY_FLOW ?? '';
const behaviour: HandlerBehaviour = {
  worker: process.env.RELIABILITY_WORKER ?? `worker-${process.pid}`,
  delayMs: delayRange(),
};

/** The values of RELIABILITY_FLOW that serve several flows; the others serve one. */
const FLOW_SETS: Readonly<Record<string, readonly Type[]>> = { soak: SOAK_FLOWS, concurrency: CONCURRENCY_FLOWS };

@Module({
  imports: [
    TypeOrmModule.forRoot({ type: 'postgres', url, autoLoadEntities: true, retryAttempts: 0 }),
    PgflowModule.forRoot({ worker, ...(retention ? { retention } : {}) }),
  ],
  providers: [
    { provide: HANDLER_BEHAVIOUR, useValue: behaviour },
    ExecutionLog,
    ...(flow === 'subflows' ? [SubflowChildFlow] : []),
    ...(FLOW_SETS[flow] ?? [
      {
        changed: ChangedFanoutFlow,
        patient: PatientFanoutFlow,
        order_v1: OrderV1Flow,
        order_v2: OrderV2Flow,
        scheduled: EverySecondFlow,
        traced_chain: TracedChainFlow,
        subflows: SubflowParentFlow,
      }[flow] ?? FanoutFlow,
    ]),
  ],
})
class WorkerProcessModule {}

process.on('unhandledRejection', (reason) => {
  emit({ type: 'log', level: 'fatal', context: 'unhandledRejection', message: String(reason) });
});

try {
  const app = await NestFactory.createApplicationContext(WorkerProcessModule, {
    logger: new JsonLinesLogger(),
    abortOnError: false,
  });
  app.enableShutdownHooks();
  emit({ type: 'ready' });
  const memoryEveryMs = integer('RELIABILITY_MEMORY_MS');
  if (memoryEveryMs) {
    setInterval(() => {
      const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
      const mb = (bytes: number): number => Math.round(bytes / 104_857.6) / 10;
      emit({
        type: 'memory',
        rssMb: mb(rss),
        heapUsedMb: mb(heapUsed),
        heapTotalMb: mb(heapTotal),
        externalMb: mb(external),
      });
    }, memoryEveryMs).unref();
  }
} catch (error) {
  const { name, message, stack } = error as Error;
  emit({ type: 'boot-failed', name, message, stack });
  // Whatever the failed boot left open (a pool, a listener) must not keep the process alive.
  process.exit(1);
}
