import { Localization, Suspect } from '@tracemend/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contextOf, localize, rankSuspects } from './rank';
import type { Run } from './spectrum';

const source = ['export function total(items) {', '  let sum = 0;', '  for (const item of items) {', '    sum += item.price;', '  }', '  return sum;', '}'].join('\n');

// cart.js:4 is the faulty line: every failing run reaches it, no passing run does.
const runs: Run[] = [
  { failed: true, lines: ['cart.js:1', 'cart.js:2', 'cart.js:3', 'cart.js:4'] },
  { failed: true, lines: ['cart.js:1', 'cart.js:2', 'cart.js:3', 'cart.js:4'] },
  { failed: false, lines: ['cart.js:1', 'cart.js:2', 'cart.js:3', 'cart.js:6'] },
  { failed: false, lines: ['cart.js:1', 'cart.js:2', 'cart.js:3', 'cart.js:6'] },
  { failed: false, lines: ['other.js:9'] },
];

describe('rankSuspects', () => {
  it('ranks the line only failing runs reach first, with Ochiai 1.0 and its context', () => {
    const suspects = rankSuspects({ runs, sources: new Map([['cart.js', source]]), contextLines: 1, functionAt: () => 'total' });
    expect(suspects.map((suspect) => `${suspect.file}:${suspect.line}`)).toEqual(['cart.js:4', 'cart.js:1', 'cart.js:2', 'cart.js:3']);
    const [top] = suspects;
    expect(top).toMatchObject({ file: 'cart.js', line: 4, function: 'total', scores: { ochiai: 1, tarantula: 1, dstar: 8, frameWeight: 0 } });
    expect(top!.score).toBeCloseTo(1 / 1.5, 12);
    expect(top!.context).toEqual({ startLine: 3, lines: ['  for (const item of items) {', '    sum += item.price;', '  }'] });
    // Ochiai of the shared lines: 2 / sqrt(2 * 4).
    expect(suspects[1]!.scores.ochiai).toBeCloseTo(2 / Math.sqrt(8), 12);
    for (const suspect of suspects) expect(Suspect.parse(suspect)).toEqual(suspect);
  });

  it('never scores lines no failing run executed', () => {
    const suspects = rankSuspects({ runs });
    expect(suspects.find((suspect) => suspect.line === 6)).toBeUndefined();
    expect(suspects.find((suspect) => suspect.file === 'other.js')).toBeUndefined();
  });

  it('breaks a score tie by stack frame proximity, then by file and line', () => {
    const tied: Run[] = [
      { failed: true, lines: ['b.js:10', 'a.js:20', 'a.js:30'] },
      { failed: false, lines: [] },
    ];
    const withoutFrames = rankSuspects({ runs: tied, frameWeight: 0 });
    expect(withoutFrames.map((suspect) => `${suspect.file}:${suspect.line}`)).toEqual(['a.js:20', 'a.js:30', 'b.js:10']);
    const frames = [
      { file: 'node:internal/x', line: 1, function: 'run', inApp: false },
      { file: 'a.js', line: 30, function: 'inner', inApp: true },
      { file: 'b.js', line: 10, function: 'outer', inApp: true },
    ];
    const withFrames = rankSuspects({ runs: tied, frames, frameWeight: 0 });
    expect(withFrames.map((suspect) => `${suspect.file}:${suspect.line}`)).toEqual(['a.js:30', 'b.js:10', 'a.js:20']);
    expect(withFrames.map((suspect) => suspect.score)).toEqual([1, 1, 1]);
    expect(withFrames.map((suspect) => suspect.scores.frameWeight)).toEqual([1, 0.5, 0]);
    expect(withFrames[0]!.function).toBe('inner');
  });

  it('boosts stack lines multiplicatively, decaying with depth', () => {
    const spread: Run[] = [
      { failed: true, lines: ['s.js:1', 's.js:2', 's.js:3'] },
      { failed: false, lines: ['s.js:2', 's.js:3'] },
    ];
    const frames = [
      { file: 's.js', line: 3, function: 'top' },
      { file: 's.js', line: 2, function: 'caller' },
    ];
    const suspects = rankSuspects({ runs: spread, frames, frameWeight: 1 });
    const byLine = new Map(suspects.map((suspect) => [suspect.line, suspect]));
    const shared = 1 / Math.sqrt(2);
    expect(byLine.get(1)!.score).toBeCloseTo(1 / 2, 12);
    expect(byLine.get(3)!.score).toBeCloseTo((shared * 2) / 2, 12);
    expect(byLine.get(2)!.score).toBeCloseTo((shared * 1.5) / 2, 12);
    expect(suspects.map((suspect) => suspect.line)).toEqual([3, 2, 1]);
  });

  it('normalizes DStar into the score and keeps the raw value', () => {
    const suspects = rankSuspects({ runs, formula: 'dstar', frameWeight: 0 });
    expect(suspects[0]).toMatchObject({ line: 4, score: 1, scores: { dstar: 8 } });
    expect(suspects[1]!.score).toBeCloseTo(4 / 2 / 8, 12);
  });

  it('orders by Tarantula when asked', () => {
    const suspects = rankSuspects({ runs, formula: 'tarantula', frameWeight: 0 });
    expect(suspects[0]!.line).toBe(4);
    // 1 / (1 + 2/3): two of three passing runs reach the shared lines.
    expect(suspects[1]!.score).toBeCloseTo(0.6, 12);
  });

  it('respects the limit and rejects bad weights', () => {
    expect(rankSuspects({ runs, limit: 2 })).toHaveLength(2);
    expect(() => rankSuspects({ runs, frameWeight: -1 })).toThrow(RangeError);
    expect(() => rankSuspects({ runs, frameDecay: 0 })).toThrow(RangeError);
  });

  it('returns nothing without a failing run', () => {
    expect(rankSuspects({ runs: runs.filter((run) => !run.failed) })).toEqual([]);
  });
});

describe('localize', () => {
  it('produces a valid Localization with the run counts', () => {
    const localization = localize({ runs });
    expect(Localization.parse(localization)).toEqual(localization);
    expect(localization).toMatchObject({ schemaVersion: 1, failingRuns: 2, passingRuns: 3 });
    expect(localization.suspects[0]!.line).toBe(4);
  });
});

describe('contextOf', () => {
  it('clips the window to the file', () => {
    expect(contextOf('a\nb\nc', 1, 3)).toEqual({ startLine: 1, lines: ['a', 'b', 'c'] });
    expect(contextOf('a\r\nb', 2, 0)).toEqual({ startLine: 2, lines: ['b'] });
    expect(contextOf('a', 5, 1)).toEqual({ startLine: 5, lines: [] });
    expect(contextOf(undefined, 5, 1)).toEqual({ startLine: 5, lines: [] });
  });
});

describe('rankSuspects properties', () => {
  const lineArb = fc.tuple(fc.constantFrom('a.ts', 'b.ts', 'lib/c.ts'), fc.integer({ min: 1, max: 15 })).map(([file, line]) => `${file}:${line}`);
  const inputArb = fc.record({
    runs: fc.array(fc.record({ failed: fc.boolean(), lines: fc.uniqueArray(lineArb, { maxLength: 20 }) }), { maxLength: 15 }),
    frames: fc.array(
      fc.record({ file: fc.constantFrom('a.ts', 'b.ts'), line: fc.integer({ min: 1, max: 15 }), function: fc.string({ maxLength: 8 }), inApp: fc.boolean() }),
      { maxLength: 5 },
    ),
    formula: fc.constantFrom('ochiai' as const, 'tarantula' as const, 'dstar' as const),
    frameWeight: fc.double({ min: 0, max: 4, noNaN: true }),
  });

  it('returns contract-valid suspects, sorted, each run by a failing run, scores in [0, 1]', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const suspects = rankSuspects(input);
        const failingLines = new Set(input.runs.filter((run) => run.failed).flatMap((run) => run.lines));
        expect(suspects.length).toBeLessThanOrEqual(50);
        expect(suspects.length).toBe(Math.min(50, failingLines.size));
        for (const [index, suspect] of suspects.entries()) {
          expect(Suspect.parse(suspect)).toEqual(suspect);
          expect(failingLines.has(`${suspect.file}:${suspect.line}`)).toBe(true);
          if (index > 0) expect(suspect.score).toBeLessThanOrEqual(suspects[index - 1]!.score);
        }
      }),
      { numRuns: 300 },
    );
  });
});
