import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Candidate, Edit } from '@tracemend/contracts';
import { countImporters, exportedApiTouched, findExportedSignatures, findImporters, RISK_WEIGHTS, scoreRisk } from './risk';

const MODULE = `import type { Cache } from './cache.ts';

export interface RankedUser {
  rank: number;
  id: string;
}

export const ACTIVE_USERS_KEY = 'active_users';

export async function topUsers(
  cache: Cache,
  k: number,
): Promise<RankedUser[]> {
  const users = await cache.get<RankedUser[]>(ACTIVE_USERS_KEY);
  return users.slice(0, k);
}

function helper(): number {
  return 1;
}
`;

function candidate(edits: Edit[], overrides: Partial<Candidate> = {}): Candidate {
  return {
    schemaVersion: 1,
    id: 'c1',
    origin: 'template',
    template: 'null-guard',
    rationale: 'guard',
    suspectRank: 0,
    editPlan: { edits, diff: '' },
    size: { files: 1, linesAdded: 1, linesRemoved: 1 },
    ...overrides,
  };
}

const edit = (startLine: number, endLine: number, before: string, after: string, file = 'src/leaderboard.ts'): Edit => ({ file, startLine, endLine, before, after });
const files = new Map([['src/leaderboard.ts', MODULE]]);

describe('findExportedSignatures', () => {
  it('spans an interface whole, a const line, and a function head up to its body brace; private functions are absent', () => {
    expect(findExportedSignatures(MODULE)).toEqual([
      { name: 'RankedUser', startLine: 3, endLine: 6 },
      { name: 'ACTIVE_USERS_KEY', startLine: 8, endLine: 8 },
      { name: 'topUsers', startLine: 10, endLine: 13 },
    ]);
  });

  it('covers export lists and default exports', () => {
    expect(findExportedSignatures("export { a, b } from './x';\nexport default function () {\n}\n")).toEqual([
      { name: "export { a, b } from './x';", startLine: 1, endLine: 1 },
      { name: 'default', startLine: 2, endLine: 2 },
    ]);
  });
});

describe('exportedApiTouched', () => {
  it('is empty for an edit inside a function body', () => {
    expect(exportedApiTouched(candidate([edit(15, 15, '  return users.slice(0, k);', '  return (users ?? []).slice(0, k);')]), files)).toEqual([]);
  });

  it('names the declaration whose signature an edit overlaps', () => {
    expect(exportedApiTouched(candidate([edit(12, 12, '  k: number,', '  k = 10,')]), files)).toEqual(['src/leaderboard.ts: topUsers']);
    expect(exportedApiTouched(candidate([edit(5, 5, '  id: string;', '  id?: string;')]), files)).toEqual(['src/leaderboard.ts: RankedUser']);
  });

  it('flags an edit that adds an export line, even inside a body', () => {
    expect(exportedApiTouched(candidate([edit(19, 19, '  return 1;', 'export const x = 1;')]), files)).toEqual(['src/leaderboard.ts: export lines']);
  });
});

describe('findImporters', () => {
  it('resolves relative specifiers with and without extensions, index files and re-exports', () => {
    const repo = new Map([
      ['src/leaderboard.ts', "import type { Cache } from './cache.ts';"],
      ['src/index.ts', "export { topUsers } from './leaderboard.ts';"],
      ['src/api/routes.ts', "import { topUsers } from '../leaderboard.js';"],
      ['src/lazy.ts', "const m = await import('./leaderboard');"],
      ['test/leaderboard.test.ts', "import { topUsers } from '../src/leaderboard.ts';"],
      ['test/other.test.ts', "import { topUsers } from 'leaderboard';\nimport { x } from './leaderboard.ts';"],
      ['README.md', "import { topUsers } from './src/leaderboard.ts';"],
    ]);
    expect(findImporters(repo, ['src/leaderboard.ts'])).toEqual(['src/api/routes.ts', 'src/index.ts', 'src/lazy.ts', 'test/leaderboard.test.ts']);
    expect(countImporters(repo, ['src/cache.ts'])).toBe(1);
    expect(countImporters(repo, ['src'])).toBe(0);
  });
});

describe('scoreRisk', () => {
  it('uses weights that sum to 1', () => {
    expect(Object.values(RISK_WEIGHTS).reduce((sum, weight) => sum + weight, 0)).toBeCloseTo(1, 10);
  });

  it('scores a one-line template guard low, with every factor and its contribution', () => {
    const risk = scoreRisk({ candidate: candidate([edit(15, 15, '  return users.slice(0, k);', '  return (users ?? []).slice(0, k);')]), repoFiles: files, importers: 2 });
    expect(risk).toEqual({
      schemaVersion: 1,
      score: 19,
      level: 'low',
      factors: [
        { name: 'change-size', value: 0.1667, weight: 0.25, contribution: 4.17, detail: '1 added, 1 removed' },
        { name: 'files-touched', value: 0, weight: 0.1, contribution: 0, detail: '1 file' },
        { name: 'exported-api', value: 0, weight: 0.2, contribution: 0, detail: 'no exported signature or export line changed' },
        { name: 'fan-out', value: 0.2857, weight: 0.15, contribution: 4.29, detail: '2 importing files' },
        { name: 'coverage', value: 0.5, weight: 0.15, contribution: 7.5, detail: 'unknown' },
        { name: 'origin', value: 0.2, weight: 0.15, contribution: 3, detail: 'template null-guard' },
      ],
    });
  });

  it('scores a large LLM change to an exported signature across files high', () => {
    const risk = scoreRisk({
      candidate: candidate([edit(12, 12, '  k: number,', '  k = 10,'), edit(1, 1, 'a', 'b', 'src/other.ts')], {
        origin: 'llm',
        size: { files: 3, linesAdded: 60, linesRemoved: 30 },
      }),
      repoFiles: files,
      importers: 20,
      changedLinesCovered: 0.1,
    });
    expect(risk.level).toBe('high');
    // 22.5 (90 lines) + 3.33 (3 files) + 20 (exported) + 12 (20 importers) + 13.5 (10% covered) + 15 (llm)
    expect(risk.score).toBe(86);
  });

  it('counts covered changed lines as lower risk', () => {
    const base = { candidate: candidate([edit(15, 15, 'a', 'b')]), repoFiles: files, importers: 0 };
    expect(scoreRisk({ ...base, changedLinesCovered: 1 }).score).toBeLessThan(scoreRisk({ ...base, changedLinesCovered: 0 }).score);
    expect(scoreRisk({ ...base, changedLinesCovered: 1 }).factors.find((f) => f.name === 'coverage')?.detail).toBe('100% of changed lines covered by the minimal test');
  });

  const inputs = fc.record({
    added: fc.nat({ max: 5_000 }),
    removed: fc.nat({ max: 5_000 }),
    files: fc.integer({ min: 1, max: 50 }),
    importers: fc.option(fc.nat({ max: 10_000 }), { nil: undefined }),
    covered: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    exported: fc.boolean(),
    origin: fc.constantFrom('template' as const, 'llm' as const),
  });

  type Input = typeof inputs extends fc.Arbitrary<infer T> ? T : never;

  function score(input: Input, origin = input.origin) {
    const line = input.exported ? edit(12, 12, '  k: number,', '  k = 10,') : edit(15, 15, 'a', 'b');
    const result = scoreRisk({
      candidate: candidate([line], { origin, size: { files: input.files, linesAdded: input.added, linesRemoved: input.removed } }),
      repoFiles: files,
      ...(input.importers === undefined ? {} : { importers: input.importers }),
      ...(input.covered === undefined ? {} : { changedLinesCovered: input.covered }),
    });
    return result;
  }

  it('keeps the score an integer in [0, 100] whose level matches its band (property)', () => {
    fc.assert(
      fc.property(inputs, (input) => {
        const { score: value, level } = score(input);
        expect(Number.isInteger(value)).toBe(true);
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThanOrEqual(100);
        expect(level).toBe(value < 30 ? 'low' : value < 60 ? 'medium' : 'high');
      }),
    );
  });

  it('never lowers the score when the change grows (property)', () => {
    fc.assert(
      fc.property(inputs, fc.nat({ max: 5_000 }), (input, more) => {
        expect(score({ ...input, added: input.added + more }).score).toBeGreaterThanOrEqual(score(input).score);
      }),
    );
  });

  it('scores an llm candidate at least as high as the same template candidate (property)', () => {
    fc.assert(
      fc.property(inputs, (input) => {
        expect(score(input, 'llm').score).toBeGreaterThanOrEqual(score(input, 'template').score);
      }),
    );
  });

  it('is deterministic (property)', () => {
    fc.assert(
      fc.property(inputs, (input) => {
        expect(score(input)).toEqual(score(input));
      }),
    );
  });
});
