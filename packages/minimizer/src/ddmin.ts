import { contentHash } from './canonical';
import { BudgetExhausted, CachedJudge, type Judge, type JudgeStats } from './judge';

/** Options of `ddmin`. */
export interface DdminOptions<T> {
  /** Most candidates to judge (cache misses); when spent, the smallest failing subset found so far is returned. */
  maxTests?: number;
  /** Identity of an item for the cache; defaults to its canonical JSON. */
  keyOf?: (item: T) => string;
  /** Called once per judged candidate, e.g. to keep passing candidates' coverage for fault localization. */
  onJudgement?: (subset: T[], stillFails: boolean) => void;
}

/** What `ddmin` found and what it cost. */
export interface DdminResult<T> extends JudgeStats {
  /** A failing subset, in the input's order; 1-minimal unless `exhausted`. */
  result: T[];
}

/**
 * Zeller's delta debugging (ddmin): returns a 1-minimal subset of `items` for which `test` still
 * says "fails", i.e. one from which removing any single item makes it pass. `items` itself must fail
 * (the reproduction established it); it is never judged. Candidates equal in content are judged once.
 */
export async function ddmin<T>(items: readonly T[], test: Judge<T[]>, options: DdminOptions<T> = {}): Promise<DdminResult<T>> {
  const keyOf = options.keyOf;
  const judge = new CachedJudge<T[]>(test, {
    keyOf: keyOf ? (subset) => contentHash(subset.map((item) => keyOf(item))) : (subset) => contentHash(subset),
    maxTests: options.maxTests,
    onJudgement: options.onJudgement,
  });
  const { result } = await reduce(items, (subset) => judge.judge(subset));
  return { result, ...judge.stats() };
}

/**
 * The ddmin loop over any "still fails?" function: tests the empty set first, then subsets and
 * complements at doubling granularity. Stops with the current (known failing) subset when the judge
 * throws `BudgetExhausted`.
 */
export async function reduce<T>(
  items: readonly T[],
  stillFails: (subset: T[]) => Promise<boolean>,
): Promise<{ result: T[]; exhausted: boolean }> {
  let current = [...items];
  if (current.length === 0) return { result: current, exhausted: false };
  try {
    // Testing the empty set first is what makes a single remaining item 1-minimal.
    if (await stillFails([])) return { result: [], exhausted: false };
    let granularity = 2;
    while (current.length >= 2) {
      granularity = Math.min(granularity, current.length);
      const parts = split(current, granularity);
      const subset = await firstFailing(parts, stillFails);
      if (subset !== undefined) {
        current = subset;
        granularity = 2;
        continue;
      }
      // With two parts each complement is the other part, already judged.
      const complement = granularity > 2 ? await firstFailing(complements(parts), stillFails) : undefined;
      if (complement !== undefined) {
        current = complement;
        granularity = Math.max(granularity - 1, 2);
        continue;
      }
      if (granularity >= current.length) break;
      granularity = Math.min(current.length, granularity * 2);
    }
    return { result: current, exhausted: false };
  } catch (error) {
    if (error instanceof BudgetExhausted) return { result: current, exhausted: true };
    throw error;
  }
}

async function firstFailing<T>(candidates: T[][], stillFails: (subset: T[]) => Promise<boolean>): Promise<T[] | undefined> {
  for (const candidate of candidates) {
    if (await stillFails(candidate)) return candidate;
  }
  return undefined;
}

/** `items` cut into `parts` contiguous, near-equal, non-empty slices. */
export function split<T>(items: readonly T[], parts: number): T[][] {
  const slices: T[][] = [];
  for (let index = 0; index < parts; index++) {
    slices.push(items.slice(Math.floor((index * items.length) / parts), Math.floor(((index + 1) * items.length) / parts)));
  }
  return slices;
}

function complements<T>(parts: T[][]): T[][] {
  return parts.map((_, skipped) => parts.filter((__, index) => index !== skipped).flat());
}
