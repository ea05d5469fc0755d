import type { Frame } from '@tracemend/contracts';

/**
 * Where deployed code usually lives; used only when the repository's file list is unknown (no catalog
 * entry, git unreachable), so frames still map back to repository paths (`/srv/app/src/a.ts` → `src/a.ts`).
 */
export const DEFAULT_APP_ROOTS = ['/srv/app/', '/usr/src/app/', '/app/', '/workspace/', '/work/'] as const;

/** The repository's files at the resolved commit, and the catalog's deploy root when the service sets one. */
export interface RepositoryLayout {
  files: ReadonlySet<string> | readonly string[];
  deployRoot?: string;
}

/** How frame paths become repository paths: the repository's file list when known, else app-root prefixes. */
export type FrameMapping = { repository: RepositoryLayout } | { appRoots: readonly string[] };

/** What kind of code a frame path names, from the path alone. */
export type FrameOrigin = 'own' | 'dependency' | 'internal';

// `at fn (file:line:col)`, `at file:line:col`, `at async fn (…)`; files are paths, URLs or Windows paths.
const V8_FRAME = /^\s*at (?:(?<fn>.+?) \()?(?<file>(?:node:|internal\/|[A-Za-z][\w+.-]*:\/\/|\/|[A-Za-z]:[\\/]|\.{1,2}[\\/])[^()]*?):(?<line>\d+):(?<col>\d+)\)?\s*$/;

/** A `file://` URL as a path (query dropped, percent-escapes decoded); any other text unchanged. */
export function framePath(file: string): string {
  if (!file.startsWith('file://')) return file;
  const path = file.slice('file://'.length).replace(/[?#].*$/, '');
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** Whether a path names Node's own code, the user's code or an installed dependency. */
export function frameOrigin(file: string): FrameOrigin {
  if (file.startsWith('node:') || file.startsWith('internal/') || file === 'native' || file.startsWith('<')) return 'internal';
  return pathSegments(file).includes('node_modules') ? 'dependency' : 'own';
}

/**
 * The segments of a frame path, whatever its form: `file://` and bundler URLs (`webpack://svc/./src/x.ts`,
 * `app:///src/x.ts`) lose their scheme, Windows paths their drive and backslashes; `.` and empty segments
 * are dropped (`..` stays, so no repository path can match across it).
 */
export function pathSegments(file: string): string[] {
  const path = framePath(file)
    .replace(/^[A-Za-z][\w+.-]*:\/\//, '')
    .replace(/^[A-Za-z]:(?=[\\/])/, '')
    .replace(/\\/g, '/');
  return path.split('/').filter((segment) => segment !== '' && segment !== '.');
}

/** The last segment of a frame path (its file name), whatever the deploy root. */
export function frameFileName(file: string): string {
  return pathSegments(file).at(-1) ?? file;
}

/**
 * Parses a V8 stack trace into frames, top first, with their paths as reported (`file://` URLs
 * decoded) and `inApp` false: mapping decides which are the repository's.
 */
export function parseV8Frames(stack: string, maxFrames = 64): Frame[] {
  const frames: Frame[] = [];
  for (const line of stack.split('\n')) {
    const match = V8_FRAME.exec(line);
    if (!match?.groups) continue;
    const { fn, file = '', line: lineText = '0', col = '0' } = match.groups;
    const fnName = (fn ?? '<anonymous>').replace(/^async /, '').trim() || '<anonymous>';
    frames.push({ file: framePath(file).slice(0, 1_024), line: Number(lineText), column: Number(col), function: fnName.slice(0, 256), inApp: false });
    if (frames.length >= maxFrames) break;
  }
  return frames;
}

/** The repository-relative path of a deployed file under one of `appRoots`, or undefined when it is outside the app. */
export function repoPath(file: string, appRoots: readonly string[] = DEFAULT_APP_ROOTS): string | undefined {
  const path = framePath(file);
  if (frameOrigin(path) !== 'own') return undefined;
  const root = appRoots.find((item) => path.startsWith(item));
  return root === undefined ? undefined : path.slice(root.length);
}

/** Maps frames by app-root prefixes: the fallback when the repository's files are unknown. */
export function mapFramesByAppRoots(frames: readonly Frame[], appRoots: readonly string[]): Frame[] {
  return frames.map((frame) => {
    const inRepo = repoPath(frame.file, appRoots);
    return inRepo === undefined ? { ...frame, inApp: false } : { ...frame, file: inRepo, inApp: true };
  });
}

/** The result of matching frames to the repository: the frames and the deploy root(s) they were found under. */
export interface RepositoryMapping {
  frames: Frame[];
  /** The deploy root most frames were found under (as a path prefix), when any frame was. */
  deployRoot?: string;
}

/** Every repository file a path can name: its suffixes that are repository files, longest first. */
function suffixMatches(segments: readonly string[], files: ReadonlySet<string>): { file: string; root: string }[] {
  const matches: { file: string; root: string }[] = [];
  for (let start = 0; start < segments.length; start++) {
    const file = segments.slice(start).join('/');
    if (files.has(file)) matches.push({ file, root: `/${segments.slice(0, start).join('/')}${start > 0 ? '/' : ''}` });
  }
  return matches;
}

function normalizedRoot(root: string): string {
  const segments = pathSegments(root);
  return `/${segments.join('/')}${segments.length > 0 ? '/' : ''}`;
}

/**
 * Matches frame paths to the repository's files, with no configuration: a frame is the repository's
 * when a suffix of its path is a repository file and it is neither a dependency (a `node_modules`
 * segment) nor Node's own code. Where a path could name several files (`app/x.ts` and `x.ts`), the
 * deploy root shared by most frames decides, then the longest suffix. `override` (the catalog's
 * `deployRoot`) replaces inference: only frames under it count, by the path below it. Mapped frames
 * carry the repository-relative path and `inApp: true`; the rest keep their path and `inApp: false`.
 */
export function mapFramesToRepository(frames: readonly Frame[], repoFiles: ReadonlySet<string> | readonly string[], override?: string): RepositoryMapping {
  const files: ReadonlySet<string> = repoFiles instanceof Set ? repoFiles : new Set(repoFiles);
  const segmentsOf = frames.map((frame) => (frameOrigin(frame.file) === 'own' ? pathSegments(frame.file) : undefined));
  if (override !== undefined) {
    const root = pathSegments(override);
    const mapped = frames.map((frame, index) => {
      const segments = segmentsOf[index];
      const under = segments !== undefined && segments.length > root.length && root.every((segment, at) => segments[at] === segment);
      const file = under ? segments.slice(root.length).join('/') : undefined;
      return file !== undefined && files.has(file) ? { ...frame, file, inApp: true } : { ...frame, inApp: false };
    });
    return { frames: mapped, deployRoot: normalizedRoot(override) };
  }
  const candidates = segmentsOf.map((segments) => (segments === undefined ? [] : suffixMatches(segments, files)));
  // One vote per frame for each root it could be under: the root most frames share is the deploy root.
  const votes = new Map<string, number>();
  for (const matches of candidates) for (const root of new Set(matches.map((match) => match.root))) votes.set(root, (votes.get(root) ?? 0) + 1);
  const rank = (root: string) => votes.get(root) ?? 0;
  const mapped = frames.map((frame, index) => {
    const matches = candidates[index] ?? [];
    const best = matches.reduce<(typeof matches)[number] | undefined>((chosen, match) => (chosen === undefined || rank(match.root) > rank(chosen.root) ? match : chosen), undefined);
    return best === undefined ? { ...frame, inApp: false } : { ...frame, file: best.file, inApp: true };
  });
  const top = [...votes.entries()].sort((a, b) => b[1] - a[1] || a[0].length - b[0].length)[0];
  return { frames: mapped, ...(top === undefined ? {} : { deployRoot: top[0] }) };
}

/** Maps parsed frames by the given mapping (the repository's files, else app-root prefixes). */
export function mapFrames(frames: readonly Frame[], mapping: FrameMapping): Frame[] {
  return 'repository' in mapping ? mapFramesToRepository(frames, mapping.repository.files, mapping.repository.deployRoot).frames : mapFramesByAppRoots(frames, mapping.appRoots);
}

/** The mapping builders use: the repository's layout when given, else the app roots (or their defaults). */
export function frameMappingOf(input: { appRoots?: readonly string[]; repository?: RepositoryLayout }): FrameMapping {
  return input.repository ? { repository: input.repository } : { appRoots: input.appRoots ?? DEFAULT_APP_ROOTS };
}

/** The provenance note for frames none of which is the repository's, or undefined when some are. */
export function unmappedFramesNote(frames: readonly Frame[], mapping: FrameMapping): string | undefined {
  if (frames.length === 0 || frames.some((frame) => frame.inApp)) return undefined;
  if ('appRoots' in mapping) return `no stack frame lies under the app roots ${mapping.appRoots.join(', ')}`;
  const root = mapping.repository.deployRoot;
  return root === undefined
    ? 'no stack frame names a file of the repository at the resolved commit (outside node_modules and Node internals)'
    : `no stack frame names a file of the repository under the catalog's deployRoot ${root}`;
}

/**
 * Parses a V8 stack trace into frames, top first, and maps them: in-app frames are the repository's
 * files (by the repository's file list, or under an app root when that is unknown) and carry their
 * repository-relative path; other frames keep their path.
 */
export function parseV8Stack(stack: string, mapping: FrameMapping | readonly string[] = DEFAULT_APP_ROOTS, maxFrames = 64): Frame[] {
  return mapFrames(parseV8Frames(stack, maxFrames), Array.isArray(mapping) ? { appRoots: mapping } : (mapping as FrameMapping));
}
