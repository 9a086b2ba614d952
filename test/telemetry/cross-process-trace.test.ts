/**
 * One trace across processes: an HTTP request to a Nest application (its span made by a middleware)
 * starts a 3-step flow that a worker in another process executes; the request span, the run span and
 * the 3 task spans share one trace id, each with the right parent. The application's spans go to an
 * in-memory exporter; the worker process writes its spans on stdout (test/processes/traced-flows.ts).
 */
import type { AddressInfo } from 'node:net';
import { Body, Controller, Module, Post } from '@nestjs/common';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { NextFunction, Request, Response } from 'express';
import { FlowClient } from 'nestjs-pgflow';
import { useApps } from '../library/fixtures/pgflow-app.ts';
import type { SpanLine } from '../processes/traced-flows.ts';
import { useWorkerProcesses } from '../reliability/support/worker-processes.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';

@Controller('orders')
class OrdersController {
  constructor(private readonly client: FlowClient) {}

  @Post()
  async order(@Body() body: { item: string }): Promise<{ runId: string }> {
    const run = await this.client.start('traced_chain', body);
    return { runId: run.runId };
  }
}

@Module({ controllers: [OrdersController] })
class OrdersModule {}

const db = useTestDatabase();
const apps = useApps();
const workers = useWorkerProcesses();
const exporter = new InMemorySpanExporter();
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
});

afterAll(() => {
  trace.disable();
  context.disable();
});

/** The span of each HTTP request, active while Nest handles it. */
function requestSpans(request: Request, response: Response, next: NextFunction): void {
  const span = trace.getTracer('test-http').startSpan(`HTTP ${request.method} ${request.path}`, {
    kind: SpanKind.SERVER,
  });
  response.on('finish', () => span.end());
  context.with(trace.setSpan(context.active(), span), next);
}

it('an HTTP request, the run it starts and the run’s 3 tasks in another process form one trace', async () => {
  const worker = await workers.start({ url: db.url, flow: 'traced_chain', traceSpans: true });
  const { app, client } = await apps.start({
    url: db.url,
    imports: [OrdersModule],
    pgflow: { worker: { enabled: false } },
    init: false,
  });
  app.use(requestSpans);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;

  const response = await fetch(`http://127.0.0.1:${port}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ item: 'lamp' }),
  });
  expect(response.status).toBe(201);
  const { runId } = (await response.json()) as { runId: string };
  expect(await client.wait(runId, { timeoutMs: 30_000 })).toMatchObject({ output: { ship: { shipped: 'lamp' } } });

  const taskSpans = await waitFor(
    () => {
      const spans = worker.lines.filter((line) => line.type === 'span') as unknown as SpanLine[];
      return spans.length >= 3 ? spans : undefined;
    },
    { timeoutMs: 15_000, description: 'the worker process to write its 3 task spans' },
  );
  const requestSpan = await waitFor(() =>
    exporter.getFinishedSpans().find((span) => span.name === 'HTTP POST /orders'),
  );
  const runSpan = exporter.getFinishedSpans().find((span) => span.name === 'pgflow.run traced_chain');
  const traceId = requestSpan.spanContext().traceId;

  expect(runSpan?.spanContext().traceId).toBe(traceId);
  expect(runSpan?.parentSpanContext?.spanId).toBe(requestSpan.spanContext().spanId);
  expect(runSpan?.attributes).toEqual({ 'pgflow.flow': 'traced_chain', 'pgflow.run_id': runId });
  const [row] = await db.query<{ trace_context: string }>('select trace_context from pgflow.runs where run_id = $1', [
    runId,
  ]);
  expect(row?.trace_context).toBe(`00-${traceId}-${runSpan?.spanContext().spanId}-01`);

  expect(taskSpans.map((span) => span.name)).toEqual([
    'pgflow.task traced_chain.order',
    'pgflow.task traced_chain.pack',
    'pgflow.task traced_chain.ship',
  ]);
  for (const [index, span] of taskSpans.entries()) {
    expect(span).toMatchObject({
      traceId,
      parentSpanId: runSpan?.spanContext().spanId,
      kind: SpanKind.CONSUMER,
      status: { code: 1 },
      attributes: {
        'pgflow.flow': 'traced_chain',
        'pgflow.step': ['order', 'pack', 'ship'][index],
        'pgflow.run_id': runId,
        'pgflow.task_index': 0,
        'pgflow.attempt': 1,
        'pgflow.outcome': 'completed',
      },
    });
  }
  expect(new Set(taskSpans.map((span) => span.spanId)).size).toBe(3);
}, 90_000);
