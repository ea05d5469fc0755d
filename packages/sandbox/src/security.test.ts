import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, chown, lstat, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, type FailureEnvelope } from '@tracemend/contracts';
import { createLogger } from '@tracemend/telemetry';
import { toolRecorder, type ToolCall } from '../test/host-tools';
import { fixtureEnvelope, handToSandboxUser } from '../test/fixtures';
import { refusal } from '../test/refusal';
import { harnessStarter, startHarnessFrom } from './activities';
import { prepareCheckout } from './checkout';
import { installDependencies } from './dependencies';
import { DockerSandboxDriver, reapOrphans } from './docker-driver';
import { DEFAULT_RUN_LIMITS, type RunSpec, type SandboxDriver, type SandboxProcess, type StartSpec } from './driver';
import { buildBaseImage, sandboxImageTag } from './image/build-base-image';
import { RESULT_MARKER, ResidentHarness, type ReplayJob } from './replay';
import { reproduce } from './reproduce';
import { WarmPool } from './warm-pool';

// What target-repository code cannot reach from inside the sandbox. The limit cases (fork bomb, memory
// hog, endless loop) for `run` are in docker-driver.test.ts; here they are shown for resident processes.

const docker = new Docker();
const driver = new DockerSandboxDriver({ docker, logger: createLogger({ name: 'sandbox-security-test', level: 'silent' }) });
const incident = `security-${process.pid}-${Date.now()}`;
const labels = { 'tracemend.incident': incident };
const SECRET_ENV = 'TRACEMEND_SECURITY_TEST_SECRET';
const SECRET_VALUE = 'worker-side-secret-value';
let root: string;
let workDir: string;
let depsDir: string;
let extraDir: string;
let otherIncidentFile: string;

function spec(command: string[], overrides: Partial<RunSpec> = {}): RunSpec {
  return { image: sandboxImageTag(), workDir, env: {}, ...DEFAULT_RUN_LIMITS, timeoutMs: 30_000, labels, command, ...overrides };
}

/** Runs a node script and parses the one JSON line it prints. */
async function probe<T>(script: string, overrides: Partial<RunSpec> = {}): Promise<T> {
  const result = await driver.run(spec(['node', '-e', script], overrides));
  expect(result.stderr).toBe('');
  expect(result.exitCode).toBe(0);
  return JSON.parse(result.stdout) as T;
}

async function leftoverContainers(): Promise<number> {
  return (await docker.listContainers({ all: true, filters: { label: [`tracemend.incident=${incident}`] } })).length;
}

/** Starts a resident process, closes its stdin and waits for the container to stop on its own. */
async function startAndWait(command: string[], overrides: Partial<StartSpec>): Promise<{ exit: Awaited<SandboxProcess['exited']>; elapsedMs: number; stderr: string }> {
  const started = Date.now();
  const child = await driver.start({ image: sandboxImageTag(), workDir, env: {}, ...DEFAULT_RUN_LIMITS, labels, command, ...overrides });
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 64 * 1024) stderr += chunk.toString('utf8');
  });
  try {
    const exit = await child.exited;
    return { exit, elapsedMs: Date.now() - started, stderr };
  } finally {
    await child.kill();
  }
}

beforeAll(async () => {
  await buildBaseImage({ docker });
  root = await mkdtemp(join(tmpdir(), 'tracemend-sandbox-security-'));
  workDir = join(root, 'incident-a');
  depsDir = join(root, 'deps', 'node_modules');
  extraDir = join(root, 'extra');
  const otherIncident = join(root, 'incident-b');
  otherIncidentFile = join(otherIncident, 'payload.json');
  await Promise.all([mkdir(workDir), mkdir(depsDir, { recursive: true }), mkdir(extraDir), mkdir(otherIncident)]);
  await writeFile(join(depsDir, 'dep.js'), 'module.exports = 1;\n');
  await writeFile(join(extraDir, 'tool.js'), 'module.exports = 2;\n');
  await writeFile(otherIncidentFile, '{"card":"4111111111111111"}');
  await chown(workDir, 10001, 10001);
  // The sandbox user could read this file if it were mounted: only the missing mount keeps it out.
  await chmod(root, 0o755);
  await chmod(otherIncident, 0o755);
  await chmod(otherIncidentFile, 0o644);
  process.env[SECRET_ENV] = SECRET_VALUE;
});

afterAll(async () => {
  delete process.env[SECRET_ENV];
  await reapOrphans({ docker, olderThanMs: 0, labels });
  await rm(root, { recursive: true, force: true });
});

describe('the sandbox hides the host', () => {
  it('cannot read files of another incident or of the host by their host paths', async () => {
    expect(JSON.parse(await readFile(otherIncidentFile, 'utf8'))).toEqual({ card: '4111111111111111' });
    // The host path of a sibling folder, the shared parent, and the same file reached from /work by `..`.
    const paths = [otherIncidentFile, root, '../incident-b/payload.json'];
    const out = await probe<{ reads: Record<string, string>; processes: number }>(`
      const fs = require('fs');
      const reads = {};
      for (const path of ${JSON.stringify(paths)}) { try { fs.readFileSync(path); reads[path] = 'read'; } catch (e) { reads[path] = e.code; } }
      const processes = fs.readdirSync('/proc').filter((name) => /^[0-9]+$/.test(name)).length;
      console.log(JSON.stringify({ reads, processes }));`);
    expect(out.reads).toEqual(Object.fromEntries(paths.map((path) => [path, 'ENOENT'])));
    // Its own PID namespace: init, the timeout wrapper and node, none of the host's processes.
    expect(out.processes).toBeLessThanOrEqual(4);
  });

  it('sees its own hostname and its own empty /tmp, not those of the host', async () => {
    await writeFile(join(tmpdir(), `tracemend-security-marker-${process.pid}`), 'host temp file');
    try {
      const out = await probe<{ etcHostname: string; osHostname: string; tmp: string[] }>(`
        const fs = require('fs'); const os = require('os');
        console.log(JSON.stringify({ etcHostname: fs.readFileSync('/etc/hostname', 'utf8').trim(), osHostname: os.hostname(), tmp: fs.readdirSync('/tmp') }));`);
      expect(out.etcHostname).toBe('sandbox');
      expect(out.osHostname).toBe('sandbox');
      const hostEtcHostname = await readFile('/etc/hostname', 'utf8').then((text) => text.trim(), () => hostname());
      expect(out.etcHostname).not.toBe(hostEtcHostname);
      expect(out.tmp).toEqual([]);
    } finally {
      await rm(join(tmpdir(), `tracemend-security-marker-${process.pid}`), { force: true });
    }
  });

  it('has no Docker socket, no container-engine variables and no variable of the worker', async () => {
    const out = await probe<{ sockets: Record<string, boolean>; env: Record<string, string>; pid1Env: string }>(`
      const fs = require('fs');
      const sockets = {};
      for (const path of ['/var/run/docker.sock', '/run/docker.sock', '/run/containerd/containerd.sock', '/var/run/containerd/containerd.sock']) sockets[path] = fs.existsSync(path);
      let pid1Env; try { pid1Env = fs.readFileSync('/proc/1/environ', 'utf8'); } catch (e) { pid1Env = e.code; }
      console.log(JSON.stringify({ sockets, env: process.env, pid1Env }));`);
    expect(Object.values(out.sockets)).toEqual([false, false, false, false]);
    expect(Object.keys(out.env).sort()).toEqual(['HOME', 'HOSTNAME', 'NODE_ENV', 'PATH']);
    expect(JSON.stringify(out)).not.toContain(SECRET_VALUE);
    expect(JSON.stringify(out)).not.toContain('DOCKER_HOST');
    // PID 1 is the engine's init, owned by the same uid: its environment holds only the image's variables.
    expect(out.pid1Env).not.toContain(SECRET_ENV);
  });
});

describe('a run spec cannot weaken the container', () => {
  it('runs as uid 10001 even when a spec smuggles in a user field', async () => {
    // RunSpec has no user field; a caller that forces one in by a cast is ignored, never root.
    const smuggled = { ...spec(['node', '-e', 'console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid() }))']), user: '0:0' } as RunSpec;
    const result = await driver.run(smuggled);
    expect(JSON.parse(result.stdout)).toEqual({ uid: 10001, gid: 10001 });
  });

  const refusedSources: [string, () => string][] = [
    ['the host root', () => '/'],
    ['/proc', () => '/proc'],
    ['/sys', () => '/sys'],
    ['/dev', () => '/dev'],
    ['/run', () => '/run'],
    ['/var/run', () => '/var/run'],
    ['/etc', () => '/etc'],
    ['a folder under /etc', () => '/etc/ssl'],
    ['the Docker socket', () => '/var/run/docker.sock'],
  ];
  for (const [name, source] of refusedSources) {
    it(`refuses ${name} as a read-only mount source, naming the path`, async () => {
      const path = source();
      const error = await refusal(driver.run(spec(['true'], { readOnlyMounts: [{ source: path, target: '/opt/extra' }] })));
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).toContain(`may not mount ${path}`);
      expect(await leftoverContainers()).toBe(0);
    });
  }

  it('refuses a socket file anywhere, and a link that leads to a forbidden folder', async () => {
    const socketPath = join(root, 'engine.sock');
    const server = createNetServer();
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const error = await refusal(driver.start({ ...spec(['node']), readOnlyMounts: [{ source: socketPath, target: '/opt/engine.sock' }] }));
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).toContain(`may not mount ${socketPath}: it is a socket`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    const link = join(root, 'innocent-looking');
    await symlink('/etc', link);
    const linked = await refusal(driver.run(spec(['true'], { readOnlyMounts: [{ source: link, target: '/opt/extra' }] })));
    expect(linked.message).toContain(`may not mount ${link} (/etc): it is under /etc`);
    // The work and dependency folders are held to the same rule.
    expect((await refusal(driver.run(spec(['true'], { workDir: '/' })))).message).toContain('workDir may not mount /: it is the host root');
    expect((await refusal(driver.run(spec(['true'], { depsDir: '/proc' })))).message).toContain('depsDir may not mount /proc');
    expect(await leftoverContainers()).toBe(0);
  });
});

describe('the sandbox writes only to /work and /tmp', () => {
  it('refuses writes everywhere else, including the read-only dependency and tool mounts and /dev/shm', async () => {
    const targets = ['/x', '/etc/x', '/usr/local/bin/x', '/bin/x', '/root/x', '/dev/x', '/dev/shm/x', '/work/node_modules/x', '/work/node_modules/dep.js', '/opt/tool/x', '/proc/sysrq-trigger', '/sys/fs/cgroup/x'];
    const out = await probe<Record<string, string>>(
      `
      const fs = require('fs');
      const attempt = (path) => { try { fs.writeFileSync(path, 'x'); return 'ok'; } catch (e) { return e.code; } };
      const out = {};
      for (const path of ${JSON.stringify([...targets, '/work/allowed.txt', '/tmp/allowed.txt'])}) out[path] = attempt(path);
      console.log(JSON.stringify(out));`,
      { depsDir, readOnlyMounts: [{ source: extraDir, target: '/opt/tool' }] },
    );
    for (const target of targets) expect(out[target], target).toMatch(/^(EROFS|EACCES|ENOENT)$/);
    expect(out['/work/node_modules/dep.js']).toBe('EROFS');
    expect(out['/opt/tool/x']).toBe('EROFS');
    expect(out['/work/allowed.txt']).toBe('ok');
    expect(out['/tmp/allowed.txt']).toBe('ok');
    expect(await readFile(join(depsDir, 'dep.js'), 'utf8')).toBe('module.exports = 1;\n');
    expect(await readFile(join(workDir, 'allowed.txt'), 'utf8')).toBe('x');
  });

  it('bounds /tmp by its tmpfs size', async () => {
    const out = await probe<{ written: number; code: string }>(
      `
      const fs = require('fs'); let written = 0; let code = 'none';
      try { for (;;) { fs.appendFileSync('/tmp/fill', Buffer.alloc(1 << 20)); written += 1; } } catch (e) { code = e.code; }
      console.log(JSON.stringify({ written, code }));`,
      { tmpfsBytes: 8 * 1024 * 1024 },
    );
    expect(out.code).toBe('ENOSPC');
    expect(out.written).toBeLessThanOrEqual(8);
  });
});

describe('resident processes are held to the same limits', () => {
  it('a fork bomb hits the PID limit inside a resident container and the container is killed at its lifetime', async () => {
    // The bomb runs in a subshell so the container's main process never needs a fork after it starts:
    // on a busy machine the bomb can fill the PID limit before the main shell forks again, and dash
    // exits on a failed fork, which would end the container before its lifetime for the wrong reason.
    const { exit, elapsedMs, stderr } = await startAndWait(['sh', '-c', '(f() { f | f & }; f); while :; do :; done'], { pids: 64, timeoutMs: 4_000 });
    expect(stderr).toContain('Cannot fork');
    expect(exit.timedOut).toBe(true);
    expect(exit.exitCode).toBe(137);
    expect(elapsedMs).toBeLessThan(20_000);
    expect(await leftoverContainers()).toBe(0);
  });

  it('a memory hog in a resident container is reported as oomKilled', async () => {
    const { exit } = await startAndWait(['node', '-e', 'const hoard = []; for (;;) hoard.push(Buffer.alloc(1 << 20, 1));'], { memoryBytes: 64 * 1024 * 1024, timeoutMs: 30_000 });
    expect(exit.oomKilled).toBe(true);
    expect(exit.exitCode).toBe(137);
    expect(exit.timedOut).toBe(false);
  });

  describe('a memory hog during a replay ends the reproduction as a resource limit', () => {
    let hogDir: string;
    const hogEnvelope = async (exportName: string): Promise<FailureEnvelope> => {
      const base = await fixtureEnvelope('checkout-worker');
      const message = 'the hog finished';
      return {
        ...base,
        entry: { kind: 'function', module: 'src/hog.ts', export: exportName, args: [] },
        symptom: { errorType: 'Error', message, messageHash: createHash('sha256').update(message).digest('hex'), frames: [{ file: 'src/hog.ts', line: 1, column: 1, function: exportName, inApp: true }] },
        downstream: [],
      };
    };

    beforeAll(async () => {
      hogDir = join(root, 'hog');
      await mkdir(join(hogDir, 'src'), { recursive: true });
      await writeFile(
        join(hogDir, 'src', 'hog.ts'),
        [
          '// Memory outside the JavaScript heap: only the container limit stops it.',
          'export function buffers(): never { const hoard: Buffer[] = []; for (;;) hoard.push(Buffer.alloc(1 << 20, 1)); }',
          '// Objects on the JavaScript heap.',
          'export function objects(): never { const hoard: object[] = []; for (;;) hoard.push({ at: hoard.length, tags: ["a", "b", "c"] }); }',
          '',
        ].join('\n'),
      );
      await handToSandboxUser(hogDir);
    });

    it.each([
      ['Buffers outside the JavaScript heap', 'buffers', 128 * 1024 * 1024],
      // V8 alone would stop at its heap limit (exit 134), but the harness's inspector session makes V8 raise
      // that limit near it, so the container's memory limit ends the harness here too.
      ['objects on the JavaScript heap', 'objects', DEFAULT_RUN_LIMITS.memoryBytes],
    ] as const)('%s: an OOM kill (exit 137) reported as SANDBOX_RESOURCE_LIMIT', async (_name, exportName, memoryBytes) => {
      const error = await refusal(
        reproduce({
          driver,
          image: sandboxImageTag(),
          repoDir: hogDir,
          envelope: await hogEnvelope(exportName),
          labels,
          jobTimeoutMs: 60_000,
          startHarness: (options) => ResidentHarness.start({ ...options, limits: { memoryBytes } }),
        }),
      );
      expect(error.code).toBe('SANDBOX_RESOURCE_LIMIT');
      expect(error.message).toContain("the container's memory limit killed it (exit 137)");
      expect(error.details).toMatchObject({ exitCode: 137 });
      // Not retryable: the workflow's reproduce stage ends such an incident not-reproducible (policy.ts STAGE_FAILURE_OUTCOME).
      expect(ERROR_CODES.SANDBOX_RESOURCE_LIMIT.retryable).toBe(false);
      expect(await leftoverContainers()).toBe(0);
    });
  });

  it("a harness process V8 stops at its heap limit (exit 134) is reported as SANDBOX_RESOURCE_LIMIT, not INTERNAL", async () => {
    // A process without the harness's inspector session dies at V8's own heap limit: it reports ready like
    // the harness, then fills its heap on the first job. The driver is the real one; only the program differs.
    const heapHog = `process.stdout.write(${JSON.stringify(`${RESULT_MARKER}{"ready":true,"node":"${process.version}"}\n`)});
      process.stdin.once('data', () => { const hoard = []; for (;;) hoard.push({ at: hoard.length, tags: ['a', 'b', 'c'] }); });`;
    const heapHogDriver: SandboxDriver = { start: (startSpec, options) => driver.start({ ...startSpec, command: ['node', '-e', heapHog] }, options), run: (runSpec, options) => driver.run(runSpec, options), reapOrphans: (options) => driver.reapOrphans(options) };
    const harness = await ResidentHarness.start({ driver: heapHogDriver, image: sandboxImageTag(), repoDir: workDir, labels, jobTimeoutMs: 60_000 });
    try {
      const error = await refusal(harness.judge({ id: 'heap', entry: { kind: 'function', module: 'src/x.ts', export: 'x', args: [] }, environment: { featureFlags: {}, env: {} }, timing: { recordedAt: '2026-11-20T10:42:17.503Z' }, downstream: [] }));
      expect(error.code).toBe('SANDBOX_RESOURCE_LIMIT');
      expect(error.message).toContain('V8 stopped it at its heap limit (exit 134)');
    } finally {
      await harness.close();
    }
    expect(await leftoverContainers()).toBe(0);
  });

  it('an endless loop in a resident container is killed at its lifetime', async () => {
    const { exit, elapsedMs } = await startAndWait(['node', '-e', 'for (;;) {}'], { timeoutMs: 1_500 });
    expect(exit.timedOut).toBe(true);
    expect(exit.exitCode).toBe(137);
    expect(exit.oomKilled).toBe(false);
    expect(elapsedMs).toBeGreaterThanOrEqual(1_500);
    expect(elapsedMs).toBeLessThan(8_000);
    expect(await leftoverContainers()).toBe(0);
  });

  it('the engine still runs sandboxes after the limit cases', async () => {
    expect(await probe<{ ok: boolean }>('console.log(JSON.stringify({ ok: true }))')).toEqual({ ok: true });
  });
});

// A replay that tries to change the shared checkout: sources, a new file and directory, git's config.
const TAMPER_SOURCE = `
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';

export function tamper(): Record<string, string> {
  const attempts: Record<string, () => void> = {
    newFile: () => writeFileSync('/work/src/planted.ts', 'export const planted = 1;\\n'),
    changeSource: () => appendFileSync('/work/src/tamper.ts', '// changed by a replay\\n'),
    gitConfig: () => appendFileSync('/work/.git/config', '[core]\\n\\tfsmonitor = /tmp/run-me\\n'),
    newDirectory: () => mkdirSync('/work/planted'),
    scratch: () => writeFileSync('/tmp/scratch', 'scratch space stays writable'),
  };
  const outcome: Record<string, string> = {};
  for (const [name, attempt] of Object.entries(attempts)) {
    try {
      attempt();
      outcome[name] = 'written';
    } catch (error) {
      outcome[name] = (error as { code?: string }).code ?? String(error);
    }
  }
  return outcome;
}
`;

const TAMPER_JOB: ReplayJob = {
  id: 'tamper',
  entry: { kind: 'function', module: 'src/tamper.ts', export: 'tamper', args: [] },
  environment: { featureFlags: {}, env: {} },
  timing: { recordedAt: '2026-11-20T10:42:17.503Z' },
  downstream: [],
};

/** Every file and directory below `dir` with its mode, size and content hash; the dependency mount point is left out. */
async function treeDigest(dir: string): Promise<string[]> {
  const entries: string[] = [];
  for (const path of (await readdir(dir, { recursive: true })).sort()) {
    if (path === 'node_modules') continue;
    const info = await lstat(join(dir, path));
    const hash = info.isFile() ? createHash('sha256').update(await readFile(join(dir, path))).digest('hex') : '';
    entries.push(`${path} ${info.mode.toString(8)} ${info.size} ${hash}`);
  }
  return entries;
}

describe('the shared checkout is read-only for the stages that share it', () => {
  let checkout: string;
  let emptyDeps: string;

  beforeAll(async () => {
    checkout = join(root, 'shared-checkout');
    emptyDeps = join(root, 'shared-deps', 'node_modules');
    await mkdir(join(checkout, 'src'), { recursive: true });
    await mkdir(emptyDeps, { recursive: true });
    await writeFile(join(checkout, 'package.json'), JSON.stringify({ name: 'shared', version: '1.0.0', type: 'module', private: true }));
    await writeFile(join(checkout, 'src', 'tamper.ts'), TAMPER_SOURCE);
    await promisify(execFile)('git', ['init', '--quiet', checkout]);
    // Owned by the sandbox user, as the workspace leaves it: only the mount keeps the replay from writing.
    await promisify(execFile)('chown', ['-R', '10001:10001', checkout]);
  });

  it('a run with workReadOnly cannot write into /work, one without it can', async () => {
    const script = `const fs = require('fs'); let code = 'written'; try { fs.writeFileSync('/work/run.txt', 'x'); } catch (e) { code = e.code; } console.log(JSON.stringify({ code }));`;
    expect(await probe<{ code: string }>(script, { workDir: checkout, workReadOnly: true })).toEqual({ code: 'EROFS' });
    await expect(lstat(join(checkout, 'run.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
    // The control: the same run over a writable mount writes, so the flag is what stops it.
    const control = join(root, 'writable-work');
    await mkdir(control);
    await chown(control, 10001, 10001);
    expect(await probe<{ code: string }>(script, { workDir: control })).toEqual({ code: 'written' });
  });

  const starts: [string, () => Promise<ResidentHarness>][] = [
    ['a harness the reproduce stage starts', () => startHarnessFrom(undefined, { driver, image: sandboxImageTag(), repoDir: checkout, depsDir: emptyDeps, labels })],
    [
      'a harness the minimize and localize stages start',
      () => harnessStarter({ driver, image: sandboxImageTag(), logger: createLogger({ name: 'security-test', level: 'silent' }) })({ repoDir: checkout, depsDir: emptyDeps }, incident),
    ],
  ];
  for (const [name, start] of starts) {
    it(`${name} cannot change the checkout, and the host copy is unchanged`, async () => {
      const before = await treeDigest(checkout);
      const harness = await start();
      try {
        const result = await harness.judge(TAMPER_JOB);
        expect(result.outcome, JSON.stringify(result)).toBe('returned');
        expect(result.outcome === 'returned' ? result.value : undefined).toEqual({
          newFile: 'EROFS',
          changeSource: 'EROFS',
          gitConfig: 'EROFS',
          newDirectory: 'EROFS',
          scratch: 'written',
        });
      } finally {
        await harness.close();
      }
      expect(await treeDigest(checkout)).toEqual(before);
      expect(await readFile(join(checkout, 'src', 'tamper.ts'), 'utf8')).toBe(TAMPER_SOURCE);
    });
  }

  it('a warm-pool harness for the checkout cannot change it either', async () => {
    const before = await treeDigest(checkout);
    const pool = new WarmPool({ driver, image: sandboxImageTag(), logger: createLogger({ name: 'security-test', level: 'silent' }) });
    const target = { repoDir: checkout, depsDir: emptyDeps };
    try {
      pool.warm(target);
      const deadline = Date.now() + 60_000;
      while (pool.readyCount(target) === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      const harness = pool.take(target);
      expect(harness).toBeDefined();
      if (harness === undefined) return;
      try {
        const result = await harness.judge(TAMPER_JOB);
        expect(result.outcome === 'returned' ? result.value : result).toMatchObject({ newFile: 'EROFS', changeSource: 'EROFS', gitConfig: 'EROFS', scratch: 'written' });
      } finally {
        await harness.close();
      }
    } finally {
      await pool.drain();
    }
    expect(await treeDigest(checkout)).toEqual(before);
  });
});

describe.skipIf(process.getuid?.() !== 0)('host-side git and npm run as the sandbox user, without the worker\'s variables', () => {
  const FAKE_TOKEN = 'ghp_fakeWorkerToken0123456789abcdefABCDEF';
  /** What a host tool may see: what it needs, plus what the recording shell itself sets. */
  const ALLOWED = new Set(['PATH', 'HOME', 'LANG', 'GIT_TERMINAL_PROMPT', 'npm_config_cache', 'npm_config_update_notifier', 'PWD', 'OLDPWD', 'SHLVL', '_']);
  /** Passed to npm when the worker has them: where the registry is, how to reach it, which authorities to trust. */
  for (const name of ['npm_config_registry', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy', 'NODE_EXTRA_CA_CERTS']) ALLOWED.add(name);

  function expectClean(call: ToolCall): void {
    expect(JSON.stringify(call.env)).not.toContain(FAKE_TOKEN);
    expect(Object.keys(call.env).filter((name) => !ALLOWED.has(name) && !name.startsWith('GIT_'))).toEqual([]);
  }

  it('checks out and installs as uid 10001; a GITHUB_TOKEN of the worker reaches neither git nor npm', async () => {
    const tools = await toolRecorder();
    await tools.wrap('git');
    await tools.wrap('npm');
    const origin = join(root, 'host-origin');
    await mkdir(origin);
    await writeFile(join(origin, 'package.json'), JSON.stringify({ name: 'host-probe', version: '1.0.0', private: true }));
    await writeFile(join(origin, 'package-lock.json'), JSON.stringify({ name: 'host-probe', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'host-probe', version: '1.0.0' } } }));
    const git = promisify(execFile);
    await git('git', ['init', '--quiet', '-b', 'main', origin]);
    await git('git', ['-C', origin, 'add', '.']);
    await git('git', ['-C', origin, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', 'one']);
    const sha = (await git('git', ['-C', origin, 'rev-parse', 'HEAD'])).stdout.trim();

    const path = process.env.PATH;
    process.env.PATH = `${tools.binDir}:${path ?? ''}`;
    process.env.GITHUB_TOKEN = FAKE_TOKEN;
    try {
      const checkout = await prepareCheckout({ cloneUrl: origin, sha, root: join(root, 'host-checkouts'), name: 'host-probe' });
      const deps = await installDependencies({ repoDir: checkout, cacheRoot: join(root, 'host-deps') });
      expect(deps.installed).toBe(true);

      const gitCalls = await tools.calls('git');
      // The worker mirrors its own local source (bare, no working tree); every step that fetches into or
      // writes the checkout runs as the sandbox user.
      const untrusted = gitCalls.filter((call) => !call.args.includes('--bare'));
      expect(untrusted.map((call) => call.args.split(' ').find((word) => ['clone', 'checkout', 'remote', 'log'].includes(word)))).toEqual(['clone', 'checkout', 'remote', 'log']);
      for (const call of untrusted) expect([call.uid, call.gid]).toEqual([10001, 10001]);
      for (const call of gitCalls) expectClean(call);

      const npmCalls = await tools.calls('npm');
      expect(npmCalls).toHaveLength(1);
      expect(npmCalls[0]?.args).toContain('ci --ignore-scripts');
      expect([npmCalls[0]?.uid, npmCalls[0]?.gid]).toEqual([10001, 10001]);
      for (const call of npmCalls) expectClean(call);

      // Later stages still find what they need: the checkout readable by the sandbox user, its files its own.
      expect((await lstat(join(checkout, 'package.json'))).uid).toBe(10001);
      expect((await lstat(join(checkout, '.git', 'HEAD'))).uid).toBe(10001);
      expect((await lstat(deps.depsDir)).isDirectory()).toBe(true);
    } finally {
      process.env.PATH = path;
      delete process.env.GITHUB_TOKEN;
      await tools.remove();
    }
  });
});
