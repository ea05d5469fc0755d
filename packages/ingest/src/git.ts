// Git over a service's repository, read-only: tags through `ls-remote`, commits and file lists from a
// bare mirror kept under a cache folder (fetched again only when an object is missing).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describeExit, runCommand } from '@tracemend/process';

/** A git failure: the command, its stderr and whether the time limit ended it. */
export class GitCommandError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    readonly timedOut: boolean,
  ) {
    super(message);
    this.name = 'GitCommandError';
  }
}

export interface GitOptions {
  /** Folder holding one bare mirror per clone URL. */
  cacheDir: string;
  /** Limit per git command; defaults to 2 minutes. */
  timeoutMs?: number;
}

/** Runs git without a shell, with an environment of its own (no token or variable of the worker) and no prompts. */
async function runGit(args: readonly string[], options: { cwd: string; home: string; timeoutMs: number }): Promise<string> {
  const result = await runCommand('git', args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: options.home, LANG: 'C', GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' },
    timeoutMs: options.timeoutMs,
    outputLimitBytes: 256 * 1024 * 1024,
    processGroup: true,
  });
  if (result.code === 0 && !result.timedOut) return result.stdout.toString('utf8');
  const stderr = result.stderr.toString('utf8');
  const detail = stderr.trim().split('\n').slice(-3).join('; ') || describeExit('git', result, options.timeoutMs);
  throw new GitCommandError(`git ${args[0] ?? ''} ${result.timedOut ? 'timed out' : 'failed'}: ${detail}`, stderr, result.timedOut);
}

/** One tag of a remote: its name and the commit it points at (annotated tags peeled). */
export interface RemoteTag {
  name: string;
  commit: string;
}

/** Read-only git access to service repositories, with a bare mirror per clone URL. */
export interface GitRepositories {
  /** The remote's tags, annotated ones peeled to their commit (`git ls-remote --tags`). */
  listTags(cloneUrl: string): Promise<RemoteTag[]>;
  /** Every commit whose SHA starts with `prefix`, fetching once when none is known yet. */
  commitsWithPrefix(cloneUrl: string, prefix: string): Promise<string[]>;
  /** The repository's file paths at `sha` (`git ls-tree -r --name-only`). */
  listFiles(cloneUrl: string, sha: string): Promise<string[]>;
  /** A file's text at `sha`, undefined when the commit has no such file or it is over `maxBytes` (default 1 MiB). */
  readFile(cloneUrl: string, sha: string, path: string, maxBytes?: number): Promise<string | undefined>;
}

/** Parses `git ls-remote --tags` output; `refs/tags/x^{}` lines give the commit an annotated tag points at. */
export function parseRemoteTags(output: string): RemoteTag[] {
  const direct = new Map<string, string>();
  const peeled = new Map<string, string>();
  for (const line of output.split('\n')) {
    const match = /^([0-9a-f]{40,64})\trefs\/tags\/(.+?)(\^\{\})?$/.exec(line.trim());
    if (!match) continue;
    const [, sha = '', name = '', peel] = match;
    (peel ? peeled : direct).set(name, sha);
  }
  return [...new Set([...direct.keys(), ...peeled.keys()])].map((name) => ({ name, commit: peeled.get(name) ?? direct.get(name) ?? '' }));
}

/** Git access over a mirror cache in `options.cacheDir`. */
export function createGitRepositories(options: GitOptions): GitRepositories {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const home = options.cacheDir;
  const mirrors = new Map<string, Promise<string>>();
  const git = (args: string[], cwd = options.cacheDir) => runGit(args, { cwd, home, timeoutMs });

  function mirrorDir(cloneUrl: string): string {
    return join(options.cacheDir, `${createHash('sha256').update(cloneUrl).digest('hex').slice(0, 24)}.git`);
  }

  /** The mirror of `cloneUrl`, cloned once (into a staging folder, then moved into place). */
  function mirror(cloneUrl: string): Promise<string> {
    const dir = mirrorDir(cloneUrl);
    let pending = mirrors.get(dir);
    if (pending === undefined) {
      pending = (async () => {
        if (await stat(join(dir, 'HEAD')).then(() => true, () => false)) return dir;
        await mkdir(options.cacheDir, { recursive: true });
        const staging = `${dir}.${randomBytes(6).toString('hex')}.tmp`;
        try {
          await git(['clone', '--quiet', '--mirror', '--no-local', '--', cloneUrl, staging]);
          await rename(staging, dir).catch(async (error: unknown) => {
            // Another process placed the same mirror first: use that one.
            if (!(await stat(join(dir, 'HEAD')).then(() => true, () => false))) throw error;
          });
        } finally {
          await rm(staging, { recursive: true, force: true });
        }
        return dir;
      })();
      mirrors.set(dir, pending);
      pending.catch(() => mirrors.delete(dir));
    }
    return pending;
  }

  async function fetchMirror(dir: string): Promise<void> {
    await git(['fetch', '--quiet', '--prune', '--tags', 'origin', '+refs/*:refs/*'], dir);
  }

  async function hasCommit(dir: string, sha: string): Promise<boolean> {
    return git(['cat-file', '-e', `${sha}^{commit}`], dir).then(() => true, () => false);
  }

  async function commitsIn(dir: string, prefix: string): Promise<string[]> {
    // Lists every object with the prefix (one line each), then keeps the commits.
    const named = await git(['rev-parse', `--disambiguate=${prefix}`], dir).then((out) => out.split('\n').filter(Boolean), () => [] as string[]);
    const commits: string[] = [];
    for (const sha of named) {
      const type = await git(['cat-file', '-t', sha], dir).catch(() => '');
      if (type.trim() === 'commit') commits.push(sha);
    }
    return commits;
  }

  return {
    async listTags(cloneUrl) {
      await mkdir(options.cacheDir, { recursive: true });
      return parseRemoteTags(await git(['ls-remote', '--tags', '--', cloneUrl]));
    },
    async commitsWithPrefix(cloneUrl, prefix) {
      if (!/^[0-9a-f]{4,64}$/.test(prefix)) return [];
      const dir = await mirror(cloneUrl);
      let found = await commitsIn(dir, prefix);
      if (found.length === 0) {
        await fetchMirror(dir);
        found = await commitsIn(dir, prefix);
      }
      return found;
    },
    async listFiles(cloneUrl, sha) {
      const dir = await mirror(cloneUrl);
      if (!(await hasCommit(dir, sha))) await fetchMirror(dir);
      const out = await git(['ls-tree', '-r', '-z', '--name-only', '--full-tree', sha], dir);
      return out.split('\0').filter(Boolean);
    },
    async readFile(cloneUrl, sha, path, maxBytes = 1024 * 1024) {
      if (!/^[0-9a-f]{40,64}$/.test(sha) || path.startsWith('-') || path.includes('..') || path.startsWith('/')) return undefined;
      const dir = await mirror(cloneUrl);
      if (!(await hasCommit(dir, sha))) await fetchMirror(dir);
      // A missing path is an ordinary answer; a commit git cannot find still fails loudly above.
      const size = await git(['cat-file', '-s', `${sha}:${path}`], dir).then((out) => Number.parseInt(out.trim(), 10), () => undefined);
      if (size === undefined || !(size <= maxBytes)) return undefined;
      return git(['cat-file', 'blob', `${sha}:${path}`], dir);
    },
  };
}
