import { execFile } from 'node:child_process';
import { chmod, chown, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TracemendError } from '@tracemend/contracts';
import { createLogger } from '@tracemend/telemetry';
import { processAlive, toolRecorder } from '../test/host-tools';
import { installDependencies } from './dependencies';
import { untrustedWorkUser } from './host-command';
import { DockerSandboxDriver } from './docker-driver';
import { DEFAULT_RUN_LIMITS } from './driver';
import { buildBaseImage, sandboxImageTag } from './image/build-base-image';

const execFileAsync = promisify(execFile);
let root: string;
let repoDir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tracemend-deps-'));
  repoDir = join(root, 'repo');
  await execFileAsync('mkdir', ['-p', repoDir]);
  await writeFile(join(repoDir, 'package.json'), JSON.stringify({ name: 'deps-probe', version: '1.0.0', private: true, dependencies: { ms: '2.1.3' } }));
  // The lockfile is resolved on the host against the npm registry, as a target repository would commit it.
  await execFileAsync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: repoDir });
  await buildBaseImage();
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('installDependencies', () => {
  it('installs once per lockfile hash and hits the cache the second time', async () => {
    const cacheRoot = join(root, 'cache-serial');
    const first = await installDependencies({ repoDir, cacheRoot });
    expect(first.installed).toBe(true);
    expect(first.lockHash).toMatch(/^[0-9a-f]{64}$/);
    expect(first.depsDir).toBe(join(cacheRoot, first.lockHash, 'node_modules'));
    expect(await readdir(first.depsDir)).toContain('ms');

    expect(first).toMatchObject({ manager: 'npm', lockfile: 'package-lock.json' });
    expect(first.version).toBeUndefined();
    expect(first.resolvedBefore).toBeUndefined();

    const second = await installDependencies({ repoDir, cacheRoot });
    expect(second).toEqual({ ...first, installed: false });
    expect((await readdir(cacheRoot)).filter((name) => name.startsWith('.staging'))).toEqual([]);
  });

  it('lets exactly one of two concurrent installs place the result', async () => {
    const cacheRoot = join(root, 'cache-concurrent');
    const results = await Promise.all([installDependencies({ repoDir, cacheRoot }), installDependencies({ repoDir, cacheRoot })]);
    expect(results.filter((result) => result.installed)).toHaveLength(1);
    expect(results[0]?.depsDir).toBe(results[1]?.depsDir);
    expect(await readdir(results[0]?.depsDir ?? '')).toContain('ms');
    expect(await readdir(cacheRoot)).toEqual([results[0]?.lockHash]);
  });

  it('refuses a repository without a lockfile when no commit date says what to resolve against', async () => {
    const bare = join(root, 'bare');
    await execFileAsync('mkdir', ['-p', bare]);
    await writeFile(join(bare, 'package.json'), '{"name":"bare","version":"1.0.0"}');
    const error = await installDependencies({ repoDir: bare, cacheRoot: join(root, 'cache-bare') }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TracemendError);
    expect((error as TracemendError).code).toBe('INVALID_INPUT');
    expect((error as TracemendError).message).toContain('has no lockfile (npm-shrinkwrap.json, package-lock.json, pnpm-lock.yaml, yarn.lock)');
    expect((error as TracemendError).message).toContain('pass commitDate');
  });

  it('names npm, its command and its reason when the lockfile is out of step with package.json', async () => {
    const stale = join(root, 'stale');
    await execFileAsync('mkdir', ['-p', stale]);
    await writeFile(join(stale, 'package-lock.json'), await readFile(join(repoDir, 'package-lock.json')));
    await writeFile(join(stale, 'package.json'), JSON.stringify({ name: 'deps-probe', version: '1.0.0', private: true, dependencies: { ms: '2.1.2' } }));
    const cacheRoot = join(root, 'cache-stale');
    const error = (await installDependencies({ repoDir: stale, cacheRoot }).catch((caught: unknown) => caught)) as TracemendError;
    expect(error).toBeInstanceOf(TracemendError);
    expect(error.message).toContain('npm failed to install package-lock.json');
    expect(error.message).toContain('`npm ci --ignore-scripts --no-audit --no-fund --loglevel=error`');
    expect(error.message).toContain('in sync');
    expect(await readdir(cacheRoot)).toEqual([]);
  });

  it('refuses a packageManager it cannot run before installing anything', async () => {
    const bun = join(root, 'bun');
    await execFileAsync('mkdir', ['-p', bun]);
    await writeFile(join(bun, 'package.json'), JSON.stringify({ name: 'bun-probe', version: '1.0.0', packageManager: 'bun@1.1.30' }));
    await writeFile(join(bun, 'package-lock.json'), await readFile(join(repoDir, 'package-lock.json')));
    const error = (await installDependencies({ repoDir: bun, cacheRoot: join(root, 'cache-bun') }).catch((caught: unknown) => caught)) as TracemendError;
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toBe('package.json "packageManager" is "bun@1.1.30": supported are npm, pnpm or yarn, as name@x.y.z (for example pnpm@9.12.0 or yarn@4.5.0)');
  });

  it('runs no lifecycle script of the repository: its preinstall, install, postinstall and prepare leave no marker', async () => {
    const scripted = join(root, 'scripted');
    await execFileAsync('mkdir', ['-p', scripted]);
    // npm runs as the sandbox user: the marker folder must be writable for it, or a missing marker would prove nothing.
    const markers = await mkdtemp(join(tmpdir(), 'tracemend-script-markers-'));
    await chmod(markers, 0o777);
    const user = untrustedWorkUser();
    if (user !== undefined) {
      await execFileAsync('touch', [join(markers, 'probe')], { uid: user.uid, gid: user.gid });
      await rm(join(markers, 'probe'));
    }
    const scripts = Object.fromEntries(['preinstall', 'install', 'postinstall', 'prepare'].map((name) => [name, `touch ${join(markers, name)}`]));
    await writeFile(join(scripted, 'package.json'), JSON.stringify({ name: 'scripted-probe', version: '1.0.0', private: true, scripts }));
    // No dependencies, so the lockfile resolves and installs offline.
    await execFileAsync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: scripted });

    const installed = await installDependencies({ repoDir: scripted, cacheRoot: join(root, 'cache-scripted') });
    expect(installed.installed).toBe(true);
    expect(await readdir(markers)).toEqual([]);

    // The same project under a plain `npm ci` does run them: the fixture's scripts work.
    const control = join(root, 'scripted-control');
    await execFileAsync('mkdir', ['-p', control]);
    for (const name of ['package.json', 'package-lock.json']) await writeFile(join(control, name), await readFile(join(scripted, name)));
    await execFileAsync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: control });
    expect((await readdir(markers)).sort()).toEqual(['install', 'postinstall', 'preinstall', 'prepare']);
    await rm(markers, { recursive: true, force: true });
  });

  it('provides dependencies the sandbox can load but not modify', async () => {
    const { depsDir } = await installDependencies({ repoDir, cacheRoot: join(root, 'cache-serial') });
    const workDir = join(root, 'work');
    await execFileAsync('mkdir', ['-p', workDir]);
    await chown(workDir, 10001, 10001);
    await writeFile(
      join(workDir, 'probe.js'),
      `const fs = require('fs');
       let write; try { fs.writeFileSync('/work/node_modules/ms/index.js', ''); write = 'ok'; } catch (e) { write = e.code; }
       console.log(JSON.stringify({ twoHours: require('ms')('2h'), write }));`,
    );
    const driver = new DockerSandboxDriver({ logger: createLogger({ name: 'sandbox-test', level: 'silent' }) });
    const result = await driver.run({ image: sandboxImageTag(), workDir, depsDir, env: {}, ...DEFAULT_RUN_LIMITS, command: ['node', 'probe.js'] });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ twoHours: 7_200_000, write: 'EROFS' });
  });

  it('on cancel kills npm and what it started, and keeps no cache entry or staging folder', async () => {
    const tools = await toolRecorder();
    const state = join(tools.logDir, 'hang');
    // npm begins writing node_modules, then hangs with a child of its own.
    await tools.wrap('npm', `mkdir -p node_modules/half && echo partial > node_modules/half/index.js\nsleep 60 & echo "$$ $! $PWD" > ${state}.tmp; mv ${state}.tmp ${state}; wait`);
    const cacheRoot = join(root, 'cache-cancelled');
    const controller = new AbortController();
    const path = process.env.PATH;
    process.env.PATH = `${tools.binDir}:${path ?? ''}`;
    try {
      const install = installDependencies({ repoDir, cacheRoot, signal: controller.signal });
      install.catch(() => undefined);
      let text: string | undefined;
      for (const deadline = Date.now() + 30_000; text === undefined && Date.now() < deadline; ) {
        text = await readFile(state, 'utf8').catch(() => undefined);
        if (text === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const [shell = '', sleeper = '', cwd = ''] = (text ?? '').trim().split(' ');
      const pids = [Number(shell), Number(sleeper)];
      for (const pid of pids) expect(await processAlive(pid)).toBe(true);
      expect(await readFile(join(cwd, 'node_modules', 'half', 'index.js'), 'utf8')).toBe('partial\n');
      const abortedAt = Date.now();
      controller.abort(new Error('the incident was cancelled'));
      await expect(install).rejects.toThrow('the incident was cancelled');
      expect(Date.now() - abortedAt).toBeLessThan(2_000);
      for (const pid of pids) expect(await processAlive(pid)).toBe(false);
      expect(await readdir(cacheRoot)).toEqual([]);
      await expect(stat(cwd)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      process.env.PATH = path;
      await tools.remove();
    }
    // The next install of the same lockfile runs afresh and succeeds.
    const again = await installDependencies({ repoDir, cacheRoot });
    expect(again.installed).toBe(true);
    expect(await readdir(again.depsDir)).toContain('ms');
  });
});
