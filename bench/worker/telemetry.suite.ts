/**
 * What the OpenTelemetry hooks cost a task attempt (issue 14): the worker calls startTaskAttempt()
 * when it starts a task and end() when the task settles, and FlowClient calls startRunSpan() per run
 * started. Measured in this process, without the database: the hooks with @opentelemetry/api loaded
 * and no provider registered (what every application with the package installed but no SDK pays),
 * then with a tracer and a meter provider (spans to a no-op processor, metrics aggregated in memory),
 * interleaved rounds. The worker's own CPU per task (bench:worker, 21-37 µs on an idle machine) is
 * the scale to read the figures against.
 */
import { metrics, trace } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  loadTelemetry,
  startRunSpan,
  startTaskAttempt,
  tracingActive,
} from '../../libs/pgflow/src/telemetry/pgflow-telemetry.ts';
import type { ClaimedTask } from '../../libs/pgflow/src/worker/task-execution.ts';
import { spread } from '../support/measure.ts';
import { formatNumber, table } from '../support/results.ts';
import type { BenchContext, BenchSuite } from '../support/suite.ts';

const OUTCOME = { kind: 'completed', output: null } as const;

function task(i: number): ClaimedTask {
  return {
    run_id: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
    step_slug: 'step',
    task_index: i,
    msg_id: String(i),
    input: null,
    flow_input: null,
    attempt: 1,
    timeout_seconds: 60,
  };
}

/**
 * CPU nanoseconds per task attempt of the hooks (a run span, the attempt's start and end, and the
 * tracing check): CPU time, not the wall clock, which on a shared machine also counts other work.
 */
function nanosPerTask(tasks: number): number {
  const claimed = Array.from({ length: tasks }, (_, i) => task(i));
  const started = process.cpuUsage();
  for (const item of claimed) {
    if (tracingActive()) startRunSpan('bench_flow')?.end(item.run_id);
    const attempt = startTaskAttempt('bench_flow', item, null);
    attempt?.run(() => undefined);
    attempt?.end(OUTCOME);
  }
  const used = process.cpuUsage(started);
  return ((used.user + used.system) * 1000) / tasks;
}

export const telemetrySuite: BenchSuite = {
  name: 'telemetry',
  summary: 'the OpenTelemetry hooks per task attempt, without and with providers',
  async run(context: BenchContext): Promise<string> {
    await loadTelemetry();
    const tasks = context.quick ? 20_000 : 200_000;
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new NoopSpanProcessor()] });
    const meterProvider = new MeterProvider();
    const off: number[] = [];
    const on: number[] = [];
    nanosPerTask(tasks); // warm-up
    for (let round = 1; round <= context.repetitions; round++) {
      trace.disable();
      metrics.disable();
      off.push(nanosPerTask(tasks));
      trace.setGlobalTracerProvider(tracerProvider);
      metrics.setGlobalMeterProvider(meterProvider);
      on.push(nanosPerTask(tasks));
      context.log(
        `  round ${round}: no provider ${formatNumber(off.at(-1) as number)} ns/task, ` +
          `providers ${formatNumber(on.at(-1) as number)} ns/task`,
      );
    }
    trace.disable();
    metrics.disable();
    const row = (label: string, values: number[]) => {
      const { median, min, max } = spread(values);
      return [
        label,
        `${formatNumber(median)} (${formatNumber(min)}–${formatNumber(max)})`,
        `${formatNumber((median / 21_000) * 100, 2)}%`,
      ];
    };
    return [
      '## Telemetry hooks (issue 14)',
      '',
      `${context.repetitions} rounds of ${formatNumber(tasks)} task attempts each, interleaved, in one process without ` +
        'the database: the hooks the worker and FlowClient call per task (tracing check, run span when tracing, ' +
        'attempt start, handler wrapper, attempt end with its metrics), with @opentelemetry/api loaded.',
      '',
      table(
        ['providers registered', 'CPU ns per task attempt, median (min–max)', 'share of 21 µs worker CPU per task'],
        [row('none (the API only)', off), row('tracer (no-op processor) and meter', on)],
      ),
    ].join('\n');
  },
};
