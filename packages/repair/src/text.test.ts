import { describe, expect, it } from 'vitest';
import { diffLineHunks, joinLines, splitLines, stableHash, unifiedDiff } from './text';

describe('diffLineHunks', () => {
  it('finds separate changed regions', () => {
    expect(diffLineHunks(['a', 'b', 'c', 'd', 'e'], ['a', 'B', 'c', 'd', 'e', 'f'])).toEqual([
      { aStart: 2, aCount: 1, bStart: 2, bCount: 1 },
      { aStart: 6, aCount: 0, bStart: 6, bCount: 1 },
    ]);
    expect(diffLineHunks(['a', 'b'], ['a', 'b'])).toEqual([]);
    expect(diffLineHunks(['a', 'b', 'c'], ['a', 'c'])).toEqual([{ aStart: 2, aCount: 1, bStart: 2, bCount: 0 }]);
  });
});

describe('unifiedDiff', () => {
  it('prints git-style hunks with three lines of context', () => {
    const before = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'].join('\n') + '\n';
    const after = before.replace('2\n', 'two\n').replace('11\n', '11\neleven-and-a-half\n');
    expect(unifiedDiff('src/n.ts', before, after)).toBe(
      [
        '--- a/src/n.ts',
        '+++ b/src/n.ts',
        '@@ -1,5 +1,5 @@',
        ' 1',
        '-2',
        '+two',
        ' 3',
        ' 4',
        ' 5',
        '@@ -9,4 +9,5 @@',
        ' 9',
        ' 10',
        ' 11',
        '+eleven-and-a-half',
        ' 12',
        '',
      ].join('\n'),
    );
    expect(unifiedDiff('src/n.ts', before, before)).toBe('');
  });
});

describe('splitLines / joinLines', () => {
  it.each(['a\nb\n', 'a\nb', 'a\r\nb\r\n', ''])('round-trips %j', (text) => {
    expect(joinLines(splitLines(text))).toBe(text);
  });
});

describe('stableHash', () => {
  it('is stable and sensitive to the value', () => {
    expect(stableHash(['a', 1])).toBe(stableHash(['a', 1]));
    expect(stableHash(['a', 1])).not.toBe(stableHash(['a', 2]));
    expect(stableHash('x')).toMatch(/^[0-9a-f]{16}$/);
  });
});
