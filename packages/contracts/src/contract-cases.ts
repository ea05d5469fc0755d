// Test support: the table shape every `*.cases.ts` file fills in, and the runner its `*.test.ts` calls.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TracemendError } from './errors';
import { parseContract } from './parse';

/** A location inside a value, as zod reports it in `issue.path`. */
export type Path = readonly PropertyKey[];

/**
 * What a bad case breaks: a required field left out, a field of the wrong type, a value past its bound
 * (string length, array count, record size, number range), or a value outside an enum/literal/format.
 */
export type BadKind = 'missing' | 'wrong-type' | 'over-bound' | 'out-of-domain';

/** One rejected value and the path its error must name. */
export interface BadCase {
  kind: BadKind;
  at: Path;
  value: unknown;
  /** What the issue at `at` must say; defaults per kind. */
  message: RegExp;
}

/** Good and bad values for one exported schema. */
export interface ContractCases {
  schema: z.ZodType;
  good: readonly [unknown, ...unknown[]];
  bad: readonly BadCase[];
}

/** Cases keyed by the schema's exported name. */
export type CaseTable = Record<string, ContractCases>;

const DEFAULT_MESSAGE: Record<BadKind, RegExp> = {
  missing: /received undefined|Invalid option/,
  'wrong-type': /Invalid (input|option)/,
  'over-bound': /Too big|at most/,
  'out-of-domain': /Invalid/,
};

/** Renders a path the way `formatIssues` does: `symptom.frames[3].file`. */
export function renderPath(path: Path): string {
  const text = path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return acc === '' ? String(key) : `${acc}.${String(key)}`;
  }, '');
  return text === '' ? '(root)' : text;
}

function isContainer(value: unknown): value is Record<PropertyKey, unknown> {
  return typeof value === 'object' && value !== null;
}

const REMOVE = Symbol('remove');

/** A deep copy of `base` with `value` at `at` (or the key removed when `value` is `REMOVE`). */
export function changeAt(base: unknown, at: Path, value: unknown): unknown {
  if (at.length === 0) return value === REMOVE ? undefined : value;
  // A JSON round trip, unlike structuredClone, also unshares objects the base reuses in several spots.
  const copy: unknown = JSON.parse(JSON.stringify(base));
  let node: unknown = copy;
  for (const key of at.slice(0, -1)) {
    if (!isContainer(node)) throw new Error(`no container at ${renderPath(at)}`);
    node = node[key];
  }
  const last = at[at.length - 1] as PropertyKey;
  if (!isContainer(node)) throw new Error(`no container at ${renderPath(at)}`);
  if (value === REMOVE) {
    if (!(last in node)) throw new Error(`nothing to remove at ${renderPath(at)}`);
    if (Array.isArray(node)) throw new Error(`remove an object key, not an array item, at ${renderPath(at)}`);
    delete node[last];
  } else node[last] = value;
  return copy;
}

/** Builds bad cases by changing one spot of a known-good value. */
export interface Mutator {
  missing(at: Path, message?: RegExp): BadCase;
  wrongType(at: Path, value: unknown, message?: RegExp): BadCase;
  overBound(at: Path, value: unknown, message?: RegExp): BadCase;
  outOfDomain(at: Path, value: unknown, message?: RegExp): BadCase;
}

function mutatorOf(base: unknown): Mutator {
  const make = (kind: BadKind, at: Path, value: unknown, message: RegExp | undefined): BadCase => ({
    kind,
    at,
    value: changeAt(base, at, value),
    message: message ?? DEFAULT_MESSAGE[kind],
  });
  return {
    missing: (at, message) => make('missing', at, REMOVE, message),
    wrongType: (at, value, message) => make('wrong-type', at, value, message),
    overBound: (at, value, message) => make('over-bound', at, value, message),
    outOfDomain: (at, value, message) => make('out-of-domain', at, value, message),
  };
}

/** Cases for one schema: good values (the first is the base the bad ones change) and the bad ones. */
export function casesOf(
  schema: z.ZodType,
  good: readonly [unknown, ...unknown[]],
  bad: (change: Mutator) => BadCase[],
): ContractCases {
  return { schema, good, bad: bad(mutatorOf(good[0])) };
}

/** `count` copies of `item`: arrays one past their bound. */
export function repeat<T>(count: number, item: T): T[] {
  return Array.from({ length: count }, () => item);
}

/** A record with `count` distinct keys: records one past their bound. */
export function entries<T>(count: number, value: T): Record<string, T> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, value]));
}

/** A string of `length` characters. */
export function chars(length: number, char = 'a'): string {
  return char.repeat(length);
}

/** The error `parseContract` throws for `value`, or a failed expectation when it does not throw. */
export function rejectionOf(schema: z.ZodType, value: unknown, name: string): TracemendError {
  try {
    parseContract(schema, value, name);
  } catch (error) {
    expect(error).toBeInstanceOf(TracemendError);
    return error as TracemendError;
  }
  throw new Error(`${name} accepted a value it should reject`);
}

/** The zod issues behind a rejection. */
export function issuesOf(error: TracemendError): z.core.$ZodIssue[] {
  expect(error.cause).toBeInstanceOf(z.ZodError);
  return (error.cause as z.ZodError).issues;
}

/** An issue's message plus, for a union, the messages of each option's issues at the same spot. */
function messagesOf(issue: z.core.$ZodIssue): string[] {
  if (issue.code !== 'invalid_union') return [issue.message];
  return [issue.message, ...issue.errors.flat().filter((inner) => inner.path.length === 0).flatMap(messagesOf)];
}

function startsWith(path: Path, prefix: Path): boolean {
  return prefix.every((key, i) => path[i] === key);
}

/** Registers one `describe` per schema: every good value parses unchanged, every bad one names its path. */
export function runContractCases(table: CaseTable): void {
  for (const [name, cases] of Object.entries(table)) {
    describe(name, () => {
      it.each(cases.good.map((value, index) => ({ index, value })))('accepts good value #$index', ({ value }) => {
        expect(parseContract(cases.schema, value, name)).toEqual(value);
      });

      it.each(cases.bad.map((bad) => ({ ...bad, where: renderPath(bad.at) })))(
        'rejects $kind at $where',
        ({ value, at, where, message }) => {
          const error = rejectionOf(cases.schema, value, name);
          expect(error.code).toBe('INVALID_INPUT');
          expect(error.message.startsWith(`${name} is invalid: `)).toBe(true);
          const issues = issuesOf(error);
          // Only the changed spot may fail: anything else means the base value was not good.
          const elsewhere = issues.filter((issue) => !startsWith(issue.path, at)).map((issue) => renderPath(issue.path));
          expect(elsewhere, 'issues outside the changed spot').toEqual([]);
          const named = issues.filter((issue) => renderPath(issue.path) === where);
          expect(named.length, `no issue at ${where} in: ${error.message}`).toBeGreaterThan(0);
          expect(error.message).toContain(`${where}: `);
          expect(named.flatMap(messagesOf).join(' | ')).toMatch(message);
        },
      );
    });
  }
}
