// Host-side child processes that handle untrusted repository content: git fetching and checking out a
// target repository, npm installing its lockfile. They run as an unprivileged user (when the worker is
// root), with an environment built from nothing (no token of the worker reaches them), in their own
// process group so a cancel or a timeout kills everything they started.
import { chown, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyTreeInside, describeExit, runCommand } from '@tracemend/process';
import { SANDBOX_GID, SANDBOX_UID } from './image/build-base-image';

/** A numeric user and group to run a host process as. */
export interface HostUser {
  readonly uid: number;
  readonly gid: number;
}

/**
 * Who runs host-side work over untrusted trees: the sandbox user (10001:10001) when the worker is
 * root, so git and npm cannot touch what only root may; undefined (the worker's own user) otherwise.
 */
export function untrustedWorkUser(): HostUser | undefined {
  return process.getuid?.() === 0 ? { uid: SANDBOX_UID, gid: SANDBOX_GID } : undefined;
}

/** The only variables a host child process starts with: a search path and a locale, plus its own. */
export function baseHostEnv(home: string): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' };
}

export interface HostCommandOptions {
  readonly cwd: string;
  /** The child's whole environment; nothing of the worker's is inherited. */
  readonly env: Readonly<Record<string, string>>;
  /** Run as this user (needs root); undefined runs as the worker's user. */
  readonly user?: HostUser;
  readonly timeoutMs: number;
  /** Aborting kills the child's whole process group; the call rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Bytes kept of each of stdout and stderr (the end is kept); defaults to 1 MiB. */
  readonly outputLimitBytes?: number;
}

export interface HostCommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Why a host command failed: its exit code or signal, whether the time limit killed it, and its output. */
export class HostCommandError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    readonly exitCode: number | null,
    readonly timedOut: boolean,
    /** Some tools (pnpm) report their errors here rather than on stderr. */
    readonly stdout = '',
  ) {
    super(message);
    this.name = 'HostCommandError';
  }
}

/**
 * Runs `file` with `args` without a shell, as `options.user`, with exactly `options.env`, in a new
 * process group. On abort or timeout the whole group is killed with SIGKILL (git and npm start helpers
 * of their own); the call then rejects with the abort reason or a HostCommandError with `timedOut`.
 */
export async function runHostCommand(file: string, args: readonly string[], options: HostCommandOptions): Promise<HostCommandResult> {
  const result = await runCommand(file, args, {
    cwd: options.cwd,
    env: options.env,
    ...(options.user === undefined ? {} : { user: options.user }),
    timeoutMs: options.timeoutMs,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    outputLimitBytes: options.outputLimitBytes ?? 1024 * 1024,
    processGroup: true,
  });
  const stdout = result.stdout.toString('utf8');
  const stderr = result.stderr.toString('utf8');
  if (result.code === 0 && !result.timedOut) return { stdout, stderr };
  throw new HostCommandError(describeExit(`${file} ${args[0] ?? ''}`, result, options.timeoutMs), stderr, result.code, result.timedOut, stdout);
}

/**
 * A fresh folder for one host command's output, owned by `user`, under the system temporary folder
 * (world-searchable, unlike a state folder below a private home), with a private `home` inside for the
 * tool's own files (npm's cache, git's config lookups). The caller moves the result out and removes it.
 */
export async function privateStaging(prefix: string, user: HostUser | undefined): Promise<{ dir: string; home: string }> {
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  const home = join(dir, 'home');
  await mkdir(home);
  if (user !== undefined) {
    await chown(dir, user.uid, user.gid);
    await chown(home, user.uid, user.gid);
  }
  return { dir, home };
}

/** Removes a staging folder, whatever the killed process left in it. */
export async function removeStaging(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/**
 * Moves a finished tree from the staging folder to `dest` atomically: a rename, or across filesystems a
 * copy beside `dest` (no link followed out of the tree) renamed into place. Resolves false when
 * another worker placed `dest` first.
 */
export async function moveIntoPlace(from: string, dest: string, placed: () => Promise<boolean>): Promise<boolean> {
  const beside = `${dest}.${process.pid}.${Date.now()}.tmp`;
  try {
    try {
      await rename(from, dest);
      return true;
    } catch (error) {
      if ((error as { code?: string }).code !== 'EXDEV') throw error;
    }
    await copyTreeInside(from, beside);
    await rename(beside, dest);
    return true;
  } catch (error) {
    // Another worker made the same tree first; theirs is as good as ours.
    if (await placed()) return false;
    throw error;
  } finally {
    await rm(beside, { recursive: true, force: true });
  }
}
