import type { Localization, LocalizeInput } from '@tracemend/contracts';
import type { Logger } from '@tracemend/telemetry';
import { localize } from './rank';
import type { Run } from './spectrum';

/** What the sandbox side measured for one incident: runs with their executed lines, the stack, the sources. */
export interface CollectedRuns {
  runs: Run[];
  frames: { file: string; line: number; function?: string }[];
  sources: ReadonlyMap<string, string>;
  /** Named functions by the lines they span, to name suspects off the stack (innermost wins). */
  functions?: readonly { file: string; name: string; startLine: number; endLine: number }[];
}

export interface LocalizationDeps {
  /** Replays the minimal failing input and passing variants with coverage (the worker wires the sandbox in). */
  collectRuns(input: LocalizeInput): Promise<CollectedRuns>;
  logger: Logger;
}

/** The localize stage: Ochiai over the collected spectra, weighted by the crashing stack. */
export function createLocalizationActivities(deps: LocalizationDeps) {
  return {
    localize: async (input: LocalizeInput): Promise<Localization> => {
      const { runs, frames, sources, functions = [] } = await deps.collectRuns(input);
      const byLine = new Map(frames.map((frame) => [`${frame.file}:${frame.line}`, frame.function]));
      const enclosing = (file: string, line: number) =>
        functions
          .filter((fn) => fn.file === file && fn.startLine <= line && line <= fn.endLine)
          .sort((a, b) => a.endLine - a.startLine - (b.endLine - b.startLine))[0]?.name;
      const localization = localize({
        runs,
        frames: frames.map((frame) => ({ ...frame, inApp: true })),
        sources,
        functionAt: (file, line) => byLine.get(`${file}:${line}`) ?? enclosing(file, line),
      });
      deps.logger.info({ failingRuns: localization.failingRuns, passingRuns: localization.passingRuns, suspects: localization.suspects.length }, 'suspects ranked');
      return localization;
    },
  };
}
