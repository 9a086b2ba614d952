/** How the CLI prints: aligned text tables for people, JSON for scripts (`--json`). */

export type Cell = string | number | boolean | Date | null | undefined;

/** A value as a table cell: dates in ISO form, nothing as '-'. */
export function cellText(value: Cell): string {
  if (value === null || value === undefined || value === '') return '-';
  if (value instanceof Date) return value.toISOString();
  return String(value).replace(/\s+/g, ' ');
}

/** Rows as a text table under a header, each column as wide as its widest cell. */
export function table(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const texts = rows.map((row) => row.map(cellText));
  const widths = header.map((title, column) => Math.max(title.length, ...texts.map((row) => row[column]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...texts.map(line)].join('\n');
}

/** A value as JSON text for scripts (two-space indented, one value per command). */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
