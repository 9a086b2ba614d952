/**
 * Measurements, never assertions: the reliability tests append what they measured (recovery times,
 * throughput) to .tmp/reliability/figures.jsonl, one JSON object per line, for docs/RELIABILITY.md.
 * Read them with `cat .tmp/reliability/figures.jsonl`.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../../tools/local-postgres.ts';

export function recordFigure(figure: string, value: number, unit: string, details: Record<string, unknown> = {}): void {
  const folder = join(projectRoot(), '.tmp', 'reliability');
  mkdirSync(folder, { recursive: true });
  const server = process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded';
  const line = { figure, value: Math.round(value * 100) / 100, unit, server, ...details, at: new Date().toISOString() };
  appendFileSync(join(folder, 'figures.jsonl'), `${JSON.stringify(line)}\n`);
}
