/** Plain-text tables with padded columns (pure). */

export interface Column<R> {
  header: string;
  value: (row: R) => string;
  /** Right-align (numbers). */
  right?: boolean;
}

/** Display width of a string: ANSI escapes take none. */
export function displayWidth(s: string): number {
  // eslint-disable-next-line no-control-regex
  return [...s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')].length;
}

export function pad(s: string, width: number, right = false): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(s)));
  return right ? fill + s : s + fill;
}

/** Render rows under headers, columns separated by three spaces; no trailing spaces. */
export function renderTable<R>(rows: R[], columns: Column<R>[]): string {
  const cells = rows.map((r) => columns.map((c) => c.value(r)));
  const widths = columns.map((c, i) => Math.max(displayWidth(c.header), ...cells.map((row) => displayWidth(row[i]!))));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 && !columns[i]!.right ? v : pad(v, widths[i]!, columns[i]!.right)))
      .join('   ')
      .replace(/\s+$/, '');
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}
