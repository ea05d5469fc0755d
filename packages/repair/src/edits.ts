import { TracemendError, applyFileEdits, editsByFile, type Edit } from '@tracemend/contracts';
import { diffLineHunks, splitLines, type LineHunk } from './text';

/** Repository-relative path → file text. */
export type FileTexts = ReadonlyMap<string, string>;

/**
 * Applies edits of the constrained edit language and returns the new file texts (the input is not changed);
 * each file's edits go through the contracts' `applyFileEdits`, which refuses a `before` that does not match.
 */
export function applyEdits(files: FileTexts, edits: readonly Edit[]): Map<string, string> {
  const result = new Map(files);
  for (const [file, fileEdits] of editsByFile(edits)) {
    const text = files.get(file);
    if (text === undefined) {
      throw new TracemendError('INVALID_INPUT', `edit targets ${file}, which is not among the given files`, { details: { file } });
    }
    result.set(file, applyFileEdits(file, text, fileEdits));
  }
  return result;
}

/** Lines added and removed between two texts, and the changed-line count the size bound uses (per hunk, the larger side). */
export interface LineChange {
  linesAdded: number;
  linesRemoved: number;
  changedLines: number;
}

/** Sums the hunks of a line diff into added, removed and changed lines. */
export function countLineChange(hunks: readonly LineHunk[]): LineChange {
  let linesAdded = 0;
  let linesRemoved = 0;
  let changedLines = 0;
  for (const hunk of hunks) {
    linesAdded += hunk.bCount;
    linesRemoved += hunk.aCount;
    changedLines += Math.max(hunk.aCount, hunk.bCount);
  }
  return { linesAdded, linesRemoved, changedLines };
}

/**
 * The edits that turn `before` into `after` for one file: one per changed hunk. Pure insertions take
 * the neighbouring line into their range, because an edit always replaces at least one line.
 */
export function editsBetween(file: string, before: string, after: string): Edit[] {
  const a = splitLines(before).lines;
  const b = splitLines(after).lines;
  const widened: LineHunk[] = [];
  for (const hunk of diffLineHunks(a, b)) {
    let { aStart, aCount, bStart, bCount } = hunk;
    if (aCount === 0 || bCount === 0) {
      // Widen by one unchanged neighbour: the next line, or the previous one at the end of the file.
      if (aStart > a.length) {
        aStart--;
        bStart--;
      }
      aCount++;
      bCount++;
    }
    const previous = widened.at(-1);
    if (previous !== undefined && aStart < previous.aStart + previous.aCount) {
      // Two widened hunks that took the same neighbour become one.
      previous.aCount = aStart + aCount - previous.aStart;
      previous.bCount = bStart + bCount - previous.bStart;
    } else {
      widened.push({ aStart, aCount, bStart, bCount });
    }
  }
  const edits: Edit[] = widened.map(({ aStart, aCount, bStart, bCount }) => ({
    file,
    startLine: aStart,
    endLine: aStart + aCount - 1,
    before: a.slice(aStart - 1, aStart - 1 + aCount).join('\n'),
    after: b.slice(bStart - 1, bStart - 1 + bCount).join('\n'),
  }));
  return edits;
}
