import { offsetCountsOf, type V8CoverageRange } from '@tracemend/contracts';
export { offsetCountsOf } from '@tracemend/contracts';
export type { V8CoverageRange } from '@tracemend/contracts';

/** One function of V8 precise coverage: its first range spans the function, later ones its blocks. */
export interface V8FunctionCoverage {
  functionName: string;
  isBlockCoverage: boolean;
  ranges: V8CoverageRange[];
}

/** One script as `NODE_V8_COVERAGE` files (`result[]`) and `Profiler.takePreciseCoverage` report it. */
export interface V8ScriptCoverage {
  scriptId?: string;
  url: string;
  functions: V8FunctionCoverage[];
}

/** 1-based line number to execution count; 0 means the line has code that did not run. */
export type LineHits = Map<number, number>;

/**
 * Per script, per line execution counts from V8 precise coverage.
 *
 * The rule: V8 ranges nest (a script's top-level range, functions inside it, blocks inside those), and
 * the innermost range containing an offset decides that offset's count; for ranges of equal extent the
 * one reported later (a block after its function) wins. A line's count is the largest count of any
 * code character on it, where code means neither whitespace nor comment, so `} else {` after a taken
 * branch counts as run. Lines without code (blank, comment-only) and offsets outside every range are
 * absent. Scripts without an entry in `sources` are skipped; several entries for one url are summed.
 */
export function lineHitsFromV8Coverage(
  coverage: readonly V8ScriptCoverage[],
  sources: ReadonlyMap<string, string>,
): Map<string, LineHits> {
  const byUrl = new Map<string, LineHits>();
  for (const script of coverage) {
    const source = sources.get(script.url);
    if (source === undefined) continue;
    const hits = scriptLineHits(script, source);
    const merged = byUrl.get(script.url);
    if (merged === undefined) {
      byUrl.set(script.url, hits);
      continue;
    }
    for (const [line, count] of hits) merged.set(line, (merged.get(line) ?? 0) + count);
  }
  return byUrl;
}

function scriptLineHits(script: V8ScriptCoverage, source: string): LineHits {
  const offsetCounts = offsetCountsOf(script, source.length);
  const code = codeMask(source);
  const hits: LineHits = new Map();
  let line = 1;
  for (let offset = 0; offset < source.length; offset++) {
    if (source.charCodeAt(offset) === 10) {
      line += 1;
      continue;
    }
    const count = offsetCounts[offset]!;
    if (code[offset] === 0 || count < 0) continue;
    hits.set(line, Math.max(hits.get(line) ?? 0, count));
  }
  return hits;
}

const REGEX_AFTER_WORDS = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);

/**
 * 1 for every character of JavaScript/TypeScript source that is code, 0 for whitespace and comments
 * (including a leading `#!` line). Strings, template literals and regular expression literals are
 * code; they are scanned only so that a `//` or `/*` inside them is not taken for a comment. Regular
 * expressions are told from division by the token before the slash, the usual heuristic.
 */
export function codeMask(source: string): Uint8Array {
  const mask = new Uint8Array(source.length);
  const length = source.length;
  const templateBraces: number[] = [];
  let braces = 0;
  let previous = '';
  let index = 0;

  const skipLine = () => {
    while (index < length && source[index] !== '\n') index++;
  };
  const markQuoted = (quote: string) => {
    mask[index++] = 1;
    while (index < length && source[index] !== quote && source[index] !== '\n') {
      if (source[index] === '\\') mask[index++] = 1;
      if (index < length) mask[index++] = 1;
    }
    if (index < length && source[index] === quote) mask[index++] = 1;
  };
  /** Marks template text from `index` up to the closing backtick or an opening `${`. */
  const markTemplateText = () => {
    while (index < length) {
      const char = source[index];
      if (char === '\\') {
        mask[index++] = 1;
        if (index < length) mask[index++] = 1;
      } else if (char === '`') {
        mask[index++] = 1;
        return;
      } else if (char === '$' && source[index + 1] === '{') {
        mask[index++] = 1;
        mask[index++] = 1;
        braces += 1;
        templateBraces.push(braces);
        return;
      } else {
        if (char !== '\n' && char !== ' ' && char !== '\t' && char !== '\r') mask[index] = 1;
        index++;
      }
    }
  };
  const markRegex = () => {
    let inClass = false;
    mask[index++] = 1;
    while (index < length && source[index] !== '\n') {
      const char = source[index];
      mask[index++] = 1;
      if (char === '\\') {
        if (index < length) mask[index++] = 1;
      } else if (char === '[') inClass = true;
      else if (char === ']') inClass = false;
      else if (char === '/' && !inClass) break;
    }
    while (index < length && /[a-z]/i.test(source[index]!)) mask[index++] = 1;
  };

  if (source.startsWith('#!')) skipLine();
  while (index < length) {
    const char = source[index]!;
    const next = source[index + 1];
    if (char === ' ' || char === '\t' || char === '\n' || char === '\r' || char === '\f' || char === '\v' || char === '\u00a0' || char === '\ufeff') {
      index++;
    } else if (char === '/' && next === '/') {
      skipLine();
    } else if (char === '/' && next === '*') {
      const end = source.indexOf('*/', index + 2);
      index = end < 0 ? length : end + 2;
    } else if (char === '"' || char === "'") {
      markQuoted(char);
      previous = 'literal';
    } else if (char === '`') {
      mask[index++] = 1;
      markTemplateText();
      previous = 'literal';
    } else if (char === '/' && regexMayFollow(previous)) {
      markRegex();
      previous = 'literal';
    } else if (/[\w$]/.test(char)) {
      const start = index;
      while (index < length && /[\w$]/.test(source[index]!)) mask[index++] = 1;
      previous = source.slice(start, index);
    } else if (char === '}' && templateBraces.at(-1) === braces) {
      templateBraces.pop();
      braces -= 1;
      mask[index++] = 1;
      markTemplateText();
      previous = 'literal';
    } else {
      if (char === '{') braces += 1;
      if (char === '}') braces -= 1;
      mask[index++] = 1;
      previous = char;
    }
  }
  return mask;
}

function regexMayFollow(previous: string): boolean {
  if (previous === '' || REGEX_AFTER_WORDS.has(previous)) return true;
  if (previous === 'literal' || /[\w$]$/.test(previous)) return false;
  return !(previous === ')' || previous === ']' || previous === '}');
}

/** The spectrum key of a line: `file:line`. */
export function lineKey(file: string, line: number): string {
  return `${file}:${line}`;
}

/** Splits a `file:line` key at its last colon (files may contain colons, URLs always do). */
export function parseLineKey(key: string): { file: string; line: number } {
  const colon = key.lastIndexOf(':');
  const line = Number(key.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(line) || line < 1) throw new RangeError(`not a file:line key: ${key}`);
  return { file: key.slice(0, colon), line };
}

/**
 * The executed lines of one run as spectrum keys. `fileOf` maps a coverage url to the file name the
 * spectra and stack frames use, or undefined to leave the script out (dependencies, Node internals).
 */
export function executedLines(hits: ReadonlyMap<string, LineHits>, fileOf: (url: string) => string | undefined = (url) => url): Set<string> {
  const lines = new Set<string>();
  for (const [url, lineHits] of hits) {
    const file = fileOf(url);
    if (file === undefined) continue;
    for (const [line, count] of lineHits) if (count > 0) lines.add(lineKey(file, line));
  }
  return lines;
}
