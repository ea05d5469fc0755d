import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createContext, runInContext } from 'node:vm';
import { Candidate, parseContract, type Suspect } from '@tracemend/contracts';
import { ts } from 'ts-morph';
import { describe, expect, it } from 'vitest';
import { applyEdits } from './edits';
import { generateTemplateCandidates, type TemplateCandidate } from './generate';
import type { RepairSymptom } from './symptom';

function suspect(file: string, line: number, score = 0.9): Suspect {
  return {
    file,
    line,
    score,
    scores: { ochiai: score, frameWeight: 1 },
    context: { startLine: line, lines: [] },
  };
}

function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(needle));
  if (index < 0) throw new Error(`no line contains ${needle}`);
  return index + 1;
}

function columnOf(text: string, line: number, needle: string): number {
  return (text.split('\n')[line - 1] ?? '').indexOf(needle) + 1;
}

/** Transpiles a module and returns its exports, evaluated in a fresh VM context. */
function load(source: string): Record<string, unknown> {
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  });
  const module = { exports: {} as Record<string, unknown> };
  runInContext(outputText, createContext({ module, exports: module.exports, Promise, Array, Error }));
  return module.exports;
}

function exported<T>(source: string, name: string): T {
  return load(source)[name] as T;
}

function patched(files: Map<string, string>, file: string, candidate: TemplateCandidate): string {
  const text = applyEdits(files, candidate.editPlan.edits).get(file);
  if (text === undefined) throw new Error('file vanished');
  return text;
}

function templates(candidates: readonly TemplateCandidate[]): string[] {
  return candidates.map((candidate) => candidate.template);
}

const USERS_FILE = 'src/users.ts';
const USERS = `export interface CreateUserBody {
  name: string;
  preferences: { newsletter?: boolean; marketing: string[] };
}

export function normalizePreferences(body: CreateUserBody) {
  body.preferences.marketing.push('signup');
  return body.preferences;
}
`;

describe('express handler helper: undefined marketing list', () => {
  const line = lineOf(USERS, 'marketing.push');
  const files = new Map([[USERS_FILE, USERS]]);
  const symptom: RepairSymptom = {
    errorType: 'TypeError',
    message: "Cannot read properties of undefined (reading 'push')",
    frames: [
      { file: `/app/${USERS_FILE}`, line, column: columnOf(USERS, line, 'push'), function: 'normalizePreferences', inApp: true },
    ],
  };
  const candidates = generateTemplateCandidates({ files, suspects: [suspect(USERS_FILE, line)], symptom, maxCandidates: 10 });

  it('offers ??= initialization first, and optional chaining', () => {
    expect(candidates[0]?.template).toBe('init-if-missing');
    expect(templates(candidates)).toContain('optional-chaining');
    const init = candidates[0];
    expect(init?.editPlan.edits).toEqual([
      {
        file: USERS_FILE,
        startLine: line,
        endLine: line,
        before: "  body.preferences.marketing.push('signup');",
        after: "  (body.preferences.marketing ??= []).push('signup');",
      },
    ]);
    const chaining = candidates.find((candidate) => candidate.template === 'optional-chaining');
    expect(chaining?.editPlan.edits[0]?.after).toBe("  body.preferences.marketing?.push('signup');");
  });

  it('describes each candidate in the contract shape', () => {
    for (const candidate of candidates) {
      expect(parseContract(Candidate, candidate, 'Candidate').id).toBe(candidate.id);
      expect(candidate.id).toMatch(/^[0-9a-f]{16}$/);
      expect(candidate.origin).toBe('template');
      expect(candidate.touches).toEqual({ file: USERS_FILE, name: 'normalizePreferences', startLine: 6, endLine: 9 });
      expect(candidate.rationale.length).toBeGreaterThan(20);
    }
    const init = candidates[0];
    expect(init?.changedLines).toBe(1);
    expect(init?.size).toEqual({ files: 1, linesAdded: 1, linesRemoved: 1 });
    expect(init?.editPlan.diff).toBe(
      [
        `--- a/${USERS_FILE}`,
        `+++ b/${USERS_FILE}`,
        '@@ -4,6 +4,6 @@',
        ' }',
        ' ',
        ' export function normalizePreferences(body: CreateUserBody) {',
        "-  body.preferences.marketing.push('signup');",
        "+  (body.preferences.marketing ??= []).push('signup');",
        '   return body.preferences;',
        ' }',
        '',
      ].join('\n'),
    );
  });

  it('the top candidate no longer throws on the crashing input and keeps normal behaviour', () => {
    type Normalize = (body: unknown) => unknown;
    const before = exported<Normalize>(USERS, 'normalizePreferences');
    const top = candidates[0];
    if (top === undefined) throw new Error('no candidate');
    const after = exported<Normalize>(patched(files, USERS_FILE, top), 'normalizePreferences');
    const crashing = () => ({ name: 'a', preferences: { newsletter: true } });
    expect(() => before(crashing())).toThrow("Cannot read properties of undefined (reading 'push')");
    expect(after(crashing())).toEqual({ newsletter: true, marketing: ['signup'] });
    const normal = () => ({ name: 'a', preferences: { newsletter: false, marketing: ['sms'] } });
    expect(after(normal())).toEqual(before(normal()));
    expect(after(normal())).toEqual({ newsletter: false, marketing: ['sms', 'signup'] });
  });

  it('each diff applies with git apply and yields the same text as the edits', () => {
    const dir = mkdtempSync(join(tmpdir(), 'repair-diff-'));
    try {
      for (const candidate of candidates) {
        const path = join(dir, USERS_FILE);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, USERS);
        writeFileSync(join(dir, 'change.diff'), candidate.editPlan.diff);
        execFileSync('git', ['apply', '--unsafe-paths', `--directory=${dir}`, join(dir, 'change.diff')], { cwd: dir });
        expect(readFileSync(path, 'utf8')).toBe(patched(files, USERS_FILE, candidate));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every candidate stops the crash', () => {
    for (const candidate of candidates) {
      const fn = exported<(body: unknown) => unknown>(patched(files, USERS_FILE, candidate), 'normalizePreferences');
      expect(() => fn({ name: 'a', preferences: {} }), candidate.template).not.toThrow();
    }
  });
});

const FIXTURE_USERS = `export interface Preferences {
  newsletter: boolean;
  marketing: string[];
}

export function normalizePreferences(preferences: Preferences): Required<Preferences> {
  const channels = preferences.marketing;
  if (preferences.newsletter === true) {
    channels.push('email');
  }
  return { newsletter: preferences.newsletter === true, marketing: [...new Set(channels)].sort() };
}
`;

describe('a constant read from the missing path', () => {
  it('initializes the path the constant was read from', () => {
    const files = new Map([[USERS_FILE, FIXTURE_USERS]]);
    const line = lineOf(FIXTURE_USERS, "channels.push('email')");
    const candidates = generateTemplateCandidates({
      files,
      suspects: [suspect(USERS_FILE, line)],
      symptom: { errorType: 'TypeError', message: "Cannot read properties of undefined (reading 'push')", frames: [] },
      maxCandidates: 10,
    });
    const init = candidates.find((candidate) => candidate.template === 'init-if-missing');
    expect(init?.editPlan.edits[0]).toMatchObject({
      startLine: line - 2,
      after: '  const channels = (preferences.marketing ??= []);',
    });
    expect(templates(candidates)).toEqual(['init-if-missing', 'nullish-default', 'optional-chaining']);
    const guard = candidates.find((candidate) => candidate.template === 'guard-return');
    // Required<Preferences> admits no empty value: the guard returns nothing only where the type allows it.
    expect(guard).toBeUndefined();
  });
});

const LEADERBOARD_FILE = 'src/leaderboard.ts';
const LEADERBOARD = `export interface ActiveUser {
  id: string;
  score: number;
}

export interface Cache {
  get(key: string): Promise<ActiveUser[] | null>;
}

export async function topUsers(cache: Cache, k: number) {
  const users = await cache.get('active_users');
  return users.sort((a, b) => b.score - a.score).slice(0, k);
}
`;

describe('leaderboard: null snapshot from the cache', () => {
  const line = lineOf(LEADERBOARD, 'users.sort');
  const files = new Map([[LEADERBOARD_FILE, LEADERBOARD]]);
  const symptom: RepairSymptom = {
    errorType: 'TypeError',
    message: "Cannot read properties of null (reading 'sort')",
    frames: [{ file: LEADERBOARD_FILE, line, column: columnOf(LEADERBOARD, line, 'sort'), function: 'topUsers', inApp: true }],
  };
  const candidates = generateTemplateCandidates({
    files,
    suspects: [suspect(LEADERBOARD_FILE, line)],
    symptom,
    maxCandidates: 10,
  });

  it('offers a nullish default and a guard returning [] (the inferred return type is an array)', () => {
    expect(templates(candidates)).toEqual(['nullish-default', 'optional-chaining', 'guard-return']);
    expect(candidates[0]?.editPlan.edits[0]?.after).toBe(
      '  return (users ?? []).sort((a, b) => b.score - a.score).slice(0, k);',
    );
    expect(candidates[1]?.editPlan.edits[0]?.after).toBe(
      '  return users?.sort((a, b) => b.score - a.score).slice(0, k) ?? [];',
    );
    const guard = candidates[2];
    expect(guard?.editPlan.edits[0]).toEqual({
      file: LEADERBOARD_FILE,
      startLine: line,
      endLine: line,
      before: '  return users.sort((a, b) => b.score - a.score).slice(0, k);',
      after: '  if (users == null) return [];\n  return users.sort((a, b) => b.score - a.score).slice(0, k);',
    });
    expect(guard?.size).toEqual({ files: 1, linesAdded: 1, linesRemoved: 0 });
  });

  it('each candidate returns [] for a null snapshot and the same ranking otherwise', async () => {
    type TopUsers = (cache: { get(key: string): Promise<unknown> }, k: number) => Promise<unknown>;
    const before = exported<TopUsers>(LEADERBOARD, 'topUsers');
    const snapshot = () => [
      { id: 'a', score: 3 },
      { id: 'b', score: 9 },
      { id: 'c', score: 5 },
    ];
    const empty = { get: () => Promise.resolve(null) };
    const full = { get: () => Promise.resolve(snapshot()) };
    await expect(before(empty, 2)).rejects.toThrow("Cannot read properties of null (reading 'sort')");
    for (const candidate of candidates) {
      const after = exported<TopUsers>(patched(files, LEADERBOARD_FILE, candidate), 'topUsers');
      await expect(after(empty, 2)).resolves.toEqual([]);
      await expect(after(full, 2)).resolves.toEqual(await before(full, 2));
    }
  });

  it('skips a guard when the declared return type has no empty value', () => {
    const declared = LEADERBOARD.replace('k: number) {', 'k: number): Promise<{ top: ActiveUser[] }> {').replace(
      'return users.sort((a, b) => b.score - a.score).slice(0, k);',
      'return { top: users.sort((a, b) => b.score - a.score).slice(0, k) };',
    );
    const result = generateTemplateCandidates({
      files: new Map([[LEADERBOARD_FILE, declared]]),
      suspects: [suspect(LEADERBOARD_FILE, line)],
      symptom: { ...symptom, frames: [] },
      maxCandidates: 10,
    });
    expect(templates(result)).toEqual(['nullish-default', 'optional-chaining']);
  });

  it('finds the access in a chain split over lines, as the fixture service writes it', () => {
    const chained = `export interface ActiveUser {
  id: string;
  score: number;
}

export interface RankedUser {
  rank: number;
  id: string;
}

export interface Cache {
  get<T>(key: string): Promise<T>;
}

export async function topUsers(cache: Cache, k: number): Promise<RankedUser[]> {
  const users = await cache.get<ActiveUser[]>('active_users');
  return users
    .sort((a, b) => b.score - a.score)
    .slice(0, k)
    .map((user, index) => ({ rank: index + 1, id: user.id }));
}
`;
    const sortLine = lineOf(chained, '.sort(');
    const result = generateTemplateCandidates({
      files: new Map([[LEADERBOARD_FILE, chained]]),
      suspects: [suspect(LEADERBOARD_FILE, sortLine)],
      symptom: { ...symptom, frames: [{ file: LEADERBOARD_FILE, line: sortLine, column: 6, function: 'topUsers', inApp: true }] },
      maxCandidates: 10,
    });
    expect(templates(result)).toEqual(['nullish-default', 'guard-return', 'optional-chaining']);
    expect(result[0]?.editPlan.edits[0]).toMatchObject({ startLine: sortLine - 1, after: '  return (users ?? [])' });
    expect(result[1]?.editPlan.edits[0]?.after.split('\n')[0]).toBe('  if (users == null) return [];');
    // The chain's value is used, so optional chaining carries a default over several lines.
    expect(result[2]?.changedLines).toBe(2);
  });
});

const HANDLER_FILE = 'src/handler.ts';
const HANDLER = `interface InventoryRecord {
  sku: string;
  items: { warehouse: string; available: number }[];
}

export type Outcome = { status: 'accepted'; warehouse: string } | { status: 'rejected'; reason: string };

export async function handleOrderMessage(message: { sku: string }, fetchImpl: typeof fetch): Promise<Outcome> {
  const res = await fetchImpl('http://inventory.internal/v1/inventory/' + message.sku);
  const body = (await res.json()) as InventoryRecord;
  if (body.items.length === 0) {
    return { status: 'rejected', reason: 'out_of_stock' };
  }
  const first = body.items[0];
  return { status: 'accepted', warehouse: first?.warehouse ?? 'none' };
}
`;

describe('message handler: inventory body without items', () => {
  const line = lineOf(HANDLER, 'body.items.length');
  const files = new Map([[HANDLER_FILE, HANDLER]]);
  const symptom: RepairSymptom = {
    errorType: 'TypeError',
    message: "Cannot read properties of undefined (reading 'length')",
    frames: [{ file: HANDLER_FILE, line, column: columnOf(HANDLER, line, 'length'), function: 'handleOrderMessage', inApp: true }],
  };
  const candidates = generateTemplateCandidates({ files, suspects: [suspect(HANDLER_FILE, line)], symptom, maxCandidates: 10 });

  it('offers a default for the list and optional chaining with a numeric default, but no guard', () => {
    expect(candidates.map((candidate) => candidate.editPlan.edits.map((edit) => edit.after))).toEqual([
      ['  if ((body.items ?? []).length === 0) {'],
      ['  if ((body.items?.length ?? 0) === 0) {'],
      // Last, with more changed lines: the later read of the same missing list skips as well.
      ['  if ((body.items?.length ?? 0) === 0) {', '  const first = body.items?.[0];'],
    ]);
    // The declared Outcome has no empty value a guard could return.
    expect(templates(candidates)).not.toContain('guard-return');
  });

  it('rejects the order instead of crashing, and accepts a stocked one as before', async () => {
    type Handler = (message: { sku: string }, fetchImpl: unknown) => Promise<unknown>;
    const answer = (body: unknown) => () => Promise.resolve({ json: () => Promise.resolve(body) });
    const before = exported<Handler>(HANDLER, 'handleOrderMessage');
    await expect(before({ sku: 'X1' }, answer({ sku: 'X1' }))).rejects.toThrow(
      "Cannot read properties of undefined (reading 'length')",
    );
    for (const candidate of candidates) {
      const after = exported<Handler>(patched(files, HANDLER_FILE, candidate), 'handleOrderMessage');
      await expect(after({ sku: 'X1' }, answer({ sku: 'X1' }))).resolves.toEqual({ status: 'rejected', reason: 'out_of_stock' });
      const stocked = answer({ sku: 'X1', items: [{ warehouse: 'w1', available: 2 }] });
      await expect(after({ sku: 'X1' }, stocked)).resolves.toEqual({ status: 'accepted', warehouse: 'w1' });
    }
  });
});

describe('other crash shapes', () => {
  it('repairs "x.map is not a function" with an array fallback and an Array.isArray guard inside a loop', () => {
    const source = `export function labels(groups: { name: string; tags: unknown }[]): string[] {
  const out: string[] = [];
  for (const group of groups) {
    const tags = group.tags as string[];
    out.push(...tags.map((tag) => group.name + ':' + tag));
  }
  return out;
}
`;
    const line = lineOf(source, 'tags.map');
    const result = generateTemplateCandidates({
      files: new Map([['src/labels.ts', source]]),
      suspects: [suspect('src/labels.ts', line)],
      symptom: { errorType: 'TypeError', message: 'tags.map is not a function', frames: [] },
      maxCandidates: 10,
    });
    expect(result.map((candidate) => [candidate.template, candidate.editPlan.edits[0]?.after.split('\n')[0]])).toEqual([
      ['array-wrap', "    out.push(...(Array.isArray(tags) ? tags : tags == null ? [] : [tags]).map((tag) => group.name + ':' + tag));"],
      ['array-fallback', "    out.push(...(Array.isArray(tags) ? tags : []).map((tag) => group.name + ':' + tag));"],
      ['guard-return', '    if (!Array.isArray(tags)) return [];'],
      ['guard-continue', '    if (!Array.isArray(tags)) continue;'],
    ]);
    const wrapped = exported<(groups: unknown) => unknown>(
      patched(new Map([['src/labels.ts', source]]), 'src/labels.ts', result[0]!),
      'labels',
    );
    // The single tag is kept, not dropped.
    expect(wrapped([{ name: 'a', tags: 'x' }, { name: 'b', tags: ['y'] }, { name: 'c' }])).toEqual(['a:x', 'b:y']);
    const continued = result[3];
    if (continued === undefined) throw new Error('no guard-continue');
    const fn = exported<(groups: unknown) => unknown>(
      patched(new Map([['src/labels.ts', source]]), 'src/labels.ts', continued),
      'labels',
    );
    expect(fn([{ name: 'a', tags: 'x' }, { name: 'b', tags: ['y'] }])).toEqual(['b:y']);
  });

  it('initializes a missing object before setting a property on it', () => {
    const source = `export function remember(state: { cache?: Record<string, number> }, key: string, value: number): void {
  state.cache[key] = value;
  state.cache.last = value;
}
`;
    const line = lineOf(source, 'state.cache.last');
    const result = generateTemplateCandidates({
      files: new Map([['src/state.ts', source]]),
      suspects: [suspect('src/state.ts', line)],
      symptom: { errorType: 'TypeError', message: "Cannot set properties of undefined (setting 'last')", frames: [] },
      maxCandidates: 10,
    });
    expect(result.map((candidate) => [candidate.template, candidate.editPlan.edits[0]?.after.split('\n')[0]])).toEqual([
      ['init-if-missing', '  (state.cache ??= {}).last = value;'],
      ['guard-return', '  if (state.cache == null) return;'],
    ]);
  });
});

describe('honesty and determinism', () => {
  const line = lineOf(LEADERBOARD, 'users.sort');
  const base = {
    files: new Map([[LEADERBOARD_FILE, LEADERBOARD]]),
    symptom: { errorType: 'TypeError', message: "Cannot read properties of null (reading 'sort')", frames: [] },
    maxCandidates: 10,
  };

  it('yields nothing for a suspect line without a matching access', () => {
    const other = lineOf(LEADERBOARD, "cache.get('active_users')");
    expect(generateTemplateCandidates({ ...base, suspects: [suspect(LEADERBOARD_FILE, other)] })).toEqual([]);
    expect(generateTemplateCandidates({ ...base, suspects: [suspect('src/missing.ts', line)] })).toEqual([]);
  });

  it('yields nothing for a message no template reads', () => {
    for (const symptom of [
      { errorType: 'RangeError', message: 'Invalid array length', frames: [] },
      { errorType: 'TypeError', message: 'users is not iterable', frames: [] },
      { errorType: 'Error', message: "Cannot read properties of null (reading 'sort')", frames: [] },
    ]) {
      expect(generateTemplateCandidates({ ...base, symptom, suspects: [suspect(LEADERBOARD_FILE, line)] })).toEqual([]);
    }
  });

  it('returns the same ids in the same order on every run', () => {
    const suspects = [suspect(LEADERBOARD_FILE, line, 0.9), suspect(LEADERBOARD_FILE, line - 1, 0.4)];
    const first = generateTemplateCandidates({ ...base, suspects });
    const second = generateTemplateCandidates({ ...base, suspects });
    expect(first.length).toBe(3);
    expect(second).toEqual(first);
  });

  it('skips rejected candidates by id or diff and honours maxCandidates', () => {
    const suspects = [suspect(LEADERBOARD_FILE, line)];
    const all = generateTemplateCandidates({ ...base, suspects });
    const [first, second, third] = all;
    if (first === undefined || second === undefined || third === undefined) throw new Error('expected three candidates');
    const rest = generateTemplateCandidates({ ...base, suspects, rejected: [first.id, second.editPlan.diff] });
    expect(rest.map((candidate) => candidate.id)).toEqual([third.id]);
    expect(generateTemplateCandidates({ ...base, suspects, maxCandidates: 1 }).map((c) => c.id)).toEqual([first.id]);
  });

  it('ranks candidates of a better suspect first', () => {
    const source = `export function sizes(a: { items?: string[] }, b: { items?: string[] }): number {
  const x = a.items.length;
  const y = b.items.length;
  return x + y;
}
`;
    const result = generateTemplateCandidates({
      files: new Map([['src/sizes.ts', source]]),
      suspects: [suspect('src/sizes.ts', 3, 0.8), suspect('src/sizes.ts', 2, 0.5)],
      symptom: { errorType: 'TypeError', message: "Cannot read properties of undefined (reading 'length')", frames: [] },
      maxCandidates: 20,
    });
    expect(result.map((candidate) => [candidate.suspectRank, candidate.editPlan.edits[0]?.startLine])).toEqual([
      [0, 3],
      [0, 3],
      [1, 2],
      [1, 2],
    ]);
  });
});
