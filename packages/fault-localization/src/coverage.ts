/** The spectrum key of a line: `file:line`. */
export function lineKey(file: string, line: number): string {
  return `${file}:${line}`;
}

/** Splits a `file:line` key at its last colon (files may contain colons, URLs always do). */
export function parseLineKey(key: string): { file: string; line: number } {
  const colon = key.lastIndexOf(':');
  const line = Number(key.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(line) || line < 1) throw new RangeError(`not a file:line key: ${key}`);
  return { file: key.slice(0, colon), line };
}
