/** Characters of output a check's detail keeps at most. */
export const DETAIL_CHARS = 1_500;

// ANSI colour and cursor sequences: runners colour their output even when asked not to.
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

/** `text` without ANSI colour and cursor sequences. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** The last `maxLines` non-empty lines of `text`, at most `maxChars` characters, without ANSI sequences. */
export function tailLines(text: string, maxLines = 20, maxChars = DETAIL_CHARS): string {
  const lines = stripAnsi(text).split(/\r?\n/).filter((line) => line.trim() !== '');
  const tail = lines.slice(-maxLines).join('\n');
  return tail.length > maxChars ? `…${tail.slice(tail.length - maxChars + 1)}` : tail;
}

/** `text` cut to `maxChars` characters, marking the cut. */
export function bounded(text: string, maxChars = DETAIL_CHARS): string {
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}
