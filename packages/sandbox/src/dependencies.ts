import { createHash } from 'node:crypto';
import { chown, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TracemendError } from '@tracemend/contracts';
import { baseHostEnv, moveIntoPlace, privateStaging, removeStaging, runHostCommand, untrustedWorkUser, type HostUser } from './host-command';
import { readFileInside } from './safe-fs';

export interface InstallDependenciesOptions {
  /** Host checkout of the target repository; must hold package.json and package-lock.json. */
  readonly repoDir: string;
  /** Host directory of the dependency cache, one entry per lockfile hash. */
  readonly cacheRoot: string;
  /** Limit for `npm ci`; defaults to 10 minutes. */
  readonly timeoutMs?: number;
  /** Who runs npm; defaults to `untrustedWorkUser()` (the sandbox user when the worker is root). */
  readonly user?: HostUser;
  /** Aborting kills npm and removes its staging folder; no cache entry is left behind. */
  readonly signal?: AbortSignal;
}

export interface InstalledDependencies {
  /** `<cacheRoot>/<lockHash>/node_modules`, ready to mount read-only at /work/node_modules. */
  readonly depsDir: string;
  /** sha256 of package-lock.json. */
  readonly lockHash: string;
  /** True when this call ran the install and placed the result; false on a cache hit. */
  readonly installed: boolean;
}

const DEFAULT_INSTALL_TIMEOUT_MS = 10 * 60 * 1000;
/** Lockfiles of large monorepos run to tens of MiB; anything far beyond is not a manifest. */
const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;
/** Variables of the worker npm may see: where the registry is and how to reach it. Nothing else, no token. */
const NPM_PASSED_ENV = ['npm_config_registry', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'] as const;

/** npm's whole environment: a search path, a private home and cache, the registry settings above. */
function npmEnv(home: string): Record<string, string> {
  const passed = Object.fromEntries(NPM_PASSED_ENV.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]]])));
  return { ...baseHostEnv(home), ...passed, npm_config_cache: join(home, '.npm'), npm_config_update_notifier: 'false' };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Reads a manifest of the (untrusted) checkout without following a link out of it. */
async function readManifest(repoDir: string, name: string): Promise<Buffer> {
  try {
    return await readFileInside(repoDir, name, { maxBytes: MAX_MANIFEST_BYTES });
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') {
      throw new TracemendError('INVALID_INPUT', `No ${name} in ${repoDir}: sandbox dependencies are installed only from a lockfile`, {
        cause: error,
        details: { repoDir, missing: name },
      });
    }
    throw error;
  }
}

/**
 * Installs a repository's npm dependencies once per lockfile hash, on the host (the sandbox has no
 * network), with install scripts disabled. npm runs as `user` (the sandbox user when the worker is
 * root) in a private staging folder, with an environment of its own: the worker's tokens and other
 * variables never reach it. The result moves into the cache only when npm succeeded; on failure or
 * abort the staging folder is removed and no cache entry exists. Concurrent calls for one hash are safe:
 * the first to place its result wins and the others reuse it.
 */
export async function installDependencies(options: InstallDependenciesOptions): Promise<InstalledDependencies> {
  const lock = await readManifest(options.repoDir, 'package-lock.json');
  const manifest = await readManifest(options.repoDir, 'package.json');
  const lockHash = createHash('sha256').update(lock).digest('hex');
  const entryDir = join(options.cacheRoot, lockHash);
  const depsDir = join(entryDir, 'node_modules');
  if (await isDirectory(depsDir)) return { depsDir, lockHash, installed: false };

  await mkdir(options.cacheRoot, { recursive: true });
  const user = 'user' in options ? options.user : untrustedWorkUser();
  const staging = await privateStaging(`tracemend-deps-${lockHash.slice(0, 12)}`, user);
  try {
    const project = join(staging.dir, 'project');
    await mkdir(project);
    await writeFile(join(project, 'package.json'), manifest);
    await writeFile(join(project, 'package-lock.json'), lock);
    if (user !== undefined) for (const path of [project, join(project, 'package.json'), join(project, 'package-lock.json')]) await chown(path, user.uid, user.gid);
    try {
      await runHostCommand('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
        cwd: project,
        env: npmEnv(staging.home),
        ...(user === undefined ? {} : { user }),
        timeoutMs: options.timeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const { stderr = '' } = error as { stderr?: string };
      throw new TracemendError('INTERNAL', `npm ci failed for lockfile ${lockHash.slice(0, 12)}: ${stderr.slice(-4000).trim() || String(error)}`, {
        cause: error,
        details: { lockHash },
      });
    }
    const staged = join(project, 'node_modules');
    if (!(await isDirectory(staged))) await mkdir(staged);
    options.signal?.throwIfAborted();
    await mkdir(entryDir, { recursive: true });
    const installed = await moveIntoPlace(staged, depsDir, () => isDirectory(depsDir));
    return { depsDir, lockHash, installed };
  } finally {
    await removeStaging(staging.dir);
  }
}
