import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical';
import { ddmin, split } from './ddmin';

/** A judge that records every subset it is asked about. */
function recording<T>(fails: (subset: T[]) => boolean) {
  const calls: T[][] = [];
  const judge = (subset: T[]): Promise<boolean> => {
    calls.push([...subset]);
    return Promise.resolve(fails(subset));
  };
  return { calls, judge };
}

const containsAll =
  <T>(...needed: T[]) =>
  (subset: T[]) =>
    needed.every((item) => subset.includes(item));

describe('ddmin', () => {
  it('isolates the two items whose combination fails', async () => {
    const { calls, judge } = recording(containsAll(3, 7));
    const outcome = await ddmin([1, 2, 3, 4, 5, 6, 7, 8], judge);
    expect(outcome.result).toEqual([3, 7]);
    expect(outcome.exhausted).toBe(false);
    expect(outcome.tests).toBe(calls.length);
    expect(outcome.tests).toBeGreaterThan(0);
    expect(outcome.tests).toBeLessThan(30);
  });

  it("finds Zeller's three-item failure cause among eight", async () => {
    const { judge } = recording(containsAll(1, 7, 8));
    const outcome = await ddmin([1, 2, 3, 4, 5, 6, 7, 8], judge);
    expect(outcome.result).toEqual([1, 7, 8]);
  });

  it('reduces to a single culprit in logarithmically many tests', async () => {
    const items = Array.from({ length: 64 }, (_, index) => index);
    const { calls, judge } = recording(containsAll(41));
    const outcome = await ddmin(items, judge);
    expect(outcome.result).toEqual([41]);
    // Empty set, then one halving per level: 1 + 2 * log2(64).
    expect(calls.length).toBeLessThanOrEqual(13);
  });

  it('returns the empty list when the failure does not depend on the items', async () => {
    const { calls, judge } = recording<number>(() => true);
    const outcome = await ddmin([1, 2, 3], judge);
    expect(outcome.result).toEqual([]);
    expect(calls).toEqual([[]]);
    expect(outcome.tests).toBe(1);
  });

  it('judges nothing for an empty input', async () => {
    const { calls, judge } = recording<number>(() => true);
    const outcome = await ddmin([], judge);
    expect(outcome).toEqual({ result: [], tests: 0, cacheHits: 0, exhausted: false });
    expect(calls).toHaveLength(0);
  });

  it('keeps a single failing item after checking that the empty set passes', async () => {
    const { calls, judge } = recording(containsAll('only'));
    const outcome = await ddmin(['only'], judge);
    expect(outcome.result).toEqual(['only']);
    expect(calls).toEqual([[]]);
  });

  it('keeps the input order of the items it returns', async () => {
    const { judge } = recording(containsAll('z', 'a', 'm'));
    const outcome = await ddmin(['z', 'b', 'm', 'c', 'a', 'd'], judge);
    expect(outcome.result).toEqual(['z', 'm', 'a']);
  });

  it('stops at the budget with the smallest failing subset found so far', async () => {
    const items = Array.from({ length: 32 }, (_, index) => index);
    const fails = containsAll(3, 17, 29);
    const { calls, judge } = recording(fails);
    // empty set, two halves, four quarters, then complements: removing 8..15 is the ninth test and fails.
    const outcome = await ddmin(items, judge, { maxTests: 9 });
    expect(outcome.exhausted).toBe(true);
    expect(outcome.tests).toBe(9);
    expect(calls).toHaveLength(9);
    expect(fails(outcome.result)).toBe(true);
    expect(outcome.result).toEqual(items.filter((item) => item < 8 || item > 15));
  });

  it('returns the input unchanged with a zero budget', async () => {
    const { calls, judge } = recording(containsAll(1));
    const outcome = await ddmin([1, 2], judge, { maxTests: 0 });
    expect(outcome).toEqual({ result: [1, 2], tests: 0, cacheHits: 0, exhausted: true });
    expect(calls).toHaveLength(0);
  });

  it('rejects a negative budget', async () => {
    await expect(ddmin([1], () => Promise.resolve(true), { maxTests: -1 })).rejects.toThrow(/maxTests/);
  });

  it('judges candidates with equal content once, counting the repeats as cache hits', async () => {
    // Duplicate items make different index subsets equal in content.
    const items = ['a', 'a', 'a', 'a', 'b', 'b'];
    const { calls, judge } = recording<string>((subset) => subset.filter((item) => item === 'a').length >= 2 && subset.includes('b'));
    const outcome = await ddmin(items, judge);
    expect(outcome.result).toEqual(['a', 'a', 'b']);
    const keys = calls.map((call) => canonicalJson(call));
    expect(new Set(keys).size).toBe(keys.length);
    expect(outcome.cacheHits).toBeGreaterThan(0);
  });

  it('uses keyOf as item identity for values that are not JSON', async () => {
    const handlers = [() => 1, () => 2, () => 3, () => 4];
    const culprit = handlers[2];
    const { judge } = recording<() => number>((subset) => subset.includes(culprit!));
    const outcome = await ddmin(handlers, judge, { keyOf: (handler) => String(handlers.indexOf(handler)) });
    expect(outcome.result).toEqual([culprit]);
    expect(outcome.cacheHits).toBe(0);
  });

  it('reports every judgement with its verdict', async () => {
    const seen: [number[], boolean][] = [];
    const outcome = await ddmin([1, 2, 3, 4], (subset) => Promise.resolve(subset.includes(2)), {
      onJudgement: (subset, stillFails) => seen.push([subset, stillFails]),
    });
    expect(seen).toHaveLength(outcome.tests);
    expect(seen[0]).toEqual([[], false]);
    for (const [subset, stillFails] of seen) expect(stillFails).toBe(subset.includes(2));
  });

  it('propagates a judge error instead of treating it as a verdict', async () => {
    await expect(ddmin([1, 2, 3], () => Promise.reject(new Error('sandbox gone')))).rejects.toThrow('sandbox gone');
  });

  it('rejects a judge that does not answer with a boolean', async () => {
    await expect(ddmin([1, 2], () => Promise.resolve('yes' as unknown as boolean))).rejects.toThrow(/boolean/);
  });
});

describe('split', () => {
  it('cuts into contiguous near-equal parts covering every item once', () => {
    expect(split([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4, 5]]);
    expect(split([1, 2, 3, 4, 5], 5)).toEqual([[1], [2], [3], [4], [5]]);
    expect(split([1, 2, 3, 4, 5, 6, 7], 3)).toEqual([[1, 2], [3, 4], [5, 6, 7]]);
  });
});

describe('ddmin properties', () => {
  const itemsArb = fc.uniqueArray(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 24 });

  /** Any deterministic verdict, forced to "fails" on the full input as ddmin requires. */
  const scenarioArb = itemsArb.chain((items) =>
    fc.record({
      items: fc.constant(items),
      verdict: fc.func(fc.boolean()),
      maxTests: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
    }),
  );

  it('returns a failing, ordered sub-list that is 1-minimal, judging no candidate twice', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ items, verdict }) => {
        const full = canonicalJson(items);
        const fails = (subset: number[]) => canonicalJson(subset) === full || verdict(canonicalJson(subset));
        const { calls, judge } = recording(fails);
        const outcome = await ddmin(items, judge);
        expect(outcome.exhausted).toBe(false);
        expect(fails(outcome.result)).toBe(true);
        expect(items.filter((item) => outcome.result.includes(item))).toEqual(outcome.result);
        for (let index = 0; index < outcome.result.length; index++) {
          expect(fails(outcome.result.filter((_, other) => other !== index))).toBe(false);
        }
        const keys = calls.map((call) => canonicalJson(call));
        expect(new Set(keys).size).toBe(keys.length);
        expect(outcome.tests).toBe(calls.length);
        expect(calls.some((call) => canonicalJson(call) === full)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('respects the budget and still returns a failing subset', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ items, verdict, maxTests }) => {
        const full = canonicalJson(items);
        const fails = (subset: number[]) => canonicalJson(subset) === full || verdict(canonicalJson(subset));
        const { calls, judge } = recording(fails);
        const outcome = await ddmin(items, judge, { maxTests: maxTests ?? 5 });
        expect(calls.length).toBeLessThanOrEqual(maxTests ?? 5);
        expect(outcome.tests).toBe(calls.length);
        expect(fails(outcome.result)).toBe(true);
        if (!outcome.exhausted) {
          for (let index = 0; index < outcome.result.length; index++) {
            expect(fails(outcome.result.filter((_, other) => other !== index))).toBe(false);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('finds exactly the failure-inducing items when failing means containing all of them', async () => {
    const arb = itemsArb.chain((items) => fc.record({ items: fc.constant(items), culprits: fc.subarray(items) }));
    await fc.assert(
      fc.asyncProperty(arb, async ({ items, culprits }) => {
        const outcome = await ddmin(items, (subset) => Promise.resolve(culprits.every((item) => subset.includes(item))));
        expect(outcome.result).toEqual(items.filter((item) => culprits.includes(item)));
      }),
      { numRuns: 300 },
    );
  });
});
