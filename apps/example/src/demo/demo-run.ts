import type { INestApplicationContext } from '@nestjs/common';
import { FlowClient, PgflowErrorCode, type RunSnapshot } from 'nestjs-pgflow';
import { AnalyzeWebsiteFlow, type AnalyzeWebsiteInput, type SavedReport } from '../flows/analyze-website.flow.ts';
import type { Summary } from '../services/summarizer.service.ts';
import { ProgressPrinter } from './progress-printer.ts';

/** The page the demo analyzes. */
export const DEMO_INPUT: AnalyzeWebsiteInput = { url: 'https://example.com/docs' };

/** How long the demo watches its run before giving up on it (the run goes on). */
const DEMO_TIMEOUT_MS = 60_000;

export interface DemoOutcome {
  readonly runId: string;
  readonly status: 'completed' | 'failed' | 'not finished';
}

/**
 * `npm start`'s demo: starts one run of analyze_website, prints its progress as the events arrive
 * (`run.on('*')`), then a summary of its output, and last a line saying how it ended:
 * `run <id> completed in <N> ms` (or `failed`). Stops watching when `signal` aborts.
 */
export async function runDemo(
  app: INestApplicationContext,
  print: (line: string) => void,
  signal?: AbortSignal,
): Promise<DemoOutcome> {
  const client = app.get(FlowClient);
  const startedAt = Date.now();
  const run = await client.start(AnalyzeWebsiteFlow, DEMO_INPUT);
  const printer = new ProgressPrinter(print, startedAt);
  const unsubscribe = run.on('*', (event) => printer.onEvent(event));
  try {
    await unsubscribe.subscribed;
    // The end comes from wait(): it resolves after the events that led to it were delivered.
    const ended = await run.wait({ timeoutMs: DEMO_TIMEOUT_MS, ...(signal ? { signal } : {}) }).then(
      () => true,
      (error: unknown) => {
        if ((error as { code?: unknown })?.code === PgflowErrorCode.RunFailed) return true;
        if (signal?.aborted) return false;
        if ((error as { code?: unknown })?.code !== PgflowErrorCode.WaitTimeout) throw error;
        print(`run ${run.runId} still running after ${DEMO_TIMEOUT_MS} ms; see GET /runs/${run.runId}`);
        return false;
      },
    );
    if (!ended) return { runId: run.runId, status: 'not finished' };

    const snapshot = await client.getRun(run.runId);
    for (const line of summarize(snapshot)) print(line);
    const endedAt = snapshot.completedAt ?? snapshot.failedAt ?? new Date();
    const total = endedAt.getTime() - snapshot.startedAt.getTime();
    if (snapshot.status === 'completed') {
      print(`run ${run.runId} completed in ${total} ms`);
      return { runId: run.runId, status: 'completed' };
    }
    const failed = snapshot.steps.find((step) => step.status === 'failed');
    print(`run ${run.runId} failed in ${total} ms at step ${failed?.stepSlug}: ${failed?.errorMessage}`);
    return { runId: run.runId, status: 'failed' };
  } finally {
    unsubscribe();
  }
}

/** The run's results, for a person: the page, its summary and keywords, the links, the retries. */
function summarize(run: RunSnapshot): string[] {
  const lines: string[] = [''];
  const summary = run.steps.find((step) => step.stepSlug === 'summary')?.output as Summary | null | undefined;
  const saved = (run.output as { save?: SavedReport } | null)?.save;
  if (saved !== undefined) {
    const { ok, broken, external } = saved.links;
    lines.push(`  page      ${saved.title} (${saved.url})`);
    if (summary) lines.push(`  summary   ${summary.text}`);
    lines.push(`  keywords  ${saved.keywords.join(', ')}`);
    lines.push(
      `  links     ${ok} ok, ${broken.length} broken${broken.length > 0 ? ` (${broken.join(', ')})` : ''}, ` +
        `${external} external (not checked: the example stays offline)`,
    );
  }
  const retried = run.steps.flatMap((step) =>
    step.tasks
      .filter((task) => task.attemptsCount > 1)
      .map(
        (task) =>
          `${step.stepSlug}${step.tasks.length > 1 ? ` task ${task.taskIndex}` : ''}: ${task.attemptsCount} attempts`,
      ),
  );
  if (retried.length > 0) lines.push(`  retries   ${retried.join(', ')}`);
  lines.push('');
  return lines;
}
