import type { Edit } from './pipeline';
import { TracemendError } from './errors';
import { describe, expect, it } from 'vitest';
import { applyFileEdits } from './edits';

const FILE = 'src/a.ts';
const TEXT = 'one\ntwo\nthree\nfour\n';

function edit(startLine: number, endLine: number, before: string, after: string): Edit {
  return { file: FILE, startLine, endLine, before, after };
}

function caught(run: () => unknown): TracemendError {
  try {
    run();
  } catch (error) {
    if (error instanceof TracemendError) return error;
    throw error;
  }
  throw new Error('expected a TracemendError');
}

describe('applyFileEdits', () => {
  it('replaces, inserts and deletes by inclusive line ranges, keeping the trailing newline', () => {
    expect(applyFileEdits(FILE, TEXT, [edit(2, 2, 'two', 'TWO')])).toBe('one\nTWO\nthree\nfour\n');
    expect(applyFileEdits(FILE, TEXT, [edit(2, 3, 'two\nthree', 'x\ny\nz')])).toBe('one\nx\ny\nz\nfour\n');
    expect(applyFileEdits(FILE, TEXT, [edit(1, 1, 'one', ''), edit(4, 4, 'four', 'FOUR')])).toBe('two\nthree\nFOUR\n');
    expect(applyFileEdits(FILE, 'a\nb', [edit(2, 2, 'b', 'B')])).toBe('a\nB');
  });

  it('keeps CRLF files CRLF and accepts a CRLF or LF `before`', () => {
    expect(applyFileEdits(FILE, 'a\r\nb\r\nc\r\n', [edit(2, 3, 'b\r\nc', 'B\nC')])).toBe('a\r\nB\r\nC\r\n');
  });

  it('applies edits in line order whatever order they come in', () => {
    const edits = [edit(4, 4, 'four', '4a\n4b'), edit(1, 1, 'one', '1')];
    expect(applyFileEdits(FILE, TEXT, edits)).toBe('1\ntwo\nthree\n4a\n4b\n');
  });

  it('refuses a `before` that does not match, naming the file, the lines and what is there', () => {
    const error = caught(() => applyFileEdits(FILE, TEXT, [edit(2, 2, 'TWO', 'x')]));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toBe(
      'edit to src/a.ts lines 2-2: "before" does not match the file (expected 1 line(s) starting "TWO", found "two")',
    );
  });

  it('refuses ranges past the end, inverted ranges and overlaps', () => {
    expect(caught(() => applyFileEdits(FILE, TEXT, [edit(4, 5, 'four\n', '')])).message).toContain('the file has 4 lines');
    expect(caught(() => applyFileEdits(FILE, TEXT, [edit(3, 2, '', '')])).message).toContain('names lines 3-2');
    expect(caught(() => applyFileEdits(FILE, TEXT, [edit(1, 2, 'one\ntwo', ''), edit(2, 3, 'two\nthree', '')])).message).toBe(
      'edits to src/a.ts overlap: lines 1-2 and 2-3',
    );
  });
});
