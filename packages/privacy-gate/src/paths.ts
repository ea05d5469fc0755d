// Field paths: how data contracts address the envelope's data-bearing parts, and how reports name them.
//
// A path is a list of segments joined by `.`. A plain segment is `[A-Za-z0-9_$-]+`; any other key
// (one containing a dot, a space, a quote, ...) is written as a JSON string in brackets, so an OTel
// attribute key stays one segment: `spans.*.attributes["http.route"]`. Array positions are decimal
// segments (`entry.args.0`). In patterns `*` matches exactly one segment and `**` any number (zero
// or more). Header names are compared lowercase.

/** One parsed pattern segment. */
export type PatternSegment = { kind: 'literal'; value: string } | { kind: 'star' } | { kind: 'globstar' };

const PLAIN_SEGMENT = /^[A-Za-z0-9_$-]+$/;

/** Parses a contract path such as `spans.*.attributes["http.route"]`; throws with the reason when malformed. */
export function parsePattern(text: string): PatternSegment[] {
  const segments: PatternSegment[] = [];
  let index = 0;
  let expectSegment = true;
  while (index < text.length) {
    const char = text[index];
    if (char === '[') {
      const close = findBracketEnd(text, index);
      const literal = text.slice(index + 1, close);
      let value: unknown;
      try {
        value = JSON.parse(literal.startsWith("'") ? `"${literal.slice(1, -1).replaceAll('"', '\\"')}"` : literal);
      } catch {
        throw new Error(`bracketed segment ${literal} is not a quoted string`);
      }
      if (typeof value !== 'string') throw new Error(`bracketed segment ${literal} is not a quoted string`);
      segments.push({ kind: 'literal', value });
      index = close + 1;
      expectSegment = false;
      if (index < text.length && text[index] === '.') {
        index++;
        expectSegment = true;
        if (index >= text.length) throw new Error('path ends with a dot');
      } else if (index < text.length && text[index] !== '[') {
        throw new Error(`unexpected "${text[index]}" after a bracketed segment`);
      }
      continue;
    }
    if (!expectSegment && char !== '[') throw new Error(`unexpected "${char}"`);
    let end = index;
    while (end < text.length && text[end] !== '.' && text[end] !== '[') end++;
    const raw = text.slice(index, end);
    if (raw === '*') segments.push({ kind: 'star' });
    else if (raw === '**') segments.push({ kind: 'globstar' });
    else if (PLAIN_SEGMENT.test(raw)) segments.push({ kind: 'literal', value: raw });
    else throw new Error(raw === '' ? 'empty segment' : `segment "${raw}" must be quoted as ["${raw}"]`);
    index = end;
    expectSegment = false;
    if (text[index] === '.') {
      index++;
      expectSegment = true;
      if (index >= text.length) throw new Error('path ends with a dot');
    }
  }
  if (segments.length === 0) throw new Error('empty path');
  return segments;
}

function findBracketEnd(text: string, open: number): number {
  const quote = text[open + 1];
  if (quote !== '"' && quote !== "'") throw new Error('a bracketed segment must hold a quoted string');
  for (let i = open + 2; i < text.length; i++) {
    if (text[i] === '\\') {
      i++;
      continue;
    }
    if (text[i] === quote) {
      if (text[i + 1] !== ']') throw new Error('expected "]" after the quoted segment');
      return i + 1;
    }
  }
  throw new Error('unterminated bracketed segment');
}

/** Renders concrete segments in the path syntax (plain segments dotted, others bracket-quoted). */
export function formatPath(segments: readonly string[]): string {
  let text = '';
  for (const segment of segments) {
    if (PLAIN_SEGMENT.test(segment) || segment === '*') text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** Renders a pattern back to text. */
export function formatPattern(pattern: readonly PatternSegment[]): string {
  let text = '';
  for (const segment of pattern) {
    if (segment.kind === 'literal' && !PLAIN_SEGMENT.test(segment.value)) {
      text += `[${JSON.stringify(segment.value)}]`;
      continue;
    }
    const raw = segment.kind === 'literal' ? segment.value : segment.kind === 'star' ? '*' : '**';
    text += text === '' ? raw : `.${raw}`;
  }
  return text;
}

/** True when `pattern` matches the concrete path exactly (`*` one segment, `**` zero or more). */
export function matchPattern(pattern: readonly PatternSegment[], path: readonly string[]): boolean {
  return matchFrom(pattern, 0, path, 0);
}

function matchFrom(pattern: readonly PatternSegment[], p: number, path: readonly string[], s: number): boolean {
  if (p === pattern.length) return s === path.length;
  const segment = pattern[p];
  if (segment === undefined) return false;
  if (segment.kind === 'globstar') {
    for (let next = s; next <= path.length; next++) if (matchFrom(pattern, p + 1, path, next)) return true;
    return false;
  }
  if (s === path.length) return false;
  if (segment.kind === 'literal' && segment.value !== path[s]) return false;
  return matchFrom(pattern, p + 1, path, s + 1);
}

/** Orders competing patterns: more literal segments first, then fewer `**`, then longer. */
export function specificity(pattern: readonly PatternSegment[]): [number, number, number] {
  const literals = pattern.filter((segment) => segment.kind === 'literal').length;
  const globstars = pattern.filter((segment) => segment.kind === 'globstar').length;
  return [literals, -globstars, pattern.length];
}

/** The roots of the envelope's data-bearing parts; every contract path lies under one of them. */
export const DATA_ROOTS: readonly (readonly string[])[] = [
  ['entry', 'body'],
  ['entry', 'query'],
  ['entry', 'headers'],
  ['entry', 'args'],
  ['entry', 'payload'],
  ['downstream', '*', 'responseBody'],
  ['downstream', '*', 'responseHeaders'],
  ['spans', '*', 'attributes'],
  ['spans', '*', 'events', '*', 'attributes'],
  ['logs', '*', 'body'],
  ['logs', '*', 'attributes'],
];

/** Roots whose keys are header names, compared lowercase. */
export const HEADER_ROOTS: readonly (readonly string[])[] = [
  ['entry', 'headers'],
  ['downstream', '*', 'responseHeaders'],
];

/** Roots whose keys are flat attribute names (one segment each, dots included). */
export const ATTRIBUTE_ROOTS: readonly (readonly string[])[] = [
  ['spans', '*', 'attributes'],
  ['spans', '*', 'events', '*', 'attributes'],
  ['logs', '*', 'attributes'],
];

/** Roots whose values are strings under one key each (query parameters, headers): a path ends at the key. */
const FLAT_STRING_ROOTS: readonly (readonly string[])[] = [['entry', 'query'], ...HEADER_ROOTS];

function isOneOf(root: readonly string[], roots: readonly (readonly string[])[]): boolean {
  return roots.some((candidate) => candidate.join('.') === root.join('.'));
}

function segmentFits(segment: PatternSegment, root: string): boolean {
  return segment.kind !== 'literal' || root === '*' || segment.value === root;
}

/** Which data root a pattern lies under, or undefined when it can match no data-bearing path. */
export function rootOfPattern(pattern: readonly PatternSegment[]): readonly string[] | undefined {
  return DATA_ROOTS.find((root) => {
    for (let i = 0; i < root.length; i++) {
      const segment = pattern[i];
      const rootSegment = root[i];
      if (segment === undefined || rootSegment === undefined) return false;
      if (segment.kind === 'globstar') return true;
      if (!segmentFits(segment, rootSegment)) return false;
    }
    return true;
  });
}

/** Explains why a pattern is unusable (outside every data root, a dotted attribute key left unquoted), or undefined. */
export function checkPattern(pattern: readonly PatternSegment[]): string | undefined {
  const root = rootOfPattern(pattern);
  if (root === undefined) {
    return `lies outside the data-bearing parts (${DATA_ROOTS.map((r) => r.join('.')).join(', ')})`;
  }
  const beforeRoot = pattern.slice(0, root.length).every((s) => s.kind !== 'globstar');
  if (isOneOf(root, FLAT_STRING_ROOTS) && beforeRoot) {
    const beyond = pattern.slice(root.length + 1);
    if (beyond.some((s) => s.kind !== 'globstar')) {
      return `matches nothing: every value under ${root.join('.')} is a string, so a path ends at its key (write ${formatPattern(pattern.slice(0, root.length + 1))})`;
    }
  }
  if (isOneOf(root, ATTRIBUTE_ROOTS) && beforeRoot) {
    const rest = pattern.slice(root.length);
    const after = rest[1];
    if (after?.kind === 'literal' && !/^\d+$/.test(after.value)) {
      return `attribute keys are one segment: write ${formatPattern(pattern.slice(0, root.length))}["${rest
        .filter((s) => s.kind === 'literal')
        .map((s) => (s.kind === 'literal' ? s.value : ''))
        .join('.')}"]`;
    }
  }
  return undefined;
}

/** Lowercases literal header-name segments so patterns compare like HTTP does. */
export function normalizePattern(pattern: readonly PatternSegment[]): PatternSegment[] {
  const root = rootOfPattern(pattern);
  if (root === undefined || !isOneOf(root, HEADER_ROOTS)) return [...pattern];
  return pattern.map((segment, index) =>
    index === root.length && segment.kind === 'literal' ? { kind: 'literal', value: segment.value.toLowerCase() } : segment,
  );
}
