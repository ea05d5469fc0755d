import { describe, expect, it } from 'vitest';
import { cell, codeBlock, inlineCode, shellCommand, table, truncateLines } from './markdown';

describe('markdown helpers', () => {
  it('fences code with more backticks than the code contains', () => {
    expect(codeBlock('a\n', 'ts')).toBe('```ts\na\n```');
    expect(codeBlock('x = `${y}`;\n```\n')).toBe('````\nx = `${y}`;\n```\n````');
    expect(inlineCode('a`b')).toBe('``a`b``');
    expect(inlineCode('`a')).toBe('`` `a ``');
  });

  it('keeps table cells on one line with pipes escaped and a length cap', () => {
    expect(cell('a|b\nc')).toBe('a\\|b c');
    expect(cell('abcdef', 4)).toBe('abc…');
    expect(table(['A', 'B'], [['1', '2']])).toBe('| A | B |\n| --- | --- |\n| 1 | 2 |');
  });

  it('truncates on whole lines and counts what it left out', () => {
    expect(truncateLines('aa\nbb\ncc', 100)).toEqual({ text: 'aa\nbb\ncc', omittedLines: 0, truncated: false });
    expect(truncateLines('aa\nbb\ncc', 6)).toEqual({ text: 'aa\nbb', omittedLines: 1, truncated: true });
    expect(truncateLines('abcdef', 4)).toEqual({ text: 'abc…', omittedLines: 0, truncated: true });
  });

  it('quotes shell arguments only where needed', () => {
    expect(shellCommand(['npx', 'vitest', 'run', 'test/a b.test.ts', "it's"])).toBe(`npx vitest run 'test/a b.test.ts' 'it'\\''s'`);
  });
});
