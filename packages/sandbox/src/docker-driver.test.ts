import { spawn } from 'node:child_process';
import { chmod, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TracemendError } from '@tracemend/contracts';
import { createLogger } from '@tracemend/telemetry';
import { cancellableDriver } from './cancellation';
import { DockerSandboxDriver, SANDBOX_LABEL, reapOrphans } from './docker-driver';
import { DEFAULT_RUN_LIMITS, type RunSpec } from './driver';
import { IMAGE_TIMEOUT_BIN, buildBaseImage, sandboxImageTag } from './image/build-base-image';

const docker = new Docker();
const driver = new DockerSandboxDriver({ docker, logger: createLogger({ name: 'sandbox-test', level: 'silent' }) });
const runId = `${process.pid}-${Date.now()}`;
let workDir: string;

function spec(command: string[], overrides: Partial<RunSpec> = {}): RunSpec {
  return { image: sandboxImageTag(), workDir, env: {}, ...DEFAULT_RUN_LIMITS, labels: { 'tracemend.incident': `test-${runId}` }, command, ...overrides };
}

function node(script: string, overrides: Partial<RunSpec> = {}): RunSpec {
  return spec(['node', '-e', script], overrides);
}

async function leftoverContainers(): Promise<number> {
  const list = await docker.listContainers({ all: true, filters: { label: [`tracemend.incident=test-${runId}`] } });
  return list.length;
}

beforeAll(async () => {
  await buildBaseImage({ docker });
  workDir = await mkdtemp(join(tmpdir(), 'tracemend-sandbox-work-'));
  await chown(workDir, 10001, 10001);
});

afterAll(async () => {
  await reapOrphans({ docker, olderThanMs: 0, labels: { 'tracemend.incident': `test-${runId}` } });
  await rm(workDir, { recursive: true, force: true });
});

describe('DockerSandboxDriver.run', () => {
  it('runs node as uid 10001 with the given env and separates stdout from stderr', async () => {
    const result = await driver.run(
      node('console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), cwd: process.cwd(), greeting: process.env.GREETING })); console.error("to stderr")', {
        env: { GREETING: 'hello sandbox' },
      }),
    );
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ uid: 10001, gid: 10001, cwd: '/work', greeting: 'hello sandbox' });
    expect(result.stderr).toBe('to stderr\n');
    expect(result.timedOut).toBe(false);
    expect(result.oomKilled).toBe(false);
    expect(await leftoverContainers()).toBe(0);
  });

  it('passes the exit code through and feeds stdin', async () => {
    const result = await driver.run(
      node('let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => { process.stdout.write(s.toUpperCase()); process.exit(3); })', {
        stdin: 'replay input\n',
      }),
    );
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toBe('REPLAY INPUT\n');
  });

  it('bounds captured output and flags the truncation', async () => {
    const result = await driver.run(node('process.stdout.write("x".repeat(5000)); process.stderr.write("e".repeat(10))', { outputLimitBytes: 1000 }));
    expect(result.stdout).toBe('x'.repeat(1000));
    expect(result.stdoutTruncated).toBe(true);
    expect(result.stderr).toBe('e'.repeat(10));
    expect(result.stderrTruncated).toBe(false);
  });

  it('has no network: only lo, a host loopback server is unreachable and names do not resolve', async () => {
    let hits = 0;
    const server: Server = createServer((_request, response) => {
      hits += 1;
      response.end('reached');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const script = `
        const os = require('os'); const dns = require('dns');
        const out = { interfaces: Object.keys(os.networkInterfaces()) };
        fetch('http://127.0.0.1:${port}/').then(() => { out.fetch = 'ok'; }, (e) => { out.fetch = e.cause?.code ?? e.message; })
          .then(() => new Promise((resolve) => dns.lookup('tracemend-sandbox-probe.invalid', (e) => { out.dns = e ? e.code : 'resolved'; resolve(); })))
          .then(() => console.log(JSON.stringify(out)));`;
      const result = await driver.run(node(script));
      expect(result.exitCode).toBe(0);
      const out = JSON.parse(result.stdout) as { interfaces: string[]; fetch: string; dns: string };
      expect(out.interfaces).toEqual(['lo']);
      expect(out.fetch).toBe('ECONNREFUSED');
      expect(out.dns).toBe('ENOTFOUND');
      expect(hits).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('keeps the root filesystem read-only while /tmp and /work are writable', async () => {
    const script = `
      const fs = require('fs');
      const attempt = (path) => { try { fs.writeFileSync(path, 'x'); return 'ok'; } catch (e) { return e.code; } };
      console.log(JSON.stringify({ etc: attempt('/etc/evil'), usr: attempt('/usr/local/bin/evil'), tmp: attempt('/tmp/scratch'), work: attempt('/work/result.txt') }));`;
    const result = await driver.run(node(script));
    expect(JSON.parse(result.stdout)).toEqual({ etc: 'EROFS', usr: 'EROFS', tmp: 'ok', work: 'ok' });
    expect(await readFile(join(workDir, 'result.txt'), 'utf8')).toBe('x');
  });

  it('drops every capability and sets no-new-privileges', async () => {
    const result = await driver.run(spec(['sh', '-c', 'while read k v; do case "$k" in CapEff:|CapBnd:|NoNewPrivs:) echo "$k $v";; esac; done < /proc/self/status']));
    expect(result.stdout).toContain('CapEff: 0000000000000000');
    expect(result.stdout).toContain('CapBnd: 0000000000000000');
    expect(result.stdout).toContain('NoNewPrivs: 1');
  });

  it('creates the container with the hardened host config and labels', async () => {
    const controller = new AbortController();
    const running = driver.run(node('setInterval(() => {}, 1000)', { labels: { 'tracemend.incident': `test-${runId}`, 'tracemend.case': 'inspect' } }), {
      signal: controller.signal,
    });
    let info: Docker.ContainerInspectInfo | undefined;
    for (let attempt = 0; attempt < 50 && !info; attempt += 1) {
      const [found] = await docker.listContainers({ filters: { label: ['tracemend.case=inspect', `tracemend.incident=test-${runId}`] } });
      if (found) info = await docker.getContainer(found.Id).inspect();
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    controller.abort();
    await expect(running).rejects.toThrow();
    expect(info).toBeDefined();
    const host = info!.HostConfig;
    expect(info!.Config.Labels[SANDBOX_LABEL]).toBe('1');
    expect(info!.Config.User).toBe('10001:10001');
    expect(host.NetworkMode).toBe('none');
    expect(host.ReadonlyRootfs).toBe(true);
    expect(host.CapDrop).toEqual(['ALL']);
    expect(host.SecurityOpt).toEqual(['no-new-privileges']);
    expect(host.Memory).toBe(DEFAULT_RUN_LIMITS.memoryBytes);
    expect(host.MemorySwap).toBe(DEFAULT_RUN_LIMITS.memoryBytes);
    expect(host.PidsLimit).toBe(DEFAULT_RUN_LIMITS.pids);
    expect(host.NanoCpus).toBe(DEFAULT_RUN_LIMITS.nanoCpus);
    expect(host.AutoRemove).toBe(false);
    expect(host.Ulimits).toEqual([
      { Name: 'nofile', Soft: 1024, Hard: 1024 },
      { Name: 'core', Soft: 0, Hard: 0 },
    ]);
    expect(info!.Mounts.map((mount) => mount.Destination)).toEqual(['/work']);
    expect(JSON.stringify(info!.Mounts)).not.toContain('docker.sock');
  });

  it('holds the process to 1024 open files and no core dumps', async () => {
    const result = await driver.run(spec(['sh', '-c', 'ulimit -n; ulimit -Hn; ulimit -c']));
    expect(result.stdout).toBe('1024\n1024\n0\n');
    // Opening more than the limit fails with EMFILE instead of exhausting the host's file table.
    const opened = await driver.run(
      node('const fs = require("fs"); let n = 0; try { for (;;) { fs.openSync("/dev/null", "r"); n++; } } catch (e) { console.log(JSON.stringify({ n, code: e.code })); }'),
    );
    const out = JSON.parse(opened.stdout) as { n: number; code: string };
    expect(out.code).toBe('EMFILE');
    expect(out.n).toBeLessThan(1024);
    expect(out.n).toBeGreaterThan(900);
  });

  it('kills an endless loop at the timeout and reports timedOut', async () => {
    const result = await driver.run(node('for (;;) {}', { timeoutMs: 1500 }));
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBe(137);
    expect(result.oomKilled).toBe(false);
    expect(result.durationMs).toBeGreaterThanOrEqual(1500);
    expect(result.durationMs).toBeLessThan(6000);
    expect(await leftoverContainers()).toBe(0);
  });

  it('stops a container by the timeout inside it when the driver that started it is gone', async () => {
    // A worker process starts a container with a 2 s limit and dies (SIGKILL) before its own timer fires.
    const script = fileURLToPath(new URL('../test/abandoned-start.ts', import.meta.url));
    const worker = spawn(process.execPath, ['--import', 'tsx', script, sandboxImageTag(), workDir, '2000', `test-${runId}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const containerId = await new Promise<string>((resolve, reject) => {
      let out = '';
      worker.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        if (out.includes('\n')) resolve(out.trim());
      });
      worker.once('exit', (code) => reject(new Error(`the starting process exited early with ${code}`)));
    });
    const killedAt = Date.now();
    worker.kill('SIGKILL');
    const container = docker.getContainer(containerId);
    expect((await container.inspect()).State.Running).toBe(true);
    // Nobody kills it from outside now: `timeout -s KILL 7` (2 s + the 5 s grace) in its command does.
    let state = (await container.inspect()).State;
    while (state.Running && Date.now() - killedAt < 20_000) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      state = (await container.inspect()).State;
    }
    expect(state.Running).toBe(false);
    expect(state.ExitCode).toBe(137);
    expect(state.OOMKilled).toBe(false);
    const ranMs = Date.parse(state.FinishedAt) - Date.parse(state.StartedAt);
    expect(ranMs).toBeGreaterThanOrEqual(6_500);
    expect(ranMs).toBeLessThan(10_000);
    expect((await container.inspect()).Config.Cmd.slice(0, 4)).toEqual([IMAGE_TIMEOUT_BIN, '-s', 'KILL', '7']);
    await container.remove({ force: true });
  });

  it('reports a memory hog as oomKilled with exit 137', async () => {
    const result = await driver.run(node('const hoard = []; for (;;) hoard.push(Buffer.alloc(1 << 20, 1));', { memoryBytes: 64 * 1024 * 1024 }));
    expect(result.oomKilled).toBe(true);
    expect(result.exitCode).toBe(137);
    expect(result.timedOut).toBe(false);
  });

  it('stops process spawning at the pid limit', async () => {
    const script = `
      const { spawn } = require('child_process');
      let spawned = 0; const codes = new Set(); const children = [];
      for (let i = 0; i < 100; i++) {
        const child = spawn('/bin/sh', ['-c', 'read line'], { stdio: ['pipe', 'ignore', 'ignore'] });
        child.on('error', (e) => codes.add(e.code));
        if (child.pid) { spawned++; children.push(child); }
      }
      setTimeout(() => { console.log(JSON.stringify({ spawned, codes: [...codes] })); for (const c of children) c.kill('SIGKILL'); process.exit(0); }, 500);`;
    const result = await driver.run(node(script, { pids: 32 }));
    const out = JSON.parse(result.stdout) as { spawned: number; codes: string[] };
    expect(out.spawned).toBeGreaterThan(0);
    expect(out.spawned).toBeLessThan(32);
    expect(out.codes).toEqual(['EAGAIN']);
  });

  it('contains a shell fork bomb and leaves the engine usable', async () => {
    const started = Date.now();
    const result = await driver.run(spec(['sh', '-c', '(f() { f | f & }; f); while :; do :; done'], { pids: 64, timeoutMs: 4000 }));
    expect(result.timedOut).toBe(true);
    expect(result.stderr).toContain('Cannot fork');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(await leftoverContainers()).toBe(0);
    const after = await driver.run(node('console.log("still fine")'));
    expect(after.stdout).toBe('still fine\n');
  });

  it('kills the container promptly when the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('operator cancelled')), 500);
    await expect(driver.run(node('setInterval(() => {}, 1000)'), { signal: controller.signal })).rejects.toThrow('operator cancelled');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await leftoverContainers()).toBe(0);
  });

  it('rejects an invalid spec before touching the engine', async () => {
    const error = await driver.run(spec([], { workDir: 'relative/path', pids: 0 })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TracemendError);
    expect((error as TracemendError).code).toBe('INVALID_INPUT');
    expect((error as TracemendError).message).toMatch(/command.*workDir.*pids/);
  });

  it('reports a missing image as SANDBOX_UNAVAILABLE', async () => {
    const error = await driver.run(node('1', { image: 'tracemend/sandbox-node:0.0.0-missing' })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TracemendError);
    expect((error as TracemendError).code).toBe('SANDBOX_UNAVAILABLE');
  });
});

describe('an image the operator names', () => {
  it('runs the hardened container from a copy of the base image under another name', async () => {
    // What TRACEMEND_SANDBOX_IMAGE names may be any image with sh, timeout and node at their paths, usable by uid 10001.
    const repo = `tracemend-test/operator-sandbox-${runId}`;
    await docker.getImage(sandboxImageTag()).tag({ repo, tag: 'custom' });
    const image = `${repo}:custom`;
    try {
      const result = await driver.run(
        spec(['sh', '-c', 'node -e "console.log(JSON.stringify({ node: process.version, uid: process.getuid(), cwd: process.cwd() }))"; ulimit -n'], { image }),
      );
      expect(result.stderr).toBe('');
      const [line = '', nofile] = result.stdout.trim().split('\n');
      expect(JSON.parse(line)).toEqual({ node: process.version, uid: 10001, cwd: '/work' });
      expect(nofile).toBe('1024');
      // The same backstop and limits apply: the in-container timeout wraps the command and the loop is killed.
      const loop = await driver.run(node('for (;;) {}', { image, timeoutMs: 1_000 }));
      expect(loop.timedOut).toBe(true);
      expect(await leftoverContainers()).toBe(0);
    } finally {
      await docker.getImage(image).remove();
    }
  });
});

describe('reapOrphans', () => {
  it('removes a labelled leftover container and leaves younger ones alone', async () => {
    const incident = `reap-${runId}`;
    const leftover = await docker.createContainer({
      Image: sandboxImageTag(),
      Cmd: ['node', '-e', 'setInterval(() => {}, 1000)'],
      Labels: { [SANDBOX_LABEL]: '1', 'tracemend.incident': incident },
      HostConfig: { NetworkMode: 'none', ReadonlyRootfs: true, CapDrop: ['ALL'] },
    });
    await leftover.start();
    expect(await reapOrphans({ docker, olderThanMs: 60 * 60 * 1000, labels: { 'tracemend.incident': incident } })).toEqual([]);
    expect((await leftover.inspect()).State.Running).toBe(true);

    const removed = await driver.reapOrphans({ olderThanMs: 0, labels: { 'tracemend.incident': incident } });
    expect(removed).toEqual([leftover.id]);
    const gone = await leftover.inspect().catch((error: { statusCode?: number }) => error.statusCode);
    expect(gone).toBe(404);
  });
});

describe('writes from the sandbox', () => {
  it('land in the host work directory owned by the sandbox user', async () => {
    await writeFile(join(workDir, 'input.json'), '{"n":21}');
    const result = await driver.run(node('const fs = require("fs"); const { n } = JSON.parse(fs.readFileSync("input.json", "utf8")); fs.writeFileSync("output.json", JSON.stringify({ doubled: n * 2 }));'));
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(await readFile(join(workDir, 'output.json'), 'utf8'))).toEqual({ doubled: 42 });
  });
});

describe('DockerSandboxDriver.start', () => {
  it('streams stdin and stdout with a process that stays up, mounts read-only extras and removes the container on kill', async () => {
    const extra = await mkdtemp(join(tmpdir(), 'tracemend-sandbox-extra-'));
    await writeFile(join(extra, 'greeting.txt'), 'hello from the host');
    // Readable, not writable, by the sandbox user.
    await chmod(extra, 0o755);
    try {
      const child = await driver.start({
        image: sandboxImageTag(),
        workDir,
        env: {},
        ...DEFAULT_RUN_LIMITS,
        labels: { 'tracemend.incident': `test-${runId}` },
        readOnlyMounts: [{ source: extra, target: '/extra' }],
        command: [
          'node',
          '-e',
          `const fs = require('fs'); const rl = require('readline').createInterface({ input: process.stdin });
           rl.on('line', (line) => { let write; try { fs.writeFileSync('/extra/x', ''); write = 'ok'; } catch (e) { write = e.code; }
             console.log(JSON.stringify({ echo: line.toUpperCase(), greeting: fs.readFileSync('/extra/greeting.txt', 'utf8'), write })); });`,
        ],
      });
      child.stdout.setEncoding('utf8');
      const lines: string[] = [];
      const nextLine = (): Promise<string> =>
        new Promise((resolve, reject) => {
          const buffered = lines.shift();
          if (buffered !== undefined) {
            resolve(buffered);
            return;
          }
          child.stdout.once('end', () => reject(new Error('stdout ended')));
          const onData = (chunk: string): void => {
            lines.push(...chunk.split('\n').filter(Boolean));
            const line = lines.shift();
            if (line !== undefined) {
              child.stdout.off('data', onData);
              resolve(line);
            }
          };
          child.stdout.on('data', onData);
        });
      child.stdin.write('first\n');
      expect(JSON.parse(await nextLine())).toEqual({ echo: 'FIRST', greeting: 'hello from the host', write: 'EROFS' });
      child.stdin.write('second\n');
      expect(JSON.parse(await nextLine())).toMatchObject({ echo: 'SECOND' });
      await child.kill();
      expect((await child.exited).exitCode).toBe(137);
      expect(await leftoverContainers()).toBe(0);
    } finally {
      await rm(extra, { recursive: true, force: true });
    }
  });

  it('kills and removes a started container when its signal aborts, and through cancellableDriver when the current signal does', async () => {
    const startSpec = { image: sandboxImageTag(), workDir, env: {}, ...DEFAULT_RUN_LIMITS, labels: { 'tracemend.incident': `test-${runId}` }, command: ['node', '-e', 'setInterval(() => {}, 1000)'] };
    const controller = new AbortController();
    const child = await driver.start(startSpec, { signal: controller.signal });
    const abortedAt = Date.now();
    controller.abort(new Error('operator cancelled'));
    expect((await child.exited).exitCode).toBe(137);
    await child.kill();
    expect(await leftoverContainers()).toBe(0);
    expect(Date.now() - abortedAt).toBeLessThan(2_000);

    // The worker's wrapper: the signal is whatever is current when the container starts.
    let current: AbortController | undefined;
    const wrapped = cancellableDriver(driver, () => current?.signal);
    current = new AbortController();
    const resident = await wrapped.start(startSpec);
    current.abort(new Error('activity cancelled'));
    expect((await resident.exited).exitCode).toBe(137);
    await resident.kill();
    current = new AbortController();
    const late = current;
    setTimeout(() => late.abort(new Error('second cancel')), 300);
    await expect(wrapped.run(startSpec)).rejects.toThrow('second cancel');
    expect(await leftoverContainers()).toBe(0);
  });

  it('rejects an extra mount over /work', async () => {
    const error = await driver
      .start({ image: sandboxImageTag(), workDir, env: {}, ...DEFAULT_RUN_LIMITS, readOnlyMounts: [{ source: workDir, target: '/work/lib' }], command: ['node'] })
      .catch((caught: unknown) => caught);
    expect((error as TracemendError).code).toBe('INVALID_INPUT');
    expect((error as TracemendError).message).toContain('mount target /work/lib is reserved');
  });
});
