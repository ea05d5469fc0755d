import type { Edit } from './pipeline';
import { TracemendError } from './errors';

/**
 * Applies edits of the constrained edit language to one file's text. Each edit replaces the inclusive
 * line range `startLine..endLine` and its `before` must equal those lines exactly, so a plan made
 * against other text is refused instead of landing in the wrong place. An empty `after` deletes the range.
 * Line endings (LF or CRLF) and the trailing newline of the file are kept.
 */
export function applyFileEdits(file: string, text: string, edits: readonly Edit[]): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  const trailingNewline = text.endsWith('\n');
  if (trailingNewline) lines.pop();
  const ordered = [...edits].sort((x, y) => x.startLine - y.startLine);
  ordered.forEach((edit, index) => {
    if (edit.file !== file) {
      throw new TracemendError('INVALID_INPUT', `an edit for ${edit.file} was applied to ${file}`, { details: { file } });
    }
    if (edit.endLine < edit.startLine || edit.endLine > lines.length) {
      throw new TracemendError(
        'INVALID_INPUT',
        `edit to ${file} names lines ${edit.startLine}-${edit.endLine}, but the file has ${lines.length} lines`,
        { details: { file, startLine: edit.startLine, endLine: edit.endLine } },
      );
    }
    const previous = ordered[index - 1];
    if (previous !== undefined && edit.startLine <= previous.endLine) {
      throw new TracemendError(
        'INVALID_INPUT',
        `edits to ${file} overlap: lines ${previous.startLine}-${previous.endLine} and ${edit.startLine}-${edit.endLine}`,
        { details: { file } },
      );
    }
    const current = lines.slice(edit.startLine - 1, edit.endLine).join('\n');
    if (current !== edit.before.replace(/\r\n/g, '\n')) {
      throw new TracemendError(
        'INVALID_INPUT',
        `edit to ${file} lines ${edit.startLine}-${edit.endLine}: "before" does not match the file ` +
          `(expected ${edit.endLine - edit.startLine + 1} line(s) starting ${JSON.stringify(firstLine(edit.before))}, ` +
          `found ${JSON.stringify(firstLine(current))})`,
        { details: { file, startLine: edit.startLine, endLine: edit.endLine } },
      );
    }
  });
  for (const edit of [...ordered].reverse()) {
    const replacement = edit.after === '' ? [] : edit.after.split(/\r?\n/);
    lines.splice(edit.startLine - 1, edit.endLine - edit.startLine + 1, ...replacement);
  }
  const body = lines.join(eol);
  return trailingNewline && lines.length > 0 ? body + eol : body;
}

function firstLine(text: string): string {
  const line = text.split(/\r?\n/, 1)[0] ?? '';
  return line.length > 80 ? `${line.slice(0, 80)}…` : line;
}

/** Groups edits by file, in first-seen order. */
export function editsByFile(edits: readonly Edit[]): Map<string, Edit[]> {
  const byFile = new Map<string, Edit[]>();
  for (const edit of edits) {
    const list = byFile.get(edit.file) ?? [];
    list.push(edit);
    byFile.set(edit.file, list);
  }
  return byFile;
}
