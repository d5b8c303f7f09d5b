/** Splits one CSV line (RFC 4180 quoting, configurable separator). */
export function parseCsvLine(line: string, sep = ','): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Rows of a CSV file with a header line, as objects keyed by column name. */
export function parseCsv(text: string, sep = ','): Record<string, string>[] {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  const header = parseCsvLine(lines[0] ?? '', sep);
  return lines.slice(1).map((l) => {
    const cells = parseCsvLine(l, sep);
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
  });
}
