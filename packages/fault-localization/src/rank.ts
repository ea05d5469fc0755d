import { LIMITS, SCHEMA_VERSION, type Localization, type Suspect } from '@tracemend/contracts';
import { lineKey, parseLineKey } from './coverage';
import { computeSpectra, dstar, ochiai, suspiciousness, tarantula, type Formula, type Run } from './spectrum';

/** A frame of the recorded stack, top first; frames with `inApp: false` are ignored. */
export interface StackFrameRef {
  file: string;
  line: number;
  function?: string;
  inApp?: boolean;
}

/** Input of `rankSuspects`. */
export interface RankSuspectsInput {
  runs: readonly Run[];
  /** The crashing stack, top first, in the file names the runs use. */
  frames?: readonly StackFrameRef[];
  /** Source text by file, for each suspect's surrounding lines. */
  sources?: ReadonlyMap<string, string>;
  /** The formula behind `score` (default ochiai). */
  formula?: Formula;
  /** Strength of the stack boost, >= 0 (default 0.5): a top-frame line scores up to (1 + w) times an off-stack line. */
  frameWeight?: number;
  /** Boost decay per frame below the top, in (0, 1] (default 0.5). */
  frameDecay?: number;
  /** Name of the function enclosing a line, when the caller can tell (e.g. from a syntax tree). */
  functionAt?: (file: string, line: number) => string | undefined;
  /** Lines of context on each side of a suspect (default 3). */
  contextLines?: number;
  /** Most suspects returned (default and maximum: the contract's limit). */
  limit?: number;
}

interface Ranked {
  suspect: Suspect;
  depth: number;
}

/**
 * Ranks lines by spectrum suspiciousness weighted by stack-frame proximity. Only lines run by at
 * least one failing run are ranked. `score` = base × (1 + w × f) / (1 + w), where base is the chosen
 * formula's value (DStar divided by the largest DStar, so all bases lie in [0, 1]), w is `frameWeight`
 * and f = decay^depth for a line on the stack at that depth (0 when off the stack), reported as
 * `scores.frameWeight`. Sorted by score, then stack depth, then file and line.
 */
export function rankSuspects(input: RankSuspectsInput): Suspect[] {
  const formula = input.formula ?? 'ochiai';
  const weight = input.frameWeight ?? 0.5;
  const decay = input.frameDecay ?? 0.5;
  const contextLines = input.contextLines ?? 3;
  const limit = Math.min(input.limit ?? LIMITS.suspects, LIMITS.suspects);
  if (!(weight >= 0 && Number.isFinite(weight))) throw new RangeError(`frameWeight must be a finite number >= 0, got ${weight}`);
  if (!(decay > 0 && decay <= 1)) throw new RangeError(`frameDecay must be in (0, 1], got ${decay}`);

  const depths = frameDepths(input.frames ?? []);
  const spectra = [...computeSpectra(input.runs)].filter(([, spectrum]) => spectrum.ef > 0);
  const maxDstar = Math.max(0, ...spectra.map(([, spectrum]) => dstar(spectrum)));

  const ranked: Ranked[] = spectra.map(([key, spectrum]) => {
    const { file, line } = parseLineKey(key);
    const frame = depths.get(key);
    const depth = frame?.depth ?? Number.POSITIVE_INFINITY;
    const frameFactor = frame === undefined ? 0 : decay ** frame.depth;
    const raw = suspiciousness(formula, spectrum);
    const base = formula === 'dstar' ? (maxDstar === 0 ? 0 : raw / maxDstar) : raw;
    const name = nonEmpty(input.functionAt?.(file, line)) ?? nonEmpty(frame?.function);
    const suspect: Suspect = {
      file,
      line,
      ...(name === undefined ? {} : { function: name.slice(0, LIMITS.shortText) }),
      score: clamp01((base * (1 + weight * frameFactor)) / (1 + weight)),
      scores: {
        ochiai: clamp01(ochiai(spectrum)),
        tarantula: clamp01(tarantula(spectrum)),
        dstar: dstar(spectrum),
        frameWeight: frameFactor,
      },
      context: contextOf(input.sources?.get(file), line, contextLines),
    };
    return { suspect, depth };
  });

  ranked.sort(
    (a, b) =>
      b.suspect.score - a.suspect.score ||
      a.depth - b.depth ||
      compareText(a.suspect.file, b.suspect.file) ||
      a.suspect.line - b.suspect.line,
  );
  return ranked.slice(0, limit).map(({ suspect }) => suspect);
}

/** Fault localization's contract output: ranked suspects and the run counts behind them. */
export function localize(input: RankSuspectsInput): Localization {
  const failingRuns = input.runs.filter((run) => run.failed).length;
  return {
    schemaVersion: SCHEMA_VERSION,
    suspects: rankSuspects(input),
    failingRuns,
    passingRuns: input.runs.length - failingRuns,
  };
}

/** The shallowest in-app depth of each stack line, with the frame's function name. */
function frameDepths(frames: readonly StackFrameRef[]): Map<string, { depth: number; function: string | undefined }> {
  const depths = new Map<string, { depth: number; function: string | undefined }>();
  let depth = 0;
  for (const frame of frames) {
    if (frame.inApp === false || !(frame.line >= 1)) continue;
    const key = lineKey(frame.file, frame.line);
    if (!depths.has(key)) depths.set(key, { depth, function: frame.function });
    depth += 1;
  }
  return depths;
}

/** Up to `radius` lines either side of `line`; empty when the source is unknown or too short. */
export function contextOf(source: string | undefined, line: number, radius: number): Suspect['context'] {
  if (source === undefined) return { startLine: line, lines: [] };
  const all = source.split(/\r?\n/);
  if (line > all.length) return { startLine: line, lines: [] };
  const startLine = Math.max(1, line - radius);
  const endLine = Math.min(all.length, line + radius);
  return { startLine, lines: all.slice(startLine - 1, endLine).map((text) => text.slice(0, LIMITS.text)) };
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text === '' ? undefined : text;
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
