import { sourceLineHits, type V8CoverageRange } from '@tracemend/contracts';
export { codeMask, offsetCountsOf } from '@tracemend/contracts';
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
    const hits: LineHits = sourceLineHits(script, source);
    const merged = byUrl.get(script.url);
    if (merged === undefined) {
      byUrl.set(script.url, hits);
      continue;
    }
    for (const [line, count] of hits) merged.set(line, (merged.get(line) ?? 0) + count);
  }
  return byUrl;
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
