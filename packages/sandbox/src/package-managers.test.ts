import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chown, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TracemendError } from '@tracemend/contracts';
import { exampleRepoTarget } from '@tracemend/contracts/examples';
import { createLogger } from '@tracemend/telemetry';
import { toolRecorder } from '../test/host-tools';
import { createWorkspace } from './activities';
import { commitDateOf } from './checkout';
import { installDependencies, type InstalledDependencies } from './dependencies';
import { DockerSandboxDriver } from './docker-driver';
import { DEFAULT_RUN_LIMITS } from './driver';
import { buildBaseImage, sandboxImageTag } from './image/build-base-image';

const execFileAsync = promisify(execFile);
const PNPM_VERSION = '9.15.9';
const YARN_BERRY_VERSION = '4.5.0';
/** One small dependency with one dependency of its own, so a hoisted layout is visible. */
const DEPENDENCIES = { debug: '4.3.4' };
let root: string;

/** A checkout holding `files`, its lockfile made by `lock` with the real package manager. */
async function checkout(name: string, manifest: Record<string, unknown>, lock?: (dir: string) => Promise<unknown>): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, ...manifest }));
  if (lock !== undefined) await lock(dir);
  // Whatever the lockfile's generator left besides it is not part of the checkout.
  await rm(join(dir, 'node_modules'), { recursive: true, force: true });
  return dir;
}

/** Every symbolic link under `dir` with its target. */
async function linksOf(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return Promise.all(entries.filter((entry) => entry.isSymbolicLink()).map(async (entry) => readlink(join(entry.parentPath, entry.name))));
}

async function versionOf(depsDir: string, name: string): Promise<string> {
  return (JSON.parse(await readFile(join(depsDir, name, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Loads `debug` in the hardened sandbox from the read-only dependency mount. */
async function loadInSandbox(installed: InstalledDependencies): Promise<unknown> {
  const workDir = await mkdtemp(join(root, 'work-'));
  await chown(workDir, 10001, 10001);
  await writeFile(join(workDir, 'probe.js'), `console.log(JSON.stringify({ debug: typeof require('debug'), ms: require('ms')('2h') }));`);
  const driver = new DockerSandboxDriver({ logger: createLogger({ name: 'sandbox-test', level: 'silent' }) });
  const result = await driver.run({ image: sandboxImageTag(), workDir, depsDir: installed.depsDir, env: {}, ...DEFAULT_RUN_LIMITS, command: ['node', 'probe.js'] });
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tracemend-managers-'));
  await buildBaseImage();
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('installDependencies with pnpm', () => {
  it('installs a pnpm lockfile with the pinned pnpm, hoisted, with relative links only, loadable in the sandbox', async () => {
    const repoDir = await checkout('pnpm-probe', { dependencies: DEPENDENCIES, packageManager: `pnpm@${PNPM_VERSION}` }, (dir) =>
      execFileAsync('npx', ['--yes', `pnpm@${PNPM_VERSION}`, 'install', '--lockfile-only', '--ignore-scripts'], { cwd: dir }),
    );
    const cacheRoot = join(root, 'cache-pnpm');
    const installed = await installDependencies({ repoDir, cacheRoot });
    expect(installed).toMatchObject({ installed: true, manager: 'pnpm', version: PNPM_VERSION, lockfile: 'pnpm-lock.yaml' });
    // Hoisted: the dependency's own dependency sits at the top, as node's resolution expects.
    expect(await readdir(installed.depsDir)).toEqual(expect.arrayContaining(['debug', 'ms']));
    expect(await versionOf(installed.depsDir, 'debug')).toBe('4.3.4');
    for (const target of await linksOf(installed.depsDir)) expect(target.startsWith('/')).toBe(false);
    expect(await loadInSandbox(installed)).toEqual({ debug: 'function', ms: 7_200_000 });

    const again = await installDependencies({ repoDir, cacheRoot });
    expect(again).toEqual({ ...installed, installed: false });
    // The cache key covers the manager and its version, not the lockfile alone.
    expect(installed.lockHash).not.toBe(createHash('sha256').update(await readFile(join(repoDir, 'pnpm-lock.yaml'))).digest('hex'));
    // pnpm ran as the sandbox user when the worker is root: it wrote the files.
    if (process.getuid?.() === 0) expect((await lstat(join(installed.depsDir, 'debug', 'package.json'))).uid).toBe(10001);
  });

  it('names pnpm, its frozen command and its reason when the lockfile is out of date', async () => {
    const repoDir = await checkout('pnpm-stale', { dependencies: DEPENDENCIES, packageManager: `pnpm@${PNPM_VERSION}` }, (dir) =>
      execFileAsync('npx', ['--yes', `pnpm@${PNPM_VERSION}`, 'install', '--lockfile-only', '--ignore-scripts'], { cwd: dir }),
    );
    await writeFile(join(repoDir, 'package.json'), JSON.stringify({ name: 'pnpm-stale', version: '1.0.0', dependencies: { debug: '4.3.3' }, packageManager: `pnpm@${PNPM_VERSION}` }));
    const cacheRoot = join(root, 'cache-pnpm-stale');
    const error = (await installDependencies({ repoDir, cacheRoot }).catch((caught: unknown) => caught)) as TracemendError;
    expect(error).toBeInstanceOf(TracemendError);
    expect(error.message).toContain('pnpm failed to install pnpm-lock.yaml');
    expect(error.message).toContain(`\`pnpm@${PNPM_VERSION} install --frozen-lockfile --ignore-scripts`);
    expect(error.message).toContain('ERR_PNPM_OUTDATED_LOCKFILE');
    expect(await readdir(cacheRoot)).toEqual([]);
  });

  it('refuses a pnpm version the registry does not have, saying to correct packageManager', async () => {
    const repoDir = await checkout('pnpm-unpublished', { packageManager: 'pnpm@99.99.99' });
    await writeFile(join(repoDir, 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\n");
    const error = (await installDependencies({ repoDir, cacheRoot: join(root, 'cache-pnpm-unpublished') }).catch((caught: unknown) => caught)) as TracemendError;
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain('cannot fetch pnpm as `npm install pnpm@99.99.99`');
    expect(error.message).toContain('packageManager');
  });
});

describe('installDependencies with yarn', () => {
  it('installs a yarn 1 lockfile frozen with the newest yarn 1', async () => {
    const repoDir = await checkout('yarn-classic-probe', { dependencies: DEPENDENCIES }, (dir) =>
      execFileAsync('npx', ['--yes', 'yarn@1', 'install', '--ignore-scripts', '--non-interactive'], { cwd: dir }),
    );
    expect(await readFile(join(repoDir, 'yarn.lock'), 'utf8')).toContain('# yarn lockfile v1');
    const installed = await installDependencies({ repoDir, cacheRoot: join(root, 'cache-yarn-classic') });
    expect(installed).toMatchObject({ installed: true, manager: 'yarn', lockfile: 'yarn.lock' });
    expect(installed.version).toMatch(/^1\.\d+\.\d+$/);
    expect(await readdir(installed.depsDir)).toEqual(expect.arrayContaining(['debug', 'ms']));
    expect(await versionOf(installed.depsDir, 'debug')).toBe('4.3.4');
    for (const target of await linksOf(installed.depsDir)) expect(target.startsWith('/')).toBe(false);
  });

  it('installs a yarn berry lockfile with the pinned release into a plain node_modules', async () => {
    const repoDir = await checkout('yarn-berry-probe', { dependencies: DEPENDENCIES, packageManager: `yarn@${YARN_BERRY_VERSION}` }, (dir) =>
      execFileAsync('npx', ['--yes', `--package=@yarnpkg/cli-dist@${YARN_BERRY_VERSION}`, '--', 'yarn', 'install', '--mode=update-lockfile'], {
        cwd: dir,
        env: { ...process.env, YARN_ENABLE_IMMUTABLE_INSTALLS: 'false', YARN_ENABLE_TELEMETRY: 'false', YARN_ENABLE_GLOBAL_CACHE: 'false', YARN_CACHE_FOLDER: join(root, 'berry-fixture-cache') },
      }),
    );
    expect(await readFile(join(repoDir, 'yarn.lock'), 'utf8')).toContain('__metadata:');
    const installed = await installDependencies({ repoDir, cacheRoot: join(root, 'cache-yarn-berry') });
    expect(installed).toMatchObject({ installed: true, manager: 'yarn', version: YARN_BERRY_VERSION, lockfile: 'yarn.lock' });
    expect(await readdir(installed.depsDir)).toEqual(expect.arrayContaining(['debug', 'ms']));
    expect(await versionOf(installed.depsDir, 'debug')).toBe('4.3.4');
    for (const target of await linksOf(installed.depsDir)) expect(target.startsWith('/')).toBe(false);
  });
});

/** The registry's publish times of ms 0.7.x, and a date just before the newest of them with the version current then. */
async function msBeforeNewest(): Promise<{ before: Date; expected: string; newest: { patch: number; time: number } }> {
  // The registry's own publish times are the reference.
  const times = JSON.parse((await execFileAsync('npm', ['view', 'ms', 'time', '--json'])).stdout) as Record<string, string>;
  const patches = Object.entries(times)
    .filter(([version]) => /^0\.7\.\d+$/.test(version))
    .map(([version, time]) => ({ patch: Number(version.split('.')[2]), time: Date.parse(time) }));
  const newest = patches.reduce((a, b) => (b.patch > a.patch ? b : a));
  const before = new Date(newest.time - 1_000);
  const expected = Math.max(...patches.filter((entry) => entry.time <= before.getTime()).map((entry) => entry.patch));
  expect(expected).toBeLessThan(newest.patch);
  return { before, expected: `0.7.${expected}`, newest };
}

describe('installDependencies with a committed yarn berry release', () => {
  it('runs the release the repository committed, fetching no yarn from the registry', async () => {
    const repoDir = await checkout('yarn-release-probe', { dependencies: DEPENDENCIES }, (dir) =>
      execFileAsync('npx', ['--yes', `--package=@yarnpkg/cli-dist@${YARN_BERRY_VERSION}`, '--', 'yarn', 'install', '--mode=update-lockfile'], {
        cwd: dir,
        env: { ...process.env, YARN_ENABLE_IMMUTABLE_INSTALLS: 'false', YARN_ENABLE_TELEMETRY: 'false', YARN_ENABLE_GLOBAL_CACHE: 'false', YARN_CACHE_FOLDER: join(root, 'berry-fixture-cache') },
      }),
    );
    // The release a berry repository commits is the registry's own bundle under .yarn/releases.
    const packed = await mkdtemp(join(root, 'pack-'));
    const { stdout } = await execFileAsync('npm', ['pack', `@yarnpkg/cli-dist@${YARN_BERRY_VERSION}`, '--pack-destination', packed, '--json']);
    const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
    await execFileAsync('tar', ['-xzf', join(packed, filename), '-C', packed, 'package/bin/yarn.js']);
    await mkdir(join(repoDir, '.yarn', 'releases'), { recursive: true });
    await writeFile(join(repoDir, '.yarn', 'releases', `yarn-${YARN_BERRY_VERSION}.cjs`), await readFile(join(packed, 'package', 'bin', 'yarn.js')));

    const tools = await toolRecorder();
    await tools.wrap('npm');
    const path = process.env.PATH;
    process.env.PATH = `${tools.binDir}:${path ?? ''}`;
    try {
      const installed = await installDependencies({ repoDir, cacheRoot: join(root, 'cache-yarn-release') });
      expect(installed).toMatchObject({ installed: true, manager: 'yarn', version: YARN_BERRY_VERSION, lockfile: 'yarn.lock' });
      expect(await versionOf(installed.depsDir, 'debug')).toBe('4.3.4');
      expect(await tools.calls('npm')).toEqual([]);
    } finally {
      process.env.PATH = path;
      await tools.remove();
    }
  });
});

describe('installDependencies without a lockfile', () => {
  it('resolves with the versions the registry offered at the commit date, and caches per date', async () => {
    const { before, expected, newest } = await msBeforeNewest();

    const repoDir = await checkout('unlocked-probe', { dependencies: { ms: '^0.7.0' } });
    const cacheRoot = join(root, 'cache-unlocked');
    const installed = await installDependencies({ repoDir, cacheRoot, commitDate: before.toISOString() });
    expect(installed).toMatchObject({ installed: true, manager: 'npm', lockfile: null, resolvedBefore: before.toISOString() });
    expect(await versionOf(installed.depsDir, 'ms')).toBe(expected);
    expect(await readdir(repoDir)).toEqual(['package.json']);

    expect(await installDependencies({ repoDir, cacheRoot, commitDate: before.toISOString() })).toEqual({ ...installed, installed: false });
    const later = await installDependencies({ repoDir, cacheRoot, commitDate: new Date(newest.time + 60_000).toISOString() });
    expect(later.lockHash).not.toBe(installed.lockHash);
    expect(await versionOf(later.depsDir, 'ms')).toBe(`0.7.${newest.patch}`);
  });
});

describe('Workspace.prepare without a lockfile', () => {
  it("installs a commit's dependencies as of its commit date and says so in its note", async () => {
    const { before, expected } = await msBeforeNewest();
    const origin = join(root, 'unlocked-origin');
    await mkdir(origin);
    await writeFile(join(origin, 'package.json'), JSON.stringify({ name: 'unlocked-service', version: '1.0.0', private: true, dependencies: { ms: '^0.7.0' } }));
    const git = (args: string[], env: Record<string, string> = {}) => execFileAsync('git', args, { cwd: origin, env: { ...process.env, ...env } });
    await git(['init', '--quiet', '-b', 'main']);
    await git(['add', '.']);
    // Committed in another offset than UTC: the note gives the same instant in UTC.
    const committed = before.toISOString().replace(/\.\d+Z$/, 'Z');
    await git(['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', 'one'], { GIT_COMMITTER_DATE: `${committed}`, TZ: 'Asia/Kolkata' });
    const sha = (await git(['rev-parse', 'HEAD'])).stdout.trim();

    const workspace = createWorkspace({ root: join(root, 'workspace-unlocked'), logger: createLogger({ name: 'workspace-test', level: 'silent' }) });
    const prepared = await workspace.prepare({ ...exampleRepoTarget, repository: { ...exampleRepoTarget.repository, cloneUrl: origin }, sha });
    expect(Date.parse((await commitDateOf(prepared.repoDir)) ?? '')).toBe(Date.parse(committed));
    expect(prepared.dependencyNote).toBe(`no lockfile: dependencies resolved as of ${new Date(committed).toISOString()} with npm install --before`);
    expect(await versionOf(prepared.depsDir, 'ms')).toBe(expected);
  });
});
