import { offsetCountsOf, sourceLineHits } from '@tracemend/contracts';
import type { ScriptCoverage } from './replay';

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64_VALUES = new Map([...BASE64].map((char, index) => [char, index]));
const INLINE_MAP = /\/\/[#@] sourceMappingURL=data:application\/json(?:;charset=[\w-]+)?;base64,([A-Za-z0-9+/=]+)\s*$/;

/** One decoded source-map segment: generated line/column to original source/line/column (all 0-based). */
export interface MappingSegment {
  readonly generatedLine: number;
  readonly generatedColumn: number;
  readonly sourceIndex: number;
  readonly originalLine: number;
  readonly originalColumn: number;
}

/** The parts of a source map (v3) this package reads. */
export interface SourceMapPayload {
  readonly version: number;
  readonly sources: readonly string[];
  readonly mappings: string;
}

/** The source map inlined at the end of generated code (as tsx emits it), or undefined. */
export function inlineSourceMap(generated: string): SourceMapPayload | undefined {
  const match = INLINE_MAP.exec(generated);
  if (!match?.[1]) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(match[1], 'base64').toString('utf8')) as SourceMapPayload;
    return typeof payload.mappings === 'string' && Array.isArray(payload.sources) ? payload : undefined;
  } catch {
    return undefined;
  }
}

/** Decodes the VLQ `mappings` of a source map into segments that name an original position. */
export function decodeMappings(mappings: string): MappingSegment[] {
  const segments: MappingSegment[] = [];
  let sourceIndex = 0;
  let originalLine = 0;
  let originalColumn = 0;
  const lines = mappings.split(';');
  for (let generatedLine = 0; generatedLine < lines.length; generatedLine++) {
    let generatedColumn = 0;
    for (const segment of (lines[generatedLine] ?? '').split(',')) {
      if (segment === '') continue;
      const fields = decodeVlq(segment);
      generatedColumn += fields[0] ?? 0;
      if (fields.length < 4) continue;
      sourceIndex += fields[1] ?? 0;
      originalLine += fields[2] ?? 0;
      originalColumn += fields[3] ?? 0;
      segments.push({ generatedLine, generatedColumn, sourceIndex, originalLine, originalColumn });
    }
  }
  return segments;
}

function decodeVlq(segment: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = BASE64_VALUES.get(char);
    if (digit === undefined) throw new Error(`invalid base64 VLQ digit ${JSON.stringify(char)}`);
    value += (digit & 31) * 2 ** shift;
    if (digit & 32) {
      shift += 5;
      continue;
    }
    values.push(value & 1 ? -Math.floor(value / 2) : Math.floor(value / 2));
    value = 0;
    shift = 0;
  }
  return values;
}

const PLAIN_JS = /\.(?:c|m)?jsx?$/;

/**
 * Maps a script's V8 coverage back to its original (TypeScript) lines through the inline source map:
 * each mapped position takes the count of the innermost range around its generated offset, and a
 * line's count is the largest of its positions (0: code on that line did not run). A plain JavaScript
 * file without a map runs as written, so its own lines are counted (sourceLineHits). Undefined when
 * the script came without source, or is not plain JavaScript and has no source map.
 */
export function sourceLineCoverage(script: ScriptCoverage): Map<number, number> | undefined {
  const source = script.source;
  if (source === undefined) return undefined;
  const map = inlineSourceMap(source);
  if (map === undefined) return PLAIN_JS.test(script.file) ? sourceLineHits(script, source) : undefined;
  const lineStarts = [0];
  for (let index = 0; index < source.length; index++) if (source.charCodeAt(index) === 10) lineStarts.push(index + 1);
  const counts = offsetCountsOf(script, source.length);
  const lines = new Map<number, number>();
  for (const segment of decodeMappings(map.mappings)) {
    const start = lineStarts[segment.generatedLine];
    if (start === undefined) continue;
    const count = counts[start + segment.generatedColumn];
    if (count === undefined || count < 0) continue;
    const line = segment.originalLine + 1;
    lines.set(line, Math.max(lines.get(line) ?? 0, count));
  }
  return lines;
}
