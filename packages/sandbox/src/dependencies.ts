import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TracemendError } from '@tracemend/contracts';
import { readFileInside } from './safe-fs';

const execFileAsync = promisify(execFile);

export interface InstallDependenciesOptions {
  /** Host checkout of the target repository; must hold package.json and package-lock.json. */
  readonly repoDir: string;
  /** Host directory of the dependency cache, one entry per lockfile hash. */
  readonly cacheRoot: string;
  /** Limit for `npm ci`; defaults to 10 minutes. */
  readonly timeoutMs?: number;
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
 * network), with install scripts disabled. Concurrent calls for one hash are safe: the first rename
 * into the cache wins and the others reuse it.
 */
export async function installDependencies(options: InstallDependenciesOptions): Promise<InstalledDependencies> {
  const lock = await readManifest(options.repoDir, 'package-lock.json');
  const manifest = await readManifest(options.repoDir, 'package.json');
  const lockHash = createHash('sha256').update(lock).digest('hex');
  const entryDir = join(options.cacheRoot, lockHash);
  const depsDir = join(entryDir, 'node_modules');
  if (await isDirectory(depsDir)) return { depsDir, lockHash, installed: false };

  await mkdir(options.cacheRoot, { recursive: true });
  // Staging beside the cache keeps the final rename on one filesystem, hence atomic.
  const staging = await mkdtemp(join(options.cacheRoot, `.staging-${lockHash.slice(0, 12)}-`));
  try {
    await writeFile(join(staging, 'package.json'), manifest);
    await writeFile(join(staging, 'package-lock.json'), lock);
    try {
      await execFileAsync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
        cwd: staging,
        timeout: options.timeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, npm_config_update_notifier: 'false' },
      });
    } catch (error) {
      const { stderr = '' } = error as { stderr?: string };
      throw new TracemendError('INTERNAL', `npm ci failed for lockfile ${lockHash.slice(0, 12)}: ${stderr.slice(-4000).trim() || String(error)}`, {
        cause: error,
        details: { lockHash },
      });
    }
    const staged = join(staging, 'node_modules');
    if (!(await isDirectory(staged))) await mkdir(staged);
    await mkdir(entryDir, { recursive: true });
    try {
      await rename(staged, depsDir);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await isDirectory(depsDir))) return { depsDir, lockHash, installed: false };
      throw error;
    }
    return { depsDir, lockHash, installed: true };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
