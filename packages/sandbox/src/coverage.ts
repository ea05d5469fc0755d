import { fileURLToPath } from 'node:url';
import { TraceMap, decodedMappings, type DecodedSourceMap, type SourceMapSegment } from '@jridgewell/trace-mapping';
import convertSourceMap from 'convert-source-map';
import v8ToIstanbul from 'v8-to-istanbul';
import { CONTAINER_REPO_ROOT } from './prepared-js';
import type { ScriptCoverage } from './replay';

/** v8-to-istanbul's name for a report that sets every line to 0. */
const EMPTY_REPORT = '(empty-report)';

/** Execution count per 1-based line of a repository file; 0: code that did not run. */
export type LineCounts = Map<number, number>;

/** A named function V8 reported, by the lines it spans in the repository file. */
export interface FunctionSpan {
  name: string;
  startLine: number;
  endLine: number;
}

/**
 * The repository file one job's V8 coverage of a script stands for, and how often it ran each line,
 * converted by v8-to-istanbul: plain JavaScript (CommonJS or ESM) on its own lines, transpiled code
 * through its inline source map (tsx's, the prepared tree's, a build's) onto the file the map names.
 * Blank and comment-only lines are left out: they would tie with the code around them in every ranking.
 * `functions` are the named functions the report covers, so a line off the stack can be named.
 * Undefined when that file is outside the checkout or under node_modules, or its text is unknown. Nothing
 * is read from disk: a map of several sources (a bundle) or one kept in a separate file is not followed,
 * and the script's own lines count instead.
 */
export async function lineCoverageOf(script: ScriptCoverage): Promise<{ file: string; lines: LineCounts; functions: FunctionSpan[] } | undefined> {
  const source = script.source;
  if (source === undefined) return undefined;
  const map = singleSourceMap(source);
  const original = map?.sourcesContent?.[0] ?? script.original;
  const converter = v8ToIstanbul(
    fileURLToPath(script.url),
    0,
    map === undefined
      ? // Without the comments v8-to-istanbul would look for the map, or its sources, on this machine's disk.
        { source: convertSourceMap.removeComments(convertSourceMap.removeMapFileComments(source)) }
      : { source, originalSource: original ?? '', sourceMap: { sourcemap: indentationToLineStart({ ...map, sourcesContent: [original ?? ''] }) } },
  );
  await converter.load();
  // Counters were reset before the job: code V8 leaves out of the report (module top level, functions
  // that did not run) ran 0 times, where v8-to-istanbul would otherwise count it once. Its empty report
  // sets every line to 0 before the reported ranges apply.
  converter.applyCoverage([{ functionName: EMPTY_REPORT, isBlockCoverage: true, ranges: [{ startOffset: 0, endOffset: source.length, count: 0 }] }, ...script.functions]);
  const [converted] = Object.values(converter.toIstanbul());
  if (converted === undefined) return undefined;
  // A build's map carries its source's text and names that file; tsx's and the prepared tree's stand for
  // the script's own repository file, whose text the harness sent as `original`.
  const file = map?.sourcesContent?.[0] == null ? script.file : repositoryFile(converted.path);
  // Without a map, what ran is the file only when the harness found the file's text to be the same.
  if (file === undefined || (map !== undefined && original === undefined) || (map === undefined && script.original !== undefined)) return undefined;
  const text = (map === undefined ? source : (original ?? '')).split(/\r?\n/);
  const lines: LineCounts = new Map();
  for (const [id, location] of Object.entries(converted.statementMap)) {
    const line = location.start.line;
    if (isCodeLine(text[line - 1] ?? '')) lines.set(line, Math.max(lines.get(line) ?? 0, converted.s[id] ?? 0));
  }
  const functions = Object.values(converted.fnMap)
    .filter((fn) => fn.name !== '' && fn.name !== EMPTY_REPORT)
    .map((fn) => ({ name: fn.name, startLine: fn.loc.start.line, endLine: fn.loc.end.line }));
  return { file, lines, functions };
}

interface SourceMap {
  version: 3;
  sources: [string];
  sourcesContent?: [string | null];
  sourceRoot?: string;
  mappings: string;
  names: string[];
}

/** The script's inline source map when it names one source; a bundle's map of several is not followed. */
function singleSourceMap(source: string): SourceMap | undefined {
  let map: Partial<SourceMap> | undefined;
  try {
    map = convertSourceMap.fromSource(source)?.toObject() as Partial<SourceMap> | undefined;
  } catch {
    return undefined;
  }
  if (map?.version !== 3 || map.sources?.length !== 1 || typeof map.mappings !== 'string') return undefined;
  return { ...map, names: map.names ?? [] } as SourceMap;
}

/**
 * The map with every position at the first code of an original line moved to that line's column 0.
 * V8 starts a block right after the statement before it, which in plain JavaScript takes in the next
 * line's indentation; through a transpiler's map it starts at the first token instead, and v8-to-istanbul
 * counts a line only under a range spanning all of it. Without this, the first line after a crash (a
 * `return` after a throwing `if` block) would read as run.
 */
function indentationToLineStart(map: SourceMap & { sourcesContent: [string] }): DecodedSourceMap {
  const indents = map.sourcesContent[0].split(/\r?\n/).map((line) => line.length - line.trimStart().length);
  const mappings = decodedMappings(new TraceMap(map)).map((segments) =>
    segments.map((segment): SourceMapSegment => {
      if (segment.length === 1 || segment[3] !== indents[segment[2]]) return segment;
      return segment.length === 4 ? [segment[0], segment[1], segment[2], 0] : [segment[0], segment[1], segment[2], 0, segment[4]];
    }),
  );
  return { ...map, mappings };
}

/** Repo-relative path of a file as the sandbox sees it, undefined outside the checkout or under node_modules. */
function repositoryFile(containerPath: string): string | undefined {
  const root = `${CONTAINER_REPO_ROOT}/`;
  if (!containerPath.startsWith(root) || containerPath.includes('/node_modules/')) return undefined;
  return containerPath.slice(root.length);
}

function isCodeLine(text: string): boolean {
  const trimmed = text.trim();
  return trimmed !== '' && !trimmed.startsWith('//') && !trimmed.startsWith('/*') && !/^\*(?:\s|\/|$)/.test(trimmed);
}
