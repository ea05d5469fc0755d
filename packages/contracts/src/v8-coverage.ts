/** One counted range of V8 precise coverage; offsets are UTF-16 code units into the script source. */
export interface V8CoverageRange {
  startOffset: number;
  endOffset: number;
  count: number;
}

/** What offsetCountsOf reads of a script's coverage: its functions' ranges. */
export interface V8CoveredScript {
  readonly functions: readonly { readonly ranges: readonly V8CoverageRange[] }[];
}

/**
 * Execution count per source offset of one script's V8 precise coverage; -1 where no range applies.
 *
 * V8 ranges nest (the script's top-level range, functions inside it, blocks inside those) and the
 * innermost range containing an offset decides its count; of ranges with equal extent the one reported
 * later (a block after its function) wins. The sandbox maps these counts through source maps, fault
 * localization onto source lines; both read them from here so they agree on what ran.
 */
export function offsetCountsOf<Script extends V8CoveredScript>(script: Script, length: number): Float64Array {
  const ordered = script.functions
    .flatMap((fn) => fn.ranges)
    .map((range, order) => ({ range, order }))
    // Stable: outer ranges first, so painting in order leaves each offset with its innermost range.
    .sort((a, b) => a.range.startOffset - b.range.startOffset || b.range.endOffset - a.range.endOffset || a.order - b.order);
  const counts = new Float64Array(length).fill(-1);
  for (const { range } of ordered) counts.fill(range.count, Math.max(0, range.startOffset), Math.min(length, range.endOffset));
  return counts;
}

/**
 * Execution count per source line (1-based) of one script, read against its own source: a line's
 * count is the largest count of any code character on it (see codeMask), so `} else {` after a taken
 * branch counts as run; lines without code and offsets outside every range are absent. Fault
 * localization reads scripts this way, and the sandbox reads plain JavaScript (no source map) so.
 */
export function sourceLineHits<Script extends V8CoveredScript>(script: Script, source: string): Map<number, number> {
  const offsetCounts = offsetCountsOf(script, source.length);
  const code = codeMask(source);
  const hits = new Map<number, number>();
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
