import { TracemendError } from '@tracemend/contracts';
import { describe, expect, it } from 'vitest';
import { applyEdits, editsBetween } from './edits';

const FILE = 'src/a.ts';
const TEXT = 'one\ntwo\nthree\nfour\n';

describe('applyEdits', () => {
  it('replaces inclusive line ranges and leaves the input untouched', () => {
    const files = new Map([[FILE, TEXT]]);
    const result = applyEdits(files, [
      { file: FILE, startLine: 4, endLine: 4, before: 'four', after: 'FOUR' },
      { file: FILE, startLine: 1, endLine: 2, before: 'one\ntwo', after: 'uno' },
    ]);
    expect(result.get(FILE)).toBe('uno\nthree\nFOUR\n');
    expect(files.get(FILE)).toBe(TEXT);
  });

  it('deletes a range when after is empty and keeps CRLF line endings', () => {
    const crlf = new Map([[FILE, 'a\r\nb\r\nc\r\n']]);
    expect(applyEdits(crlf, [{ file: FILE, startLine: 2, endLine: 2, before: 'b', after: '' }]).get(FILE)).toBe('a\r\nc\r\n');
    expect(applyEdits(crlf, [{ file: FILE, startLine: 2, endLine: 2, before: 'b', after: 'x\ny' }]).get(FILE)).toBe(
      'a\r\nx\r\ny\r\nc\r\n',
    );
  });

  it('refuses a stale "before", an unknown file, overlaps and out-of-range lines', () => {
    const files = new Map([[FILE, TEXT]]);
    const attempt = (edits: Parameters<typeof applyEdits>[1]) => {
      try {
        applyEdits(files, edits);
      } catch (error) {
        return error instanceof TracemendError ? `${error.code}: ${error.message}` : String(error);
      }
      return 'applied';
    };
    expect(attempt([{ file: FILE, startLine: 2, endLine: 2, before: 'TWO', after: 'x' }])).toBe(
      `INVALID_INPUT: edit to ${FILE} lines 2-2: "before" does not match the file (expected 1 line(s) starting "TWO", found "two")`,
    );
    expect(attempt([{ file: 'src/b.ts', startLine: 1, endLine: 1, before: '', after: 'x' }])).toBe(
      'INVALID_INPUT: edit targets src/b.ts, which is not among the given files',
    );
    expect(
      attempt([
        { file: FILE, startLine: 1, endLine: 2, before: 'one\ntwo', after: 'x' },
        { file: FILE, startLine: 2, endLine: 3, before: 'two\nthree', after: 'y' },
      ]),
    ).toBe(`INVALID_INPUT: edits to ${FILE} overlap: lines 1-2 and 2-3`);
    expect(attempt([{ file: FILE, startLine: 4, endLine: 5, before: 'four\n', after: 'x' }])).toBe(
      `INVALID_INPUT: edit to ${FILE} names lines 4-5, but the file has 4 lines`,
    );
  });
});

describe('editsBetween', () => {
  const cases: [string, string][] = [
    ['a\nb\nc\n', 'a\nB\nc\n'],
    ['a\nb\nc\n', 'x\na\nb\nc\n'],
    ['a\nb\nc\n', 'a\nb\nc\nd\n'],
    ['a\nb\nc\nd\ne\nf\n', 'a\nc\nd\nE\nf\ng\n'],
    ['a\nb\nc\n', 'a\nc\n'],
    ['a\nb\n', 'a\nb\nc\nd'],
    ['x\ny\n', 'x\ny\n'],
  ];

  it.each(cases)('round-trips %j → %j through applyEdits', (before, after) => {
    const edits = editsBetween(FILE, before, after);
    for (const edit of edits) {
      expect(edit.endLine).toBeGreaterThanOrEqual(edit.startLine);
    }
    expect(applyEdits(new Map([[FILE, before]]), edits).get(FILE)).toBe(after.endsWith('\n') ? after : `${after}\n`);
  });

  it('widens a pure insertion by the line it precedes', () => {
    expect(editsBetween(FILE, 'a\nb\n', 'a\nguard\nb\n')).toEqual([
      { file: FILE, startLine: 2, endLine: 2, before: 'b', after: 'guard\nb' },
    ]);
  });
});
