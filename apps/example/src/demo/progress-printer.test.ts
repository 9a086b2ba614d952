import type { RunEvent } from 'nestjs-pgflow';
import { formatOffset, ProgressPrinter } from './progress-printer.ts';

const base = { run_id: 'r1', flow_slug: 'analyze_website', status: 'x', at: '2026-01-01T00:00:00.000Z' } as const;

function printed(events: RunEvent[]): string[] {
  const lines: string[] = [];
  let now = 1_000;
  const printer = new ProgressPrinter(
    (line) => lines.push(line),
    1_000,
    () => now,
  );
  for (const event of events) {
    now += 12;
    printer.onEvent(event);
  }
  return lines;
}

describe('ProgressPrinter', () => {
  it('prints one line per event with the time since the start, and nothing for the end of the run', () => {
    expect(
      printed([
        { ...base, event_type: 'run:started' },
        { ...base, event_type: 'step:started', step_slug: 'website' },
        { ...base, event_type: 'step:completed', step_slug: 'keywords', output: ['a', 'b'] },
        { ...base, event_type: 'step:skipped', step_slug: 'extra', skip_reason: 'condition_unmet' },
        { ...base, event_type: 'step:failed', step_slug: 'save', error_message: 'disk full' },
        { ...base, event_type: 'run:completed' },
        { ...base, event_type: 'run:failed' },
      ]),
    ).toEqual([
      '+   12 ms  run r1 of analyze_website started',
      '+   24 ms  step website started',
      '+   36 ms  step keywords completed: ["a","b"]',
      '+   48 ms  step extra skipped (condition_unmet)',
      '+   60 ms  step save failed: disk full',
    ]);
  });

  it('prints a failed attempt with the delay before the retry, naming the task of a map step', () => {
    const retrying = {
      ...base,
      event_type: 'task:retrying',
      step_slug: 'link',
      attempt: 1,
      error_message: 'Error: busy',
      retry_at: '2026-01-01T00:00:01.500Z',
    } as const;
    expect(
      printed([
        { ...retrying, task_index: 0 },
        { ...retrying, task_index: 3 },
      ]),
    ).toEqual([
      '+   12 ms  step link attempt 1 failed: Error: busy; retry in 1500 ms',
      '+   24 ms  step link task 3 attempt 1 failed: Error: busy; retry in 1500 ms',
    ]);
  });

  it('cuts long outputs to one line, counting the items of an array', () => {
    const long = Array.from({ length: 30 }, (_, index) => `https://example.com/page/${index}`);
    const [arrayLine] = printed([{ ...base, event_type: 'step:completed', step_slug: 'links', output: long }]);
    expect(arrayLine).toMatch(
      /^\+ {3}12 ms {2}step links completed: 30 items: \["https:\/\/example\.com\/page\/0",.*…$/,
    );
    expect(arrayLine?.length).toBeLessThan(140);
    const [omitted] = printed([{ ...base, event_type: 'step:completed', step_slug: 'big', output_omitted: true }]);
    expect(omitted).toBe('+   12 ms  step big completed: (output too large to show)');
  });

  it('right-aligns offsets', () => {
    expect(formatOffset(5)).toBe('+    5 ms');
    expect(formatOffset(12_345.6)).toBe('+12346 ms');
    expect(formatOffset(-3)).toBe('+    0 ms');
  });
});
