/**
 * The flow and the span export of the tracing test (test/telemetry/cross-process-trace.test.ts):
 * a 3-step chain, and a tracer provider whose finished spans the worker child process writes on
 * stdout as JSON lines (`{"type":"span",...}`), for the test to read.
 */
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Flow, Step, type StepInput } from 'nestjs-pgflow';

export const TRACED_CHAIN_SLUG = 'traced_chain';

/** order → pack → ship, each step using the one before. */
@Flow({ slug: TRACED_CHAIN_SLUG, maxAttempts: 1 })
export class TracedChainFlow {
  @Step()
  order(input: { item: string }) {
    return { item: input.item, ordered: true };
  }

  @Step({ dependsOn: ['order'] })
  pack(input: StepInput<TracedChainFlow, 'order'>) {
    return { item: input.order.item, packed: true };
  }

  @Step({ dependsOn: ['pack'] })
  ship(input: StepInput<TracedChainFlow, 'pack'>) {
    return { shipped: input.pack.item };
  }
}

/** One finished span, as the child process writes it. */
export interface SpanLine {
  readonly type: 'span';
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | null;
  readonly kind: number;
  readonly status: { code: number; message?: string };
  readonly attributes: Record<string, unknown>;
}

/** Registers a tracer provider that hands each finished span to `write`. */
export function exportSpansTo(write: (line: SpanLine) => void): void {
  const processor: SpanProcessor = {
    onStart: () => undefined,
    onEnd: (span: ReadableSpan) =>
      write({
        type: 'span',
        name: span.name,
        traceId: span.spanContext().traceId,
        spanId: span.spanContext().spanId,
        parentSpanId: span.parentSpanContext?.spanId ?? null,
        kind: span.kind,
        status: span.status,
        attributes: { ...span.attributes },
      }),
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [processor] }));
}
