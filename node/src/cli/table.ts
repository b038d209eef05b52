// Renders rows as an aligned text table with a border, like `etcdctl -w table`.
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  const fmt = (cells: readonly string[]): string =>
    '|' + widths.map((w, i) => ' ' + (cells[i] ?? '').padEnd(w) + ' ').join('|') + '|';
  return [line, fmt(header), line, ...rows.map(fmt), line].join('\n');
}
