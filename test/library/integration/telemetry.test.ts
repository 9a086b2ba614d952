/**
 * OpenTelemetry in one process: without providers nothing is recorded and no trace context is
 * stored; with them, each task attempt has a span (attributes, status, the error recorded) under its
 * run's span, and the task counters, the duration histogram and the queue depth gauge report.
 */
import { context, metrics, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Flow, NonRetryableError, RunFailedError, Step, type StepInput } from 'nestjs-pgflow';
import { useTestDatabase } from '../../support/test-database.ts';
import { waitFor } from '../../support/wait-for.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

@Flow({ slug: 'telemetry_refused', maxAttempts: 3 })
class RefusingFlow {
  @Step()
  check(input: { amount: number }) {
    return { amount: input.amount };
  }

  @Step({ dependsOn: ['check'] })
  charge(input: StepInput<RefusingFlow, 'check'>): never {
    throw new NonRetryableError(`card declined for ${input.check.amount}`);
  }
}

const db = useTestDatabase();
const apps = useApps();

afterAll(() => {
  trace.disable();
  metrics.disable();
  context.disable();
});

async function traceContextOf(runId: string): Promise<string | null> {
  const [row] = await db.query<{ trace_context: string | null }>(
    'select trace_context from pgflow.runs where run_id = $1',
    [runId],
  );
  return row?.trace_context ?? null;
}

it('without providers, a run stores no trace context and records nothing', async () => {
  const { client } = await apps.start({ url: db.url, providers: [RefusingFlow] });
  const run = await client.start(RefusingFlow, { amount: 1 });
  await expect(run.wait({ timeoutMs: 20_000 })).rejects.toBeInstanceOf(RunFailedError);
  expect(await traceContextOf(run.runId)).toBeNull();
});

it('with providers: task spans with attributes and errors under the run span, counters, duration and queue depth', async () => {
  const spans = new InMemorySpanExporter();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
  const reader = new PeriodicExportingMetricReader({
    exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
    exportIntervalMillis: 3_600_000,
  });
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));

  const { client } = await apps.start({ url: db.url, providers: [RefusingFlow] });
  const run = await client.start(RefusingFlow, { amount: 42 });
  await expect(run.wait({ timeoutMs: 20_000 })).rejects.toBeInstanceOf(RunFailedError);

  const finished = await waitFor(() => {
    const taskSpans = spans.getFinishedSpans().filter((span) => span.name.startsWith('pgflow.task'));
    return taskSpans.length >= 2 ? spans.getFinishedSpans() : undefined;
  });
  const runSpan = finished.find((span) => span.name === 'pgflow.run telemetry_refused');
  const check = finished.find((span) => span.name === 'pgflow.task telemetry_refused.check');
  const charge = finished.find((span) => span.name === 'pgflow.task telemetry_refused.charge');
  expect(await traceContextOf(run.runId)).toBe(
    `00-${runSpan?.spanContext().traceId}-${runSpan?.spanContext().spanId}-01`,
  );
  for (const span of [check, charge]) {
    expect(span?.spanContext().traceId).toBe(runSpan?.spanContext().traceId);
    expect(span?.parentSpanContext?.spanId).toBe(runSpan?.spanContext().spanId);
  }
  expect(check?.status).toEqual({ code: SpanStatusCode.OK });
  expect(charge?.attributes).toEqual({
    'pgflow.flow': 'telemetry_refused',
    'pgflow.step': 'charge',
    'pgflow.run_id': run.runId,
    'pgflow.task_index': 0,
    'pgflow.attempt': 1,
    'pgflow.outcome': 'failed',
  });
  expect(charge?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'card declined for 42' });
  expect(charge?.events.map((event) => [event.name, event.attributes?.['exception.message']])).toEqual([
    ['exception', 'card declined for 42'],
  ]);

  const { resourceMetrics } = await reader.collect();
  const byName = new Map<string, MetricData>(
    resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).map((metric) => [metric.descriptor.name, metric]),
  );
  const count = (name: string, step: string) =>
    byName.get(name)?.dataPoints.find((point) => point.attributes['pgflow.step'] === step)?.value;
  expect([count('pgflow.tasks.started', 'check'), count('pgflow.tasks.started', 'charge')]).toEqual([1, 1]);
  expect([count('pgflow.tasks.completed', 'check'), count('pgflow.tasks.completed', 'charge')]).toEqual([1, undefined]);
  expect(count('pgflow.tasks.failed', 'charge')).toBe(1);
  const durations = byName.get('pgflow.task.duration')?.dataPoints ?? [];
  expect(durations.map((point) => point.attributes['pgflow.outcome']).sort()).toEqual(['completed', 'failed']);
  expect(byName.get('pgflow.queue.depth')?.dataPoints).toEqual([
    expect.objectContaining({ attributes: { 'pgflow.flow': 'telemetry_refused' }, value: 0 }),
  ]);
});
