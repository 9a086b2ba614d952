/**
 * OpenTelemetry for runs and tasks, through `@opentelemetry/api` only (an optional peer dependency,
 * loaded once with a dynamic import: the library works without it). With a tracer provider registered:
 * a span per run start (`pgflow.run <flow>`, a child of the span active at start()) whose W3C
 * traceparent is stored on the run, and a span per task attempt (`pgflow.task <flow>.<step>`), a
 * child of its run's span in whichever process the worker runs. Metrics go to the global meter
 * provider: tasks started, completed and failed (counters by flow and step), task duration
 * (histogram, seconds) and queue depth (gauge, visible messages per served flow). Without the package
 * a task costs one check; without providers, a look at the global tracer and meter providers.
 */
import type * as Otel from '@opentelemetry/api';
import type { ClaimedTask } from '../worker/task-execution.ts';
import type { TaskOutcome } from '../worker/task-outcome.ts';

const INSTRUMENTATION = 'nestjs-pgflow';
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

let api: typeof Otel | undefined;
let loading: Promise<void> | undefined;

/** Loads @opentelemetry/api once if it is installed; resolves either way. */
export function loadTelemetry(): Promise<void> {
  loading ??= import('@opentelemetry/api').then(
    (module) => {
      api = module;
    },
    () => undefined,
  );
  return loading;
}

/** The tracer of the registered tracer provider, or undefined when none is registered. */
function activeTracer(): Otel.Tracer | undefined {
  if (api === undefined) return undefined;
  const provider = api.trace.getTracerProvider();
  return provider instanceof api.ProxyTracerProvider
    ? provider.getDelegateTracer(INSTRUMENTATION)
    : provider.getTracer(INSTRUMENTATION);
}

/** Whether task spans will be recorded (a tracer provider is registered): then trace contexts are worth reading. */
export function tracingActive(): boolean {
  return activeTracer() !== undefined;
}

/** The span of one run's start, while the start runs. */
export interface RunStartSpan {
  /** The W3C traceparent to store on the run. */
  readonly traceparent: string;
  end(runId: string | undefined, error?: unknown): void;
}

/** Starts the span of a run of `flowSlug` under the active span; undefined without a tracer provider. */
export function startRunSpan(flowSlug: string): RunStartSpan | undefined {
  const tracer = activeTracer();
  if (tracer === undefined || api === undefined) return undefined;
  const otel = api;
  const span = tracer.startSpan(`pgflow.run ${flowSlug}`, {
    kind: otel.SpanKind.PRODUCER,
    attributes: { 'pgflow.flow': flowSlug },
  });
  const context = span.spanContext();
  if (!otel.isSpanContextValid(context)) {
    span.end();
    return undefined;
  }
  const flags = (context.traceFlags & 0xff).toString(16).padStart(2, '0');
  return {
    traceparent: `00-${context.traceId}-${context.spanId}-${flags}`,
    end: (runId, error) => {
      if (runId !== undefined) span.setAttribute('pgflow.run_id', runId);
      if (error !== undefined) recordError(otel, span, error);
      span.end();
    },
  };
}

/** The telemetry of one task attempt: `run` runs the handler inside its span; `end` records the outcome. */
export interface TaskAttemptTelemetry {
  run<T>(start: () => T): T;
  end(outcome: TaskOutcome): void;
}

interface Instruments {
  readonly started: Otel.Counter;
  readonly completed: Otel.Counter;
  readonly failed: Otel.Counter;
  readonly duration: Otel.Histogram;
}

/** The global meter provider last seen, and its instruments (null: it is the API's no-op one). */
let instrumented: { provider: Otel.MeterProvider; instruments: Instruments | null } | undefined;

/**
 * The instruments of the current global meter provider (made again if another one was registered),
 * or null when none is registered: then a task records no metric at all.
 */
function currentInstruments(otel: typeof Otel): Instruments | null {
  const provider = otel.metrics.getMeterProvider();
  if (instrumented?.provider === provider) return instrumented.instruments;
  const meter = provider.getMeter(INSTRUMENTATION);
  const noop = meter.constructor === otel.createNoopMeter().constructor;
  instrumented = {
    provider,
    instruments: noop
      ? null
      : {
          started: meter.createCounter('pgflow.tasks.started', { description: 'Task attempts started' }),
          completed: meter.createCounter('pgflow.tasks.completed', { description: 'Task attempts completed' }),
          failed: meter.createCounter('pgflow.tasks.failed', { description: 'Task attempts failed' }),
          duration: meter.createHistogram('pgflow.task.duration', { description: 'Task attempt duration', unit: 's' }),
        },
  };
  return instrumented.instruments;
}

/**
 * Starts the telemetry of a task attempt, its span a child of `traceparent` (its run's span) when
 * given; undefined without the API or without providers.
 */
export function startTaskAttempt(
  flowSlug: string,
  task: ClaimedTask,
  traceparent: string | null | undefined,
): TaskAttemptTelemetry | undefined {
  if (api === undefined) return undefined;
  const otel = api;
  const meters = currentInstruments(otel);
  const tracer = activeTracer();
  if (meters === null && tracer === undefined) return undefined;
  const labels = { 'pgflow.flow': flowSlug, 'pgflow.step': task.step_slug };
  meters?.started.add(1, labels);
  const startedAt = performance.now();
  let span: Otel.Span | undefined;
  let spanContext: Otel.Context | undefined;
  if (tracer !== undefined) {
    const parent = parentContext(otel, traceparent);
    span = tracer.startSpan(
      `pgflow.task ${flowSlug}.${task.step_slug}`,
      {
        kind: otel.SpanKind.CONSUMER,
        attributes: {
          ...labels,
          'pgflow.run_id': task.run_id,
          'pgflow.task_index': task.task_index,
          'pgflow.attempt': task.attempt,
        },
      },
      parent,
    );
    spanContext = otel.trace.setSpan(parent, span);
  }
  return {
    run: (start) => (spanContext === undefined ? start() : otel.context.with(spanContext, start)),
    end: (outcome) => {
      if (meters !== null) {
        meters.duration.record((performance.now() - startedAt) / 1000, { ...labels, 'pgflow.outcome': outcome.kind });
        if (outcome.kind === 'completed') meters.completed.add(1, labels);
        else if (outcome.kind === 'failed') meters.failed.add(1, labels);
      }
      if (span === undefined) return;
      span.setAttribute('pgflow.outcome', outcome.kind);
      if (outcome.kind === 'failed') recordError(otel, span, outcome.error ?? new Error(outcome.errorMessage));
      else if (outcome.kind === 'completed') span.setStatus({ code: otel.SpanStatusCode.OK });
      span.end();
    },
  };
}

/**
 * Reports the queue depth of the flows `depths()` reads, as the gauge `pgflow.queue.depth`, whenever
 * the meter provider collects; returns the function that stops it. Nothing without the API.
 */
export function observeQueueDepth(depths: () => Promise<ReadonlyMap<string, number>>): () => void {
  if (api === undefined) return () => undefined;
  const gauge = api.metrics
    .getMeter(INSTRUMENTATION)
    .createObservableGauge('pgflow.queue.depth', { description: 'Visible messages waiting in a flow queue' });
  const callback: Otel.ObservableCallback = async (result) => {
    try {
      for (const [flow, depth] of await depths()) result.observe(depth, { 'pgflow.flow': flow });
    } catch {
      // No reading this time (the database did not answer); the next collection tries again.
    }
  };
  gauge.addCallback(callback);
  return () => gauge.removeCallback(callback);
}

function parentContext(otel: typeof Otel, traceparent: string | null | undefined): Otel.Context {
  const match = traceparent ? TRACEPARENT.exec(traceparent) : null;
  if (match === null) return otel.ROOT_CONTEXT;
  return otel.trace.setSpanContext(otel.ROOT_CONTEXT, {
    traceId: match[2] as string,
    spanId: match[3] as string,
    traceFlags: Number.parseInt(match[4] as string, 16),
    isRemote: true,
  });
}

function recordError(otel: typeof Otel, span: Otel.Span, error: unknown): void {
  const exception = error instanceof Error ? error : new Error(String(error));
  span.recordException(exception);
  span.setStatus({ code: otel.SpanStatusCode.ERROR, message: exception.message });
}
