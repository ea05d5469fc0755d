import { contentHash } from './canonical';

/** A judgement: true when the candidate still fails with the recorded signature. */
export type Judge<C> = (candidate: C) => Promise<boolean>;

/** Thrown inside the minimizer when the test budget is spent; never escapes the public functions. */
export class BudgetExhausted extends Error {
  override readonly name = 'BudgetExhausted';
}

/** Counters every minimization reports. */
export interface JudgeStats {
  /** Candidates actually judged (cache misses). */
  tests: number;
  /** Candidates answered from the cache. */
  cacheHits: number;
  /** True when the budget ran out before the minimization finished. */
  exhausted: boolean;
}

/**
 * Wraps a judge with a content-hash cache and a budget: a candidate equal to one already judged is
 * answered from the cache, and once `maxTests` candidates have been judged the next miss throws
 * `BudgetExhausted`.
 */
export class CachedJudge<C> implements JudgeStats {
  tests = 0;
  cacheHits = 0;
  exhausted = false;
  readonly #cache = new Map<string, boolean>();
  readonly #judge: Judge<C>;
  readonly #keyOf: (candidate: C) => string;
  readonly #maxTests: number;
  readonly #onJudgement: ((candidate: C, stillFails: boolean) => void) | undefined;

  constructor(
    judge: Judge<C>,
    options: {
      keyOf?: (candidate: C) => string;
      maxTests?: number;
      onJudgement?: ((candidate: C, stillFails: boolean) => void) | undefined;
    } = {},
  ) {
    this.#judge = judge;
    this.#keyOf = options.keyOf ?? contentHash;
    this.#maxTests = options.maxTests ?? DEFAULT_MAX_TESTS;
    this.#onJudgement = options.onJudgement;
    if (!(this.#maxTests >= 0)) throw new RangeError(`maxTests must be a non-negative number, got ${this.#maxTests}`);
  }

  /** Judges `candidate`, from the cache when an equal candidate was judged before. */
  async judge(candidate: C): Promise<boolean> {
    const key = this.#keyOf(candidate);
    const cached = this.#cache.get(key);
    if (cached !== undefined) {
      this.cacheHits += 1;
      return cached;
    }
    if (this.tests >= this.#maxTests) {
      this.exhausted = true;
      throw new BudgetExhausted(`test budget of ${this.#maxTests} spent`);
    }
    this.tests += 1;
    const stillFails = await this.#judge(candidate);
    if (typeof stillFails !== 'boolean') throw new TypeError(`a judge must resolve to a boolean, got ${typeof stillFails}`);
    this.#cache.set(key, stillFails);
    this.#onJudgement?.(candidate, stillFails);
    return stillFails;
  }

  stats(): JudgeStats {
    return { tests: this.tests, cacheHits: this.cacheHits, exhausted: this.exhausted };
  }
}

/** The budget when a caller sets none: enough for inputs of a few hundred parts. */
export const DEFAULT_MAX_TESTS = 1_000;
