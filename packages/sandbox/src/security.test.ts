import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@tracemend/telemetry';
import { DockerSandboxDriver, reapOrphans } from './docker-driver';
import { DEFAULT_RUN_LIMITS, type RunSpec, type SandboxProcess, type StartSpec } from './driver';
import { buildBaseImage, sandboxImageTag } from './image/build-base-image';

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
    const { exit, elapsedMs, stderr } = await startAndWait(['sh', '-c', 'f() { f | f & }; f; while :; do :; done'], { pids: 64, timeoutMs: 4_000 });
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
