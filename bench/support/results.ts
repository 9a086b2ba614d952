/**
 * bench/RESULTS.md: one section per suite, between `<!-- bench:<name> -->` and
 * `<!-- /bench:<name> -->`, replaced by the suite's next recorded run and left alone by the others.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../tools/local-postgres.ts';
import type { ServerFacts } from './server.ts';

export const RESULTS_FILE = join(projectRoot(), 'bench', 'RESULTS.md');

const HEADER = `# Benchmark results

Recorded by \`npm run bench\` (see bench/main.ts); each suite rewrites its own section. Figures are
for comparing within one section: ratios of variants measured in the same run, on the same server,
interleaved, in fresh databases. The peers section needs the peer comparison's own packages, which
\`npm install\` leaves out: \`npm run bench:peers:install\` once, then \`npm run bench -- peers\`.
`;

export async function writeSection(suite: string, markdown: string): Promise<void> {
  const begin = `<!-- bench:${suite} -->`;
  const end = `<!-- /bench:${suite} -->`;
  const block = `${begin}\n${markdown.trim()}\n${end}`;
  const current = existsSync(RESULTS_FILE) ? await readFile(RESULTS_FILE, 'utf8') : HEADER;
  const from = current.indexOf(begin);
  const to = current.indexOf(end);
  const next =
    from >= 0 && to > from
      ? `${current.slice(0, from)}${block}${current.slice(to + end.length)}`
      : `${current.trimEnd()}\n\n${block}\n`;
  await writeFile(RESULTS_FILE, next);
}

/** Facts measured while the benchmark ran. */
export interface RunFacts {
  /** 8 kB write + fdatasync per second, measured right after the suite (support/fsync.ts). */
  readonly fsyncPerSecond?: number;
  /** Seconds the suite took. */
  readonly seconds?: number;
}

/** The facts a reader needs to weigh the figures: machine, server, date, command. */
export function machineFacts(server: ServerFacts, command: string, run: RunFacts = {}): string {
  const cpu = cpus();
  const gib = (totalmem() / 1024 ** 3).toFixed(1);
  const s = server.settings;
  return [
    `- Date: ${new Date().toISOString()}; command: \`${command}\``,
    `- Machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), ${gib} GiB memory, Node.js ${process.version}; ` +
      `load average when the suite ended (1/5/15 min): ${loadavg()
        .map((load) => load.toFixed(1))
        .join(' / ')} (other work on the machine competes for its cores and disk)` +
      (run.fsyncPerSecond === undefined
        ? ''
        : `; disk flush rate right after the suite: ${formatNumber(run.fsyncPerSecond)} fdatasync/s (8 kB writes)`) +
      (run.seconds === undefined ? '' : `; the suite took ${formatNumber(run.seconds)} s`),
    `- PostgreSQL ${server.version} (${server.source === 'embedded' ? 'embedded' : 'DATABASE_URL'}); fsync=${s.fsync}, ` +
      `synchronous_commit=${s.synchronous_commit}, full_page_writes=${s.full_page_writes}, ` +
      `shared_buffers=${s.shared_buffers}, jit=${s.jit}` +
      (s.shared_preload_libraries ? `, shared_preload_libraries=${s.shared_preload_libraries}` : ''),
  ].join('\n');
}

/**
 * A Markdown table, its columns padded the way the repository's formatter (Biome) lays them out,
 * so that the recorded file passes `npm run check`. Numbers are the caller's to format.
 */
export function table(headings: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const width = (text: string) => [...text].length;
  const widths = headings.map((_, column) =>
    Math.max(3, ...[headings, ...rows].map((row) => width(row[column] ?? ''))),
  );
  const pad = (text: string, to: number) => text + ' '.repeat(to - width(text));
  const line = (cells: readonly string[]) =>
    `| ${widths.map((w, column) => pad(cells[column] ?? '', w)).join(' | ')} |`;
  return [line(headings), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

/** A column of a table built from row specifications: its heading, and how a row makes its cell. */
export interface Column<R> {
  readonly heading: string;
  readonly cell: (row: R) => string;
}

/** A Markdown table (see table()) with one line per row specification and one cell per column. */
export function tableOf<R>(columns: ReadonlyArray<Column<R>>, rows: readonly R[]): string {
  return table(
    columns.map((column) => column.heading),
    rows.map((row) => columns.map((column) => column.cell(row))),
  );
}

export function formatNumber(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
