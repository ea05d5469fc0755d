/** A fenced code block whose fence is longer than any backtick run inside `code`, so the content cannot close it. */
export function codeBlock(code: string, language = ''): string {
  const longestRun = Math.max(0, ...[...code.matchAll(/`+/g)].map((match) => match[0].length));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  const body = code.endsWith('\n') ? code : `${code}\n`;
  return `${fence}${language}\n${body}${fence}`;
}

/** Inline code that survives backticks inside `text`. */
export function inlineCode(text: string): string {
  const single = text.replace(/\r?\n/g, ' ');
  const longestRun = Math.max(0, ...[...single.matchAll(/`+/g)].map((match) => match[0].length));
  const ticks = '`'.repeat(longestRun + 1);
  const pad = single.startsWith('`') || single.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${single}${pad}${ticks}`;
}

/** Text for one table cell: no line breaks, pipes escaped, at most `max` characters. */
export function cell(text: string, max = 200): string {
  const flat = text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** A markdown table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Keeps at most `maxChars` characters of whole lines (or a cut first line) and says how many lines were left out. */
export function truncateLines(text: string, maxChars: number): { text: string; omittedLines: number; truncated: boolean } {
  if (text.length <= maxChars) return { text, omittedLines: 0, truncated: false };
  const lines = text.split('\n');
  const kept: string[] = [];
  let size = 0;
  for (const line of lines) {
    if (size + line.length + 1 > maxChars) break;
    kept.push(line);
    size += line.length + 1;
  }
  if (kept.length === 0) kept.push(`${lines[0]?.slice(0, Math.max(0, maxChars - 1)) ?? ''}…`);
  return { text: kept.join('\n'), omittedLines: lines.length - kept.length, truncated: true };
}

/** Renders argv as one shell command line a reader can paste. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map((arg) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(' ');
}
