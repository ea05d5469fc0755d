import type { Frame } from '@tracemend/contracts';

/** Where deployed code lives, so frames map back to repository paths (`/srv/app/src/a.ts` → `src/a.ts`). */
export const DEFAULT_APP_ROOTS = ['/srv/app/', '/usr/src/app/', '/app/', '/workspace/', '/work/'] as const;

const V8_FRAME = /^\s*at (?:(?<fn>.+?) \()?(?<file>(?:node:|file:\/\/|\/|[A-Za-z]:\\)[^()]*?):(?<line>\d+):(?<col>\d+)\)?\s*$/;

/** The repository-relative path of a deployed file, or undefined when it is outside the app. */
export function repoPath(file: string, appRoots: readonly string[] = DEFAULT_APP_ROOTS): string | undefined {
  const path = file.startsWith('file://') ? decodeURIComponent(file.slice('file://'.length)) : file;
  for (const root of appRoots) {
    if (path.startsWith(root)) {
      const rest = path.slice(root.length);
      return rest.includes('node_modules/') ? undefined : rest;
    }
  }
  return undefined;
}

/**
 * Parses a V8 stack trace into frames, top first. In-app frames are those under an app root and
 * outside node_modules; their file is made repository-relative. Other frames keep their path.
 */
export function parseV8Stack(stack: string, appRoots: readonly string[] = DEFAULT_APP_ROOTS, maxFrames = 64): Frame[] {
  const frames: Frame[] = [];
  for (const line of stack.split('\n')) {
    const match = V8_FRAME.exec(line);
    if (!match?.groups) continue;
    const { fn, file = '', line: lineText = '0', col = '0' } = match.groups;
    const inRepo = repoPath(file, appRoots);
    const fnName = (fn ?? '<anonymous>').replace(/^async /, '').trim();
    frames.push({
      file: (inRepo ?? file).slice(0, 1_024),
      line: Number(lineText),
      column: Number(col),
      function: fnName.slice(0, 256),
      inApp: inRepo !== undefined,
    });
    if (frames.length >= maxFrames) break;
  }
  return frames;
}
