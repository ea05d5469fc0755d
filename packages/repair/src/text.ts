import { createHash } from 'node:crypto';

/** A file's text split into lines, with the line ending and final newline it used. */
export interface SplitText {
  lines: string[];
  eol: '\n' | '\r\n';
  trailingNewline: boolean;
}

/** Splits a text into lines; a final newline does not open an extra line. */
export function splitLines(text: string): SplitText {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  const trailingNewline = text.endsWith('\n');
  if (trailingNewline) lines.pop();
  return { lines, eol, trailingNewline };
}

/** The inverse of `splitLines`. */
export function joinLines({ lines, eol, trailingNewline }: SplitText): string {
  const body = lines.join(eol);
  return trailingNewline && lines.length > 0 ? body + eol : body;
}

/** One changed region between two line lists: `aCount` old lines from `aStart` became `bCount` new lines from `bStart` (1-based). */
export interface LineHunk {
  aStart: number;
  aCount: number;
  bStart: number;
  bCount: number;
}

// Above this many cells the middle section is reported as one hunk instead of running the quadratic LCS.
const LCS_CELL_BUDGET = 4_000_000;

/** The changed regions between two line lists (common prefix/suffix trimmed, LCS on the rest). */
export function diffLineHunks(a: readonly string[], b: readonly string[]): LineHunk[] {
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (
    suffix < a.length - prefix &&
    suffix < b.length - prefix &&
    a[a.length - 1 - suffix] === b[b.length - 1 - suffix]
  ) {
    suffix++;
  }
  const midA = a.slice(prefix, a.length - suffix);
  const midB = b.slice(prefix, b.length - suffix);
  if (midA.length === 0 && midB.length === 0) return [];
  if (midA.length === 0 || midB.length === 0 || midA.length * midB.length > LCS_CELL_BUDGET) {
    return [{ aStart: prefix + 1, aCount: midA.length, bStart: prefix + 1, bCount: midB.length }];
  }
  const n = midA.length;
  const m = midB.length;
  // lcs[i][j] = LCS length of midA[i..] and midB[j..], stored flat.
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] =
        midA[i] === midB[j]
          ? (lcs[(i + 1) * (m + 1) + j + 1] ?? 0) + 1
          : Math.max(lcs[(i + 1) * (m + 1) + j] ?? 0, lcs[i * (m + 1) + j + 1] ?? 0);
    }
  }
  const hunks: LineHunk[] = [];
  let open: LineHunk | undefined;
  const close = () => {
    if (open !== undefined) hunks.push(open);
    open = undefined;
  };
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && midA[i] === midB[j]) {
      close();
      i++;
      j++;
      continue;
    }
    open ??= { aStart: prefix + i + 1, aCount: 0, bStart: prefix + j + 1, bCount: 0 };
    const down = i < n ? (lcs[(i + 1) * (m + 1) + j] ?? 0) : -1;
    const right = j < m ? (lcs[i * (m + 1) + j + 1] ?? 0) : -1;
    if (down >= right) {
      open.aCount++;
      i++;
    } else {
      open.bCount++;
      j++;
    }
  }
  close();
  return hunks;
}

const CONTEXT_LINES = 3;

/** A unified diff of one file (`a/` and `b/` prefixes, three lines of context); empty when nothing changed. */
export function unifiedDiff(path: string, before: string, after: string): string {
  const a = splitLines(before).lines;
  const b = splitLines(after).lines;
  const hunks = diffLineHunks(a, b);
  if (hunks.length === 0) return '';
  // Hunks whose context would touch are printed as one block.
  const groups: LineHunk[][] = [];
  for (const hunk of hunks) {
    const group = groups.at(-1);
    const last = group?.at(-1);
    if (group !== undefined && last !== undefined && hunk.aStart - (last.aStart + last.aCount) <= 2 * CONTEXT_LINES) {
      group.push(hunk);
    } else {
      groups.push([hunk]);
    }
  }
  const out = [`--- a/${path}`, `+++ b/${path}`];
  for (const group of groups) {
    const first = group[0];
    const last = group.at(-1);
    if (first === undefined || last === undefined) continue;
    const aFrom = Math.max(1, first.aStart - CONTEXT_LINES);
    const aTo = Math.min(a.length, last.aStart + last.aCount - 1 + CONTEXT_LINES);
    const body: string[] = [];
    let aLine = aFrom;
    let bCount = 0;
    for (const hunk of group) {
      for (; aLine < hunk.aStart; aLine++) {
        body.push(` ${a[aLine - 1] ?? ''}`);
        bCount++;
      }
      for (let k = 0; k < hunk.aCount; k++) body.push(`-${a[hunk.aStart - 1 + k] ?? ''}`);
      for (let k = 0; k < hunk.bCount; k++) body.push(`+${b[hunk.bStart - 1 + k] ?? ''}`);
      bCount += hunk.bCount;
      aLine = hunk.aStart + hunk.aCount;
    }
    for (; aLine <= aTo; aLine++) {
      body.push(` ${a[aLine - 1] ?? ''}`);
      bCount++;
    }
    const aCount = aTo - aFrom + 1;
    const bFrom = aFrom + (first.bStart - first.aStart);
    out.push(`@@ -${range(aFrom, aCount)} +${range(bCount === 0 ? bFrom - 1 : bFrom, bCount)} @@`, ...body);
  }
  return `${out.join('\n')}\n`;
}

function range(start: number, count: number): string {
  return count === 1 ? `${start}` : `${start},${count}`;
}

/** A short stable hex digest of a JSON-serializable value. */
export function stableHash(value: unknown, length = 16): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, length);
}
