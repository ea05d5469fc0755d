import { TracemendError, type Edit } from '@tracemend/contracts';
import { diffLineHunks, joinLines, splitLines, type LineHunk } from './text';

/** Repository-relative path → file text. */
export type FileTexts = ReadonlyMap<string, string>;

/** The lines an `after` text stands for: the empty string deletes the range. */
function replacementLines(after: string): string[] {
  return after === '' ? [] : after.split(/\r?\n/);
}

/**
 * Applies edits of the constrained edit language and returns the new file texts (the input is not changed).
 * Each edit replaces the inclusive line range `startLine..endLine`; its `before` must equal those lines,
 * so an edit planned against other text is refused rather than applied in the wrong place.
 */
export function applyEdits(files: FileTexts, edits: readonly Edit[]): Map<string, string> {
  const result = new Map(files);
  const byFile = new Map<string, Edit[]>();
  for (const edit of edits) {
    const list = byFile.get(edit.file) ?? [];
    list.push(edit);
    byFile.set(edit.file, list);
  }
  for (const [file, fileEdits] of byFile) {
    const text = files.get(file);
    if (text === undefined) {
      throw new TracemendError('INVALID_INPUT', `edit targets ${file}, which is not among the given files`, {
        details: { file },
      });
    }
    const split = splitLines(text);
    const ordered = [...fileEdits].sort((x, y) => x.startLine - y.startLine);
    for (let k = 1; k < ordered.length; k++) {
      const previous = ordered[k - 1];
      const current = ordered[k];
      if (previous !== undefined && current !== undefined && current.startLine <= previous.endLine) {
        throw new TracemendError(
          'INVALID_INPUT',
          `edits to ${file} overlap: lines ${previous.startLine}-${previous.endLine} and ${current.startLine}-${current.endLine}`,
          { details: { file } },
        );
      }
    }
    for (const edit of ordered) {
      if (edit.endLine < edit.startLine || edit.endLine > split.lines.length) {
        throw new TracemendError(
          'INVALID_INPUT',
          `edit to ${file} names lines ${edit.startLine}-${edit.endLine}, but the file has ${split.lines.length} lines`,
          { details: { file } },
        );
      }
      const current = split.lines.slice(edit.startLine - 1, edit.endLine).join('\n');
      if (current !== edit.before.replace(/\r\n/g, '\n')) {
        throw new TracemendError(
          'INVALID_INPUT',
          `edit to ${file} lines ${edit.startLine}-${edit.endLine}: "before" does not match the file's text there`,
          { details: { file, startLine: edit.startLine, endLine: edit.endLine } },
        );
      }
    }
    const lines = [...split.lines];
    for (const edit of [...ordered].reverse()) {
      lines.splice(edit.startLine - 1, edit.endLine - edit.startLine + 1, ...replacementLines(edit.after));
    }
    result.set(file, joinLines({ ...split, lines }));
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
