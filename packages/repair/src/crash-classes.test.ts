import { createContext, runInContext } from 'node:vm';
import type { Suspect } from '@tracemend/contracts';
import { ts } from 'ts-morph';
import { describe, expect, it } from 'vitest';
import { applyEdits } from './edits';
import { generateTemplateCandidates } from './generate';
import { parseCrash } from './symptom';

/**
 * Each case is a small module whose function crashes on a given input. The message repaired from is the
 * one V8 really throws for it; a case passes when a candidate of the expected template makes the same
 * call return the expected value instead of throwing.
 */
interface CrashCase {
  name: string;
  file: string;
  source: string;
  fn: string;
  args: unknown[];
  /** Text on the crashing line. */
  at: string;
  template: string;
  returns: unknown;
}

function load(file: string, source: string): Record<string, unknown> {
  const { outputText } = ts.transpileModule(source, {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, allowJs: true },
  });
  const module = { exports: {} as Record<string, unknown> };
  runInContext(outputText, createContext({ module, exports: module.exports, Buffer }));
  return module.exports;
}

function call(file: string, source: string, fn: string, args: unknown[]): unknown {
  return (load(file, source)[fn] as (...values: unknown[]) => unknown)(...structuredClone(args));
}

/** What a call threw or rejected with; sync and async functions alike. */
async function thrown(run: () => unknown): Promise<{ errorType: string; message: string }> {
  try {
    await run();
  } catch (error) {
    const { name, message } = error as Error;
    return { errorType: name, message };
  }
  throw new Error('expected the original code to throw');
}

function suspectAt(file: string, source: string, needle: string): Suspect {
  const line = source.split('\n').findIndex((text) => text.includes(needle)) + 1;
  if (line === 0) throw new Error(`no line contains ${needle}`);
  return { file, line, score: 0.9, scores: { ochiai: 0.9, frameWeight: 1 }, context: { startLine: line, lines: [] } };
}

const CASES: CrashCase[] = [
  {
    name: 'a number method on an amount that arrives as a string',
    file: 'src/payouts.js',
    source: `export function payoutLine(payout) {
  return { id: payout.id, amount: payout.amount.toFixed(2) };
}
`,
    fn: 'payoutLine',
    args: [{ id: 'p1', amount: '12.5' }],
    at: 'toFixed',
    template: 'coerce-receiver',
    returns: { id: 'p1', amount: '12.50' },
  },
  {
    name: 'a date method on a timestamp that arrives as an ISO string',
    file: 'src/events.ts',
    source: `export function dayOf(event: { at: Date }): string {
  return event.at.toISOString().slice(0, 10);
}
`,
    fn: 'dayOf',
    args: [{ at: '2026-01-02T03:04:05Z' }],
    at: 'toISOString',
    template: 'coerce-receiver',
    returns: '2026-01-02',
  },
  {
    name: 'a string method on a reference that arrives as a number',
    file: 'src/orders.js',
    source: `export function orderCode(order) {
  return 'ORD-' + order.ref.padStart(6, '0');
}
`,
    fn: 'orderCode',
    args: [{ ref: 42 }],
    at: 'padStart',
    template: 'coerce-receiver',
    returns: 'ORD-000042',
  },
  {
    name: 'for…of over a missing list',
    file: 'src/cart.ts',
    source: `export function totalCents(cart: { lines?: { cents: number }[] }): number {
  let sum = 0;
  for (const line of cart.lines!) sum += line.cents;
  return sum;
}
`,
    fn: 'totalCents',
    args: [{}],
    at: 'for (const line',
    template: 'iterable-default',
    returns: 0,
  },
  {
    name: 'spreading the second of two lists, which is missing',
    file: 'src/tags.js',
    source: `export function allTags(post, author) {
  return [...post.tags, ...author.tags];
}
`,
    fn: 'allTags',
    args: [{ tags: ['a'] }, {}],
    at: '...author.tags',
    template: 'iterable-default',
    returns: ['a'],
  },
  {
    name: 'array destructuring of a lookup that found nothing',
    file: 'src/rates.js',
    source: `const TABLE = new Map([['EUR', [1.1, 'ECB']]]);
export function rateOf(currency) {
  const [rate, source] = TABLE.get(currency);
  return { rate: rate ?? 1, source: source ?? 'none' };
}
`,
    fn: 'rateOf',
    args: ['JPY'],
    at: 'TABLE.get',
    template: 'iterable-default',
    returns: { rate: 1, source: 'none' },
  },
  {
    name: "array destructuring of a call whose result is not iterable (V8 names the callee)",
    file: 'src/split.js',
    source: `function halves(text) {
  return text.includes(':') ? text.split(':') : undefined;
}
export function keyOf(text) {
  const [key] = halves(text);
  return key ?? text;
}
`,
    fn: 'keyOf',
    args: ['plain'],
    at: 'halves(text);',
    template: 'iterable-default',
    returns: 'plain',
  },
  {
    name: 'object destructuring of a missing body',
    file: 'src/greet.js',
    source: `export function greeting(req) {
  const { name = 'guest' } = req.body;
  return 'hello ' + name;
}
`,
    fn: 'greeting',
    args: [{}],
    at: 'req.body',
    template: 'destructure-default',
    returns: 'hello guest',
  },
  {
    name: 'a destructured parameter the caller did not pass',
    file: 'src/label.js',
    // A module-private helper: on an exported function the default would change its signature, which
    // repair refuses.
    source: `function label({ name = 'anonymous', tier = 'free' }) {
  return name + ':' + tier;
}
export function badge(user) {
  return label(user.profile);
}
`,
    fn: 'badge',
    args: [{}],
    at: 'function label',
    template: 'destructure-default',
    returns: 'anonymous:free',
  },
  {
    name: 'BigInt of a float that binary arithmetic left a hair below the integer',
    file: 'src/money.ts',
    source: `export function toMinorUnits(amount: string, exponent: number): bigint {
  return BigInt(Number(amount) * 10 ** exponent);
}
`,
    fn: 'toMinorUnits',
    args: ['19.99', 2],
    at: 'BigInt(',
    template: 'clamp-argument',
    returns: 1999n,
  },
  {
    name: 'padding with a negative repeat count',
    file: 'src/table.js',
    source: `export function cell(text, width) {
  return text + ' '.repeat(width - text.length);
}
`,
    fn: 'cell',
    args: ['overflowing', 4],
    at: 'repeat',
    template: 'clamp-argument',
    returns: 'overflowing',
  },
  {
    name: 'an array sized by a negative count',
    file: 'src/slots.js',
    source: `export function emptySlots(capacity, used) {
  return new Array(capacity - used).fill(null);
}
`,
    fn: 'emptySlots',
    args: [2, 3],
    at: 'new Array',
    template: 'clamp-argument',
    returns: [],
  },
  {
    name: 'toFixed with more digits than it accepts',
    file: 'src/format.js',
    source: `export function show(value, decimals) {
  return value.toFixed(decimals);
}
`,
    fn: 'show',
    args: [1.5, 120],
    at: 'toFixed',
    template: 'clamp-argument',
    returns: (1.5).toFixed(100),
  },
  {
    name: 'toISOString of a date parsed from a malformed string',
    file: 'src/dates.ts',
    source: `export function isoDay(text: string): string | null {
  const date = new Date(text);
  return date.toISOString().slice(0, 10);
}
`,
    fn: 'isoDay',
    args: ['31/12/2026'],
    at: 'toISOString',
    template: 'guard-return',
    returns: null,
  },
  {
    name: 'a completion callback the caller did not pass',
    file: 'src/jobs.js',
    source: `export function runJob(job, done) {
  const result = job.steps.length;
  done(null, result);
  return result;
}
`,
    fn: 'runJob',
    args: [{ steps: [1, 2] }],
    at: 'done(null',
    template: 'optional-call',
    returns: 2,
  },
  {
    name: 'an optional hook missing from an options object',
    file: 'src/upload.ts',
    source: `export interface UploadOptions { onProgress: (sent: number) => void }
export async function upload(parts: string[], options: UploadOptions): Promise<number> {
  let sent = 0;
  for (const part of parts) {
    sent += part.length;
    options.onProgress(sent);
  }
  return sent;
}
`,
    fn: 'upload',
    args: [['ab', 'c'], {}],
    at: 'options.onProgress',
    template: 'optional-call',
    returns: 3,
  },
  {
    name: 'a missing await on a lookup',
    file: 'src/profile.js',
    source: `async function fetchUser(id) {
  return { id, profile: { name: 'Ada' } };
}
export async function displayName(id) {
  const user = fetchUser(id);
  return user.profile.name;
}
`,
    fn: 'displayName',
    args: ['u1'],
    at: 'user.profile.name',
    template: 'add-await',
    returns: 'Ada',
  },
  {
    name: 'promises mapped from a list and used as values',
    file: 'src/cart.js',
    source: `const pricing = {
  async quote(item) {
    return { amount: { cents: item.cents } };
  },
};
export async function subtotal(items) {
  const lines = items.map((item) => pricing.quote(item));
  return lines.reduce((sum, line) => sum + line.amount.cents, 0);
}
`,
    fn: 'subtotal',
    args: [[{ cents: 250 }, { cents: 100 }]],
    at: 'line.amount.cents',
    template: 'add-await',
    returns: 350,
  },
  {
    name: 'the open-ended last tier read one past the end (the crash is in the caller)',
    file: 'src/pricing.js',
    source: `function tierFor(tiers, seats) {
  const index = tiers.findIndex((tier) => seats <= tier.upTo);
  return tiers[index === -1 ? tiers.length : index];
}
export function unitPrice(plan, seats) {
  return tierFor(plan.tiers, seats).unitCents;
}
`,
    fn: 'unitPrice',
    args: [{ tiers: [{ upTo: 10, unitCents: 900 }, { upTo: 1e9, unitCents: 700 }] }, 2e9],
    at: 'tiers.length',
    template: 'last-index',
    returns: 700,
  },
  {
    name: 'a missing row read twice, its settings used as an object',
    file: 'src/preferences.js',
    source: `const DEFAULTS = { frequency: 'weekly', digest: true };
async function load(store, id) {
  return store[id] ?? null;
}
export async function preferencesFor(store, id) {
  const row = await load(store, id);
  const saved = row.settings;
  const settings = Object.fromEntries(Object.keys(DEFAULTS).map((name) => [name, saved[name] ?? DEFAULTS[name]]));
  return { id, settings, updatedAt: row.updatedAt };
}
`,
    fn: 'preferencesFor',
    args: [{}, 's1'],
    at: 'row.settings',
    template: 'optional-chaining',
    returns: { id: 's1', settings: { frequency: 'weekly', digest: true }, updatedAt: undefined },
  },
  {
    name: 'results an async forEach callback had not set yet',
    file: 'src/bundles.ts',
    source: `const STORE: Record<string, string[]> = { 'BND-1': ['tent', 'pegs'] };
async function componentsOf(sku: string): Promise<string[]> {
  return STORE[sku] ?? [];
}
export async function expand(skus: string[]): Promise<string[]> {
  const components: Record<string, string[]> = {};
  skus.forEach(async (sku) => {
    components[sku] = await componentsOf(sku);
  });
  return skus.flatMap((sku) => components[sku]!.map((part) => sku + '/' + part));
}
`,
    fn: 'expand',
    args: [['BND-1']],
    at: "components[sku]!.map",
    template: 'await-foreach',
    returns: ['BND-1/tent', 'BND-1/pegs'],
  },
  {
    name: 'an API Gateway proxy body the proxy base64-encoded',
    file: 'src/http.js',
    source: `export function parseBody(event) {
  if (!event.body) return {};
  return JSON.parse(event.body);
}
`,
    fn: 'parseBody',
    args: [{ body: Buffer.from('{"total":42}', 'utf8').toString('base64'), isBase64Encoded: true }],
    at: 'JSON.parse',
    template: 'decode-base64-body',
    returns: { total: 42 },
  },
  {
    name: 'a dependency refusing a number whose separators only the first replace removed',
    file: 'src/amounts.js',
    source: `class DecimalError extends Error {
  constructor(text) {
    super('[DecimalError] Invalid argument: ' + text);
  }
}
function toDecimal(text) {
  if (!/^\\d+(\\.\\d+)?$/.test(text)) throw new DecimalError(text);
  return Number(text);
}
export function parseAmount(text) {
  return toDecimal(text.trim().replace(',', ''));
}
`,
    fn: 'parseAmount',
    args: ['1,250,000.00'],
    at: ".replace(',', '')",
    template: 'replace-all',
    returns: 1250000,
  },
  {
    name: 'the same with a regular expression that lacks the g flag',
    file: 'src/amounts.js',
    source: `export function parseAmount(text) {
  const digits = text.replace(/[ ,]/, '');
  if (!/^\\d+$/.test(digits)) throw new Error('not a whole amount: ' + digits);
  return Number(digits);
}
`,
    fn: 'parseAmount',
    args: ['1 250 000'],
    at: 'text.replace',
    template: 'replace-all',
    returns: 1250000,
  },
  {
    name: 'a bitwise truncation that wraps a large amount negative, caught by a check further on',
    file: 'src/points.js',
    source: `function minorUnits(value) {
  return value | 0;
}
export function pointsFor(amount) {
  const points = Math.floor(minorUnits(amount) / 100);
  if (!Number.isSafeInteger(points) || points <= 0) throw new RangeError('points must be a positive safe integer, got ' + points);
  return points;
}
`,
    fn: 'pointsFor',
    args: [2500000000.000001],
    at: 'value | 0',
    template: 'trunc-not-bitwise',
    returns: 25000000,
  },
];

describe('templates for the crash classes beyond nullish reads, from the message V8 really throws', () => {
  it.each(CASES.map((crashCase) => [crashCase.name, crashCase] as const))('%s', async (_name, crashCase) => {
    const { file, source, fn, args, at, template, returns } = crashCase;
    const symptom = { ...(await thrown(() => call(file, source, fn, args))), frames: [] };
    // Message-driven templates need no crash kind: what throws may be a dependency's own error class.
    if (template !== 'replace-all' && template !== 'trunc-not-bitwise') expect(parseCrash(symptom), symptom.message).toBeDefined();
    const files = new Map([[file, source]]);
    const candidates = generateTemplateCandidates({ files, suspects: [suspectAt(file, source, at)], symptom, maxCandidates: 10 });
    const fixes = candidates.filter((candidate) => candidate.template === template);
    expect(fixes.length, `${symptom.message}: ${candidates.map((candidate) => candidate.template).join(', ')}`).toBeGreaterThan(0);
    const results = await Promise.all(
      fixes.map(async (candidate) => {
        const text = applyEdits(files, candidate.editPlan.edits).get(file) ?? '';
        try {
          return await call(file, text, fn, args);
        } catch (error) {
          return `threw ${(error as Error).message}`;
        }
      }),
    );
    expect(results).toContainEqual(returns);
  });

  it.each([
    ['await-foreach', 'components[sku]!.map'],
    ['last-index', '.unitCents'],
    ['add-await', 'line.amount.cents'],
  ])('tries the bug-pattern template %s before templates that only stop the symptom', async (template, crashLine) => {
    const crashCase = CASES.find((candidate) => candidate.template === template && candidate.source.includes(crashLine))!;
    const { file, source, fn, args, at } = crashCase;
    const symptom = { ...(await thrown(() => call(file, source, fn, args))), frames: [] };
    // The crash line ranks first, the bug pattern's line (when another) second.
    const suspects = [suspectAt(file, source, crashLine), suspectAt(file, source, at)];
    const candidates = generateTemplateCandidates({ files: new Map([[file, source]]), suspects, symptom, maxCandidates: 10 });
    expect(candidates.length).toBeGreaterThan(1);
    expect(candidates[0]?.template).toBe(template);
  });

  it('prefers the access the message names when two spreads share the line', async () => {
    const source = `export function both(a, b) {
  return [...a.items, ...b.items];
}
`;
    const file = 'src/both.js';
    const symptom = { ...(await thrown(() => call(file, source, 'both', [{}, { items: [] }]))), frames: [] };
    expect(symptom.message).toMatch(/^a\.items is not iterable/);
    const candidates = generateTemplateCandidates({ files: new Map([[file, source]]), suspects: [suspectAt(file, source, 'a.items')], symptom, maxCandidates: 10 });
    expect(candidates.length).toBeGreaterThan(0);
    for (const candidate of candidates) expect(candidate.editPlan.edits[0]?.after).not.toMatch(/b\.items \?\?/);
  });

  it('leaves a call whose result is used alone: skipping it would only move the crash', async () => {
    const source = `export function priced(item, price) {
  const cents = price(item);
  return cents * 2;
}
`;
    const file = 'src/priced.js';
    const symptom = { ...(await thrown(() => call(file, source, 'priced', [{}]))), frames: [] };
    expect(symptom.message).toBe('price is not a function');
    const candidates = generateTemplateCandidates({ files: new Map([[file, source]]), suspects: [suspectAt(file, source, 'price(item)')], symptom, maxCandidates: 10 });
    expect(candidates.map((candidate) => candidate.template)).not.toContain('optional-call');
  });

  it('adds no await where TypeScript knows the value is no promise', async () => {
    const source = `interface User { profile?: { name: string } }
function cachedUser(id: string): User {
  return { profile: id === 'u1' ? { name: 'Ada' } : undefined };
}
export async function displayName(id: string): Promise<string> {
  const user = cachedUser(id);
  return user.profile!.name;
}
`;
    const file = 'src/cached.ts';
    const symptom = { ...(await thrown(() => call(file, source, 'displayName', ['u2']))), frames: [] };
    const candidates = generateTemplateCandidates({ files: new Map([[file, source]]), suspects: [suspectAt(file, source, 'user.profile')], symptom, maxCandidates: 10 });
    expect(candidates.length).toBeGreaterThan(0);
    expect(candidates.map((candidate) => candidate.template)).not.toContain('add-await');
  });

  it('leaves an append through xs[xs.length] and an adjusted index alone', () => {
    const source = `export function push(xs, v, ys) {
  xs[xs.length] = v;
  return ys[ys.length - 1].id + xs[0].id;
}
`;
    const file = 'src/append.js';
    const symptom = { errorType: 'TypeError', message: "Cannot read properties of undefined (reading 'id')", frames: [] };
    for (const needle of ['xs[xs.length]', 'ys[ys.length - 1]']) {
      const candidates = generateTemplateCandidates({ files: new Map([[file, source]]), suspects: [suspectAt(file, source, needle)], symptom, maxCandidates: 10 });
      expect(candidates.map((candidate) => candidate.template)).not.toContain('last-index');
    }
  });

  it('leaves a replace alone when the message no longer shows its pattern', async () => {
    const source = `export function slug(text) {
  const first = text.replace('-', ' ');
  if (first.length > 5) throw new Error('too long');
  return first;
}
`;
    const file = 'src/slug.js';
    const symptom = { ...(await thrown(() => call(file, source, 'slug', ['a-b-c-d-e']))), frames: [] };
    const candidates = generateTemplateCandidates({ files: new Map([[file, source]]), suspects: [suspectAt(file, source, 'replace')], symptom, maxCandidates: 10 });
    expect(candidates).toEqual([]);
  });

  it('leaves a bitwise truncation alone when the message shows no wrapped number', () => {
    const source = `export function half(value) {
  return (value | 0) / 2;
}
`;
    const file = 'src/half.js';
    const symptom = { errorType: 'RangeError', message: 'value 7 is odd', frames: [] };
    expect(generateTemplateCandidates({ files: new Map([[file, source]]), suspects: [suspectAt(file, source, 'value | 0')], symptom, maxCandidates: 10 })).toEqual([]);
  });

  it('leaves a coercion out when the member is both a string and an array method', async () => {
    const source = `export function has(list, x) {
  return list.includes(x);
}
`;
    const file = 'src/has.js';
    const symptom = { ...(await thrown(() => call(file, source, 'has', [5, 1]))), frames: [] };
    const candidates = generateTemplateCandidates({ files: new Map([[file, source]]), suspects: [suspectAt(file, source, 'includes')], symptom, maxCandidates: 10 });
    expect(candidates.map((candidate) => candidate.template)).not.toContain('coerce-receiver');
  });
});
