import { execFile } from 'node:child_process';
import { chmod, lchown, lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GitSha, TracemendError } from '@tracemend/contracts';
import { SANDBOX_GID, SANDBOX_UID } from './image/build-base-image';
import { copyTreeInside } from './safe-fs';

const execFileAsync = promisify(execFile);

/**
 * Copies a checkout (with its .git, without node_modules, which the sandbox mounts) to `dest`. The
 * checkout is sandbox-writable, so the copy follows no link and refuses one that points out of it
 * (SANDBOX_ESCAPE, naming the link).
 */
export async function copyCheckout(repoDir: string, dest: string): Promise<void> {
  await copyTreeInside(repoDir, dest, { skip: (path) => path === 'node_modules' });
}

/**
 * Makes `dir` writable for the sandbox user: ownership 10001:10001 when this process may chown (root),
 * otherwise world-writable modes. The copies are private to one verification and removed after it.
 */
export async function grantSandboxAccess(dir: string): Promise<void> {
  const paths = [dir, ...(await readdir(dir, { recursive: true })).map((entry) => join(dir, entry))];
  try {
    for (const path of paths) await lchown(path, SANDBOX_UID, SANDBOX_GID);
  } catch (error) {
    if ((error as { code?: string }).code !== 'EPERM') throw error;
    for (const path of paths) {
      const info = await lstat(path);
      if (info.isSymbolicLink()) continue;
      await chmod(path, info.isDirectory() ? 0o777 : (info.mode & 0o777) | 0o666);
    }
  }
}

/**
 * A checkout of `sha` from `cloneUrl` under `root`, shared by the stages of every incident on that
 * commit (reproduce, minimize, localize read it; the verifier copies it). Made once, atomically
 * (cloned beside and renamed into place), and readable by the sandbox user.
 */
export async function prepareCheckout(options: { cloneUrl: string; sha: string; root: string; name: string }): Promise<string> {
  if (!GitSha.safeParse(options.sha).success) throw new TracemendError('INVALID_INPUT', `checkout needs a full commit SHA, got ${options.sha.slice(0, 80)}`);
  if (!/^[A-Za-z0-9._-]+$/.test(options.name)) throw new TracemendError('INVALID_INPUT', `checkout name ${options.name} is not a plain folder name`);
  const dir = join(options.root, `${options.name}-${options.sha.slice(0, 12)}`);
  if (await lstat(join(dir, '.git')).then(() => true, () => false)) return dir;
  await mkdir(options.root, { recursive: true });
  const staging = `${dir}.${process.pid}.${Date.now()}.tmp`;
  try {
    await execFileAsync('git', ['clone', '--quiet', '--no-checkout', '--', options.cloneUrl, staging], { timeout: 300_000 });
    await execFileAsync('git', ['-C', staging, '-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', options.sha], { timeout: 120_000 });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    const message = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
    throw new TracemendError('INVALID_INPUT', `cannot check out ${options.sha.slice(0, 12)} of ${options.name}: ${message.split('\n')[0]}`, { cause: error });
  }
  await grantSandboxAccess(staging);
  try {
    await rename(staging, dir);
  } catch (error) {
    // Another worker made the same checkout first; theirs is as good as ours.
    await rm(staging, { recursive: true, force: true });
    if (!(await lstat(join(dir, '.git')).then(() => true, () => false))) throw error;
  }
  return dir;
}
