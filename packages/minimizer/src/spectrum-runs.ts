import { TracemendError, type MinimalRepro } from '@tracemend/contracts';
import { entryHandlersOf, lineCoverageOf, mismatchReason, replayJob, type EntryHandlers, type ReplayJob, type ReplayResult, type ResidentHarness } from '@tracemend/sandbox';
import { readTextInside } from '@tracemend/process';
import { isJsonObject, type JsonValue } from './canonical';
import { entryInput } from './activities';
import { getAt, pathsAtDepth, setAt } from './hierarchical';

/** One replay's verdict and the repository lines it executed (`file:line`). */
export interface SpectrumRun {
  failed: boolean;
  lines: Set<string>;
}

export interface SpectrumRuns {
  runs: SpectrumRun[];
  /** The crashing stack of the failing run, top first, in-app frames only. */
  frames: { file: string; line: number; function: string }[];
  /** Source text of every executed repository file. */
  sources: Map<string, string>;
  /** Named functions the runs' coverage reported, per file (names lines that are not on the stack). */
  functions: { file: string; name: string; startLine: number; endLine: number }[];
}

function simpler(value: JsonValue): JsonValue[] {
  if (Array.isArray(value)) return value.length > 0 ? [[]] : [];
  if (isJsonObject(value)) return Object.keys(value).length > 0 ? [{}] : [];
  if (typeof value === 'string') return value === '' ? ['x'] : [''];
  if (typeof value === 'number') return [value === 0 ? 1 : 0];
  if (typeof value === 'boolean') return [!value];
  return [];
}

/** Inputs one step away from `value`: each node removed or simplified (bounded). */
export function neighbours(value: JsonValue, limit: number): JsonValue[] {
  const out: JsonValue[] = [];
  for (let depth = 1; depth <= 4 && out.length < limit; depth++) {
    for (const path of pathsAtDepth(value, depth)) {
      const node = getAt(value, path);
      if (node === undefined) continue;
      const parentPath = path.slice(0, -1);
      const parent = getAt(value, parentPath);
      const key = path[path.length - 1];
      if (isJsonObject(parent ?? null) && typeof key === 'string') {
        const { [key]: _removed, ...rest } = parent as Record<string, JsonValue>;
        out.push(setAt(value, parentPath, rest));
      }
      for (const replacement of simpler(node)) out.push(setAt(value, path, replacement));
      if (out.length >= limit) break;
    }
  }
  return out.slice(0, limit);
}

async function executed(result: ReplayResult, functions: Map<string, SpectrumRuns['functions'][number]>): Promise<Set<string>> {
  const lines = new Set<string>();
  if (result.outcome === 'harness-error') return lines;
  for (const script of result.coverage ?? []) {
    const covered = await lineCoverageOf(script);
    if (covered === undefined) continue;
    for (const [line, count] of covered.lines) if (count > 0) lines.add(`${covered.file}:${line}`);
    for (const fn of covered.functions) functions.set(`${covered.file}:${fn.startLine}:${fn.endLine}:${fn.name}`, { file: covered.file, ...fn });
  }
  return lines;
}

/**
 * Replays the minimal failing input and its one-step neighbours with coverage: the failing run and
 * the neighbours that no longer fail (and flag flips) are the spectrum fault localization ranks.
 */
export async function collectSpectrumRuns(options: {
  harness: ResidentHarness;
  minimal: MinimalRepro;
  /** The service and its catalog handlers (a RepoTarget): the app's factory and arguments, the function or message handler. */
  target?: EntryHandlers & { service: string };
  repoDir: string;
  maxNeighbours?: number;
}): Promise<SpectrumRuns> {
  const { minimal } = options;
  const recordedAt = minimal.timing?.recordedAt ?? new Date(0).toISOString();
  const base: ReplayJob = replayJob(
    { ...minimal, timing: minimal.timing ?? { recordedAt } },
    { id: 'minimal', service: options.target?.service ?? 'the service', handlers: entryHandlersOf(options.target ?? {}), coverage: true },
  );
  // Module top-level code runs once, in the first job a container sees; a warm-up job keeps it out of
  // the measured runs, where it would look executed by the failing run only.
  await options.harness.judge({ ...base, id: 'warm-up' });
  const failing = await options.harness.judge(base);
  if (mismatchReason(failing, minimal.signature) !== undefined) {
    throw new TracemendError('NO_SUSPECTS', `the minimal input did not fail in the sandbox: ${mismatchReason(failing, minimal.signature) ?? ''}`);
  }
  const functions = new Map<string, SpectrumRuns['functions'][number]>();
  const runs: SpectrumRun[] = [{ failed: true, lines: await executed(failing, functions) }];
  const part = entryInput(base.entry);
  const variants: ReplayJob[] = neighbours(part.value, options.maxNeighbours ?? 30).map((value, i) => ({ ...base, id: `neighbour-${i}`, entry: part.with(value) }));
  for (const [flag, value] of Object.entries(minimal.environment.featureFlags)) {
    if (typeof value === 'boolean') variants.push({ ...base, id: `flag-${flag}`, environment: { ...base.environment, featureFlags: { ...base.environment.featureFlags, [flag]: !value } } });
  }
  for (const job of variants) {
    const result = await options.harness.judge(job);
    if (result.outcome === 'harness-error') continue;
    runs.push({ failed: mismatchReason(result, minimal.signature) === undefined, lines: await executed(result, functions) });
  }
  const frames = failing.outcome === 'harness-error' ? [] : (failing.error?.frames ?? []).filter((frame) => frame.inApp).map(({ file, line, function: fn }) => ({ file, line, function: fn }));
  const sources = new Map<string, string>();
  for (const file of new Set([...runs.flatMap((run) => [...run.lines].map((key) => key.slice(0, key.lastIndexOf(':'))))])) {
    // The checkout is sandbox-writable: a file linked out of it is refused (SANDBOX_ESCAPE); a missing one reads as empty.
    const text = await readTextInside(options.repoDir, file).catch((error: unknown) => {
      if (error instanceof TracemendError && error.code === 'SANDBOX_ESCAPE') throw error;
      return '';
    });
    sources.set(file, text);
  }
  return { runs, frames, sources, functions: [...functions.values()] };
}
