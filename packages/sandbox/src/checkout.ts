import { chmod, lchown, lstat, mkdir, readdir, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { GitSha, TracemendError } from '@tracemend/contracts';
import { baseHostEnv, moveIntoPlace, privateStaging, removeStaging, runHostCommand, untrustedWorkUser, type HostUser } from './host-command';
import { SANDBOX_GID, SANDBOX_UID } from './image/build-base-image';
import { copyTreeInside, readTextInside } from '@tracemend/process';

/**
 * Copies a checkout (with its .git, without node_modules, which the sandbox mounts) to `dest`. A
 * checkout holds whatever the repository committed and a copy is written by sandboxed tests, so the
 * copy follows no link, refuses one that points out of it and refuses hard-linked files
 * (SANDBOX_ESCAPE, naming the path).
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

/** Whether a clone URL names a folder on this machine rather than a remote. */
function isLocalSource(cloneUrl: string): boolean {
  return isAbsolute(cloneUrl) || cloneUrl.startsWith('file://');
}

/** Every path below `dir` (and `dir`) handed to `user`, links themselves rather than their targets. */
async function chownTree(dir: string, user: HostUser): Promise<void> {
  for (const path of [dir, ...(await readdir(dir, { recursive: true })).map((entry) => join(dir, entry))]) await lchown(path, user.uid, user.gid);
}

export interface PrepareCheckoutOptions {
  readonly cloneUrl: string;
  readonly sha: string;
  readonly root: string;
  readonly name: string;
  /** Who runs git; defaults to `untrustedWorkUser()` (the sandbox user when the worker is root). */
  readonly user?: HostUser;
  /** Aborting kills git and removes the staging folder; nothing is left in `root`. */
  readonly signal?: AbortSignal;
  /** Limit for the clone; defaults to 5 minutes (the checkout step gets 2 more). */
  readonly timeoutMs?: number;
}

/**
 * A checkout of `sha` from `cloneUrl` under `root`, shared by the stages of every incident on that
 * commit (reproduce, minimize, localize read it, mounted read-only; the verifier copies it). Made
 * once, atomically (cloned in a private staging folder and moved into place), and readable by the
 * sandbox user. git runs as `user` with an environment of its own (no token or variable of the worker),
 * so a hostile repository meets git's parsing and checkout without root's rights. A local source that
 * user may not read is first mirrored (bare, no working tree) by the worker into the staging folder.
 */
export async function prepareCheckout(options: PrepareCheckoutOptions): Promise<string> {
  if (!GitSha.safeParse(options.sha).success) throw new TracemendError('INVALID_INPUT', `checkout needs a full commit SHA, got ${options.sha.slice(0, 80)}`);
  if (!/^[A-Za-z0-9._-]+$/.test(options.name)) throw new TracemendError('INVALID_INPUT', `checkout name ${options.name} is not a plain folder name`);
  const dir = join(options.root, `${options.name}-${options.sha.slice(0, 12)}`);
  const placed = (): Promise<boolean> => lstat(join(dir, '.git')).then(() => true, () => false);
  if (await placed()) return dir;
  await mkdir(options.root, { recursive: true });
  const user = 'user' in options ? options.user : untrustedWorkUser();
  const staging = await privateStaging('tracemend-checkout', user);
  try {
    const checkout = join(staging.dir, 'checkout');
    const git = (args: string[], as: HostUser | undefined, timeoutMs: number) =>
      runHostCommand('git', args, {
        cwd: staging.dir,
        env: { ...baseHostEnv(staging.home), GIT_TERMINAL_PROMPT: '0' },
        ...(as === undefined ? {} : { user: as }),
        timeoutMs,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
    try {
      let source = options.cloneUrl;
      if (user !== undefined && isLocalSource(source)) {
        // The worker reads its own local source (no checkout, no hooks); git as `user` does the rest.
        source = join(staging.dir, 'source.git');
        await git(['clone', '--quiet', '--bare', '--no-local', '--', options.cloneUrl, source], undefined, options.timeoutMs ?? 300_000);
        await chownTree(source, user);
      }
      await git(['clone', '--quiet', '--no-checkout', '--no-local', '--', source, checkout], user, options.timeoutMs ?? 300_000);
      await git(['-C', checkout, '-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', options.sha], user, 120_000);
      // The mirror was only the source: the checkout fetches from the original from now on.
      if (source !== options.cloneUrl) await git(['-C', checkout, 'remote', 'set-url', 'origin', options.cloneUrl], user, 30_000);
      // Dependencies of a checkout without a lockfile are resolved as of this date.
      const { stdout } = await git(['-C', checkout, 'log', '-1', '--format=%cI', options.sha], user, 30_000);
      await writeFile(join(checkout, COMMIT_DATE_FILE), stdout);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const message = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
      throw new TracemendError('INVALID_INPUT', `cannot check out ${options.sha.slice(0, 12)} of ${options.name}: ${message.split('\n')[0]}`, { cause: error });
    }
    await grantSandboxAccess(checkout);
    await moveIntoPlace(checkout, dir, placed);
    return dir;
  } finally {
    await removeStaging(staging.dir);
  }
}

/** Where a checkout keeps its commit's date, written while it is made (git cannot reach a placed checkout as the sandbox user). */
const COMMIT_DATE_FILE = '.git/tracemend-commit-date';

/**
 * When the checkout's commit was made (ISO 8601 with the committer's offset, as `git log --format=%cI`),
 * recorded by `prepareCheckout`; undefined for a checkout an earlier version made without it.
 */
export async function commitDateOf(repoDir: string): Promise<string | undefined> {
  let text: string;
  try {
    text = (await readTextInside(repoDir, COMMIT_DATE_FILE, { maxBytes: 128 })).trim();
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
  if (Number.isNaN(Date.parse(text))) throw new TracemendError('INTERNAL', `${COMMIT_DATE_FILE} of ${repoDir} holds no date: ${text.slice(0, 80)}`);
  return text;
}
