import { execFile } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleRepoTarget } from '@tracemend/contracts/examples';
import { createLogger } from '@tracemend/telemetry';
import { processAlive, toolRecorder } from '../test/host-tools';
import { CHECKOUTS_FOLDER, createWorkspace } from './activities';
import { cancellableWorkspace } from './cancellation';
import { copyCheckout, prepareCheckout } from './checkout';
import { SANDBOX_UID } from './image/build-base-image';

const git = promisify(execFile);
let dir: string;
let origin: string;
let sha: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-checkout-'));
  origin = join(dir, 'origin');
  await git('git', ['init', '--quiet', '-b', 'main', origin]);
  await writeFile(join(origin, 'a.ts'), 'export const a = 1;\n');
  await writeFile(join(origin, 'package.json'), JSON.stringify({ name: 'svc', version: '1.0.0', private: true }));
  await writeFile(join(origin, 'package-lock.json'), JSON.stringify({ name: 'svc', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'svc', version: '1.0.0' } } }));
  await git('git', ['-C', origin, 'add', '.']);
  await git('git', ['-C', origin, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', 'one']);
  sha = (await git('git', ['-C', origin, 'rev-parse', 'HEAD'])).stdout.trim();
  await writeFile(join(origin, 'a.ts'), 'export const a = 2;\n');
  await git('git', ['-C', origin, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-am', 'two']);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('prepareCheckout', () => {
  it('checks out the recorded commit once, for the sandbox user', async () => {
    const root = join(dir, 'checkouts');
    const checkout = await prepareCheckout({ cloneUrl: origin, sha, root, name: 'svc' });
    expect(await readFile(join(checkout, 'a.ts'), 'utf8')).toBe('export const a = 1;\n');
    if (process.getuid?.() === 0) expect((await stat(join(checkout, 'a.ts'))).uid).toBe(SANDBOX_UID);
    expect(await prepareCheckout({ cloneUrl: origin, sha, root, name: 'svc' })).toBe(checkout);
  });

  it('names the commit it cannot check out and refuses what is not a SHA', async () => {
    const root = join(dir, 'bad');
    await expect(prepareCheckout({ cloneUrl: origin, sha: 'f'.repeat(40), root, name: 'svc' })).rejects.toThrow(/cannot check out ffffffffffff of svc/);
    await expect(prepareCheckout({ cloneUrl: origin, sha: 'main', root, name: 'svc' })).rejects.toThrow(/needs a full commit SHA/);
    await expect(prepareCheckout({ cloneUrl: origin, sha, root, name: '../x' })).rejects.toThrow(/not a plain folder name/);
  });
});

/** Every regular file below `dir` with more than one hard link. */
async function hardLinked(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const path of await readdir(dir, { recursive: true })) {
    const info = await lstat(join(dir, path));
    if (info.isFile() && info.nlink > 1) found.push(path);
  }
  return found;
}

describe('checkouts hold no hard links', () => {
  it('a checkout of a local repository shares no object file with it, so copies of it are accepted', async () => {
    // git clones a local path by hard-linking its objects unless told not to.
    const plain = join(dir, 'plain-clone');
    await git('git', ['clone', '--quiet', origin, plain]);
    expect((await hardLinked(plain)).length).toBeGreaterThan(0);

    const checkout = await prepareCheckout({ cloneUrl: origin, sha, root: join(dir, 'links'), name: 'svc' });
    expect(await hardLinked(checkout)).toEqual([]);
    await copyCheckout(checkout, join(dir, 'links-copy'));
    expect(await readFile(join(dir, 'links-copy', 'a.ts'), 'utf8')).toBe('export const a = 1;\n');
  });
});

/** A git stand-in that hangs at the checkout step, recording its process ids and staging folder; other steps run the real git. */
async function hangingGit(): Promise<{ binDir: string; started: () => Promise<{ pids: number[]; cwd: string } | undefined>; remove: () => Promise<void> }> {
  const tools = await toolRecorder();
  const real = (await git('sh', ['-c', 'command -v git'])).stdout.trim();
  const state = join(tools.logDir, 'hang');
  await tools.wrap('git', [`case "$*" in *" checkout "*) sleep 60 & echo "$$ $! $PWD" > ${state}.tmp; mv ${state}.tmp ${state}; wait; exit 1;; esac`, `exec ${real} "$@"`].join('\n'));
  return {
    binDir: tools.binDir,
    remove: () => tools.remove(),
    started: async () => {
      const text = await readFile(state, 'utf8').catch(() => undefined);
      if (text === undefined) return undefined;
      const [shell = '', sleeper = '', cwd = ''] = text.trim().split(' ');
      return { pids: [Number(shell), Number(sleeper)], cwd };
    },
  };
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs `body` with the fake tools first on PATH, then removes them. */
async function withPath<T>(fake: { binDir: string; remove: () => Promise<void> }, body: () => Promise<T>): Promise<T> {
  const path = process.env.PATH;
  process.env.PATH = `${fake.binDir}:${path ?? ''}`;
  try {
    return await body();
  } finally {
    process.env.PATH = path;
    await fake.remove();
  }
}

describe('cancelling a checkout', () => {
  it('kills git and its children and leaves neither a checkout nor a staging folder', async () => {
    const fake = await hangingGit();
    const root = join(dir, 'cancelled');
    const controller = new AbortController();
    await withPath(fake, async () => {
      const checkout = prepareCheckout({ cloneUrl: origin, sha, root, name: 'svc', signal: controller.signal });
      checkout.catch(() => undefined);
      const { pids, cwd } = await waitFor(fake.started);
      for (const pid of pids) expect(await processAlive(pid)).toBe(true);
      const abortedAt = Date.now();
      controller.abort(new Error('the incident was cancelled'));
      await expect(checkout).rejects.toThrow('the incident was cancelled');
      expect(Date.now() - abortedAt).toBeLessThan(2_000);
      for (const pid of pids) expect(await processAlive(pid)).toBe(false);
      expect(await readdir(root)).toEqual([]);
      await expect(stat(cwd)).rejects.toMatchObject({ code: 'ENOENT' });
    });
    // Nothing half-made was kept: the next attempt checks out from scratch.
    const checkout = await prepareCheckout({ cloneUrl: origin, sha, root, name: 'svc' });
    expect(await readFile(join(checkout, 'a.ts'), 'utf8')).toBe('export const a = 1;\n');
  });
});

describe('createWorkspace', () => {
  const target = (cloneUrl: string, commit: string) => ({ ...exampleRepoTarget, repository: { ...exampleRepoTarget.repository, cloneUrl }, sha: commit });

  it('does not reuse a checkout made the earlier way, with hard-linked objects, and prepares one the copies accept', async () => {
    const service = join(dir, 'service-origin');
    await git('git', ['init', '--quiet', '-b', 'main', service]);
    await writeFile(join(service, 'package.json'), JSON.stringify({ name: 'svc', version: '1.0.0', private: true }));
    await writeFile(join(service, 'package-lock.json'), JSON.stringify({ name: 'svc', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'svc', version: '1.0.0' } } }));
    await writeFile(join(service, 'a.ts'), 'export const a = 1;\n');
    await git('git', ['-C', service, 'add', '.']);
    await git('git', ['-C', service, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', 'one']);
    const commit = (await git('git', ['-C', service, 'rev-parse', 'HEAD'])).stdout.trim();
    const root = join(dir, 'workspace-upgraded');
    const { owner, name } = exampleRepoTarget.repository;
    // What an earlier version left: a plain local clone under the unversioned folder.
    const old = join(root, 'checkouts', `${owner}-${name}-${commit.slice(0, 12)}`);
    await mkdir(join(root, 'checkouts'), { recursive: true });
    await git('git', ['clone', '--quiet', service, old]);
    expect((await hardLinked(old)).length).toBeGreaterThan(0);

    const workspace = createWorkspace({ root, logger: createLogger({ name: 'workspace-test', level: 'silent' }) });
    const { repoDir } = await workspace.prepare(target(service, commit));
    expect(repoDir).toBe(join(root, CHECKOUTS_FOLDER, `${owner}-${name}-${commit.slice(0, 12)}`));
    expect(await hardLinked(repoDir)).toEqual([]);
    await copyCheckout(repoDir, join(dir, 'upgraded-copy'));
    expect(await readFile(join(dir, 'upgraded-copy', 'a.ts'), 'utf8')).toBe('export const a = 1;\n');
  });

  it('stops a shared preparation only when every caller waiting for it has cancelled', async () => {
    const fake = await hangingGit();
    const workspace = createWorkspace({ root: join(dir, 'workspace'), logger: createLogger({ name: 'workspace-test', level: 'silent' }) });
    const first = new AbortController();
    const second = new AbortController();
    await withPath(fake, async () => {
      const a = workspace.prepare(target(origin, sha), first.signal);
      const b = workspace.prepare(target(origin, sha), second.signal);
      a.catch(() => undefined);
      b.catch(() => undefined);
      const { pids } = await waitFor(fake.started);
      first.abort(new Error('first incident cancelled'));
      await expect(a).rejects.toThrow('first incident cancelled');
      // The other incident still waits for the same checkout: git keeps running.
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const pid of pids) expect(await processAlive(pid)).toBe(true);
      second.abort(new Error('second incident cancelled'));
      // A caller arriving while the cancelled preparation is still ending starts its own: it never
      // inherits another incident's cancellation (on a busy machine the old one takes a while to end).
      const third = new AbortController();
      const c = workspace.prepare(target(origin, sha), third.signal);
      c.catch(() => undefined);
      await expect(b).rejects.toThrow('second incident cancelled');
      await new Promise((resolve) => setTimeout(resolve, 100));
      third.abort(new Error('third incident cancelled'));
      await expect(c).rejects.toThrow('third incident cancelled');
      await waitFor(async () => ((await Promise.all(pids.map(processAlive))).some(Boolean) ? undefined : true), 2_000);
    });
    // The cancelled preparation is forgotten: the next caller prepares afresh, dependencies included.
    const prepared = await workspace.prepare(target(origin, sha));
    expect(await readFile(join(prepared.repoDir, 'a.ts'), 'utf8')).toBe('export const a = 1;\n');
    expect((await stat(prepared.depsDir)).isDirectory()).toBe(true);
  });
});

describe('cancellableWorkspace', () => {
  const target = (cloneUrl: string, commit: string) => ({ ...exampleRepoTarget, repository: { ...exampleRepoTarget.repository, cloneUrl }, sha: commit });

  it('stops a preparation called without a signal when the current activity signal aborts', async () => {
    const fake = await hangingGit();
    const activity = new AbortController();
    const workspace = cancellableWorkspace(createWorkspace({ root: join(dir, 'workspace-current'), logger: createLogger({ name: 'workspace-test', level: 'silent' }) }), () => activity.signal);
    await withPath(fake, async () => {
      const prepared = workspace.prepare(target(origin, sha));
      prepared.catch(() => undefined);
      const { pids } = await waitFor(fake.started);
      activity.abort(new Error('the activity was cancelled'));
      await expect(prepared).rejects.toThrow('the activity was cancelled');
      await waitFor(async () => ((await Promise.all(pids.map(processAlive))).some(Boolean) ? undefined : true), 2_000);
    });
  });
});
