import { chmod, chown, link, lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseContract, Reproduction } from '@tracemend/contracts';
import { fixtureEnvelope, prepareFixture, testDriver, testLogger, type PreparedRepo } from '../test/fixtures';
import { refusal } from '../test/refusal';
import { DockerSandboxDriver, reapOrphans } from './docker-driver';
import { DEFAULT_RUN_LIMITS, type RunSpec } from './driver';
import { connectDocker } from './engine';
import { buildBaseImage, sandboxImageTag } from './image/build-base-image';
import { prepareJsTree } from './prepared-js';
import { TREE_LABEL, VolumeMounts, WORK_VOLUME_LABEL, scanTree } from './remote-volumes';
import { ResidentHarness } from './replay';
import { mismatchReason, replayJobFromEnvelope, reproduce } from './reproduce';
import { failureSignature } from './signature';

// The engine is reached the way a remote one is, over TCP, through a loopback listener that forwards
// to the local engine's socket; the driver is told the engine cannot see this machine's files.
const local = new Docker();
const runId = `volumes-${process.pid}-${Date.now()}`;
const testLabel = { 'tracemend.test': runId };
const incident = { 'tracemend.incident': `test-${runId}` };
let proxy: Server;
let requests = 0;
let driver: DockerSandboxDriver;
let root: string;
let workDir: string;
let depsDir: string;
let leaderboard: PreparedRepo;

function spec(script: string, overrides: Partial<RunSpec> = {}): RunSpec {
  return { image: sandboxImageTag(), workDir, depsDir, env: {}, ...DEFAULT_RUN_LIMITS, labels: incident, command: ['node', '-e', script], ...overrides };
}

async function labelled(label: Record<string, string>): Promise<{ containers: string[]; volumes: string[] }> {
  const filters = { label: Object.entries(label).map(([key, value]) => `${key}=${value}`) };
  const containers = await local.listContainers({ all: true, filters });
  const { Volumes: volumes } = await local.listVolumes({ filters });
  return { containers: containers.map((info) => info.Names[0] ?? info.Id), volumes: (volumes ?? []).map((volume) => volume.Name) };
}

beforeAll(async () => {
  await buildBaseImage({ docker: local });
  proxy = createServer((client) => {
    requests += 1;
    const engine = connect('/var/run/docker.sock');
    client.pipe(engine).pipe(client);
    const close = (): void => {
      client.destroy();
      engine.destroy();
    };
    client.on('error', close).on('close', close);
    engine.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as AddressInfo;
  const docker = connectDocker({ DOCKER_HOST: `tcp://127.0.0.1:${port}` });
  driver = new DockerSandboxDriver({
    docker,
    mountMode: 'volume',
    volumeLabels: testLabel,
    copyBackLimits: { maxBytes: 4 * 1024 * 1024, maxEntries: 1_000 },
    logger: testLogger,
  });

  root = await mkdtemp(join(tmpdir(), 'tracemend-volumes-'));
  workDir = join(root, 'checkout');
  depsDir = join(root, 'deps', 'node_modules');
  await mkdir(join(workDir, 'src'), { recursive: true });
  await writeFile(join(workDir, 'input.txt'), 'from the host\n');
  await writeFile(join(workDir, 'src', 'keep.ts'), 'export const keep = 1;\n');
  await mkdir(join(depsDir, 'shout'), { recursive: true });
  await writeFile(join(depsDir, 'shout', 'package.json'), JSON.stringify({ name: 'shout', version: '1.0.0', main: 'index.js' }));
  await writeFile(join(depsDir, 'shout', 'index.js'), 'module.exports = (text) => text.toUpperCase();\n');
  await mkdir(join(depsDir, '.bin'));
  await symlink('../shout/index.js', join(depsDir, '.bin', 'shout'));
  await chmod(root, 0o755);
  await chmod(join(root, 'deps'), 0o755);
  for (const dir of [workDir, join(workDir, 'src'), join(workDir, 'input.txt'), join(workDir, 'src', 'keep.ts')]) await chown(dir, 10001, 10001);
  leaderboard = await prepareFixture('leaderboard', root);
}, 600_000);

afterAll(async () => {
  await reapOrphans({ docker: local, olderThanMs: 0, labels: incident });
  await reapOrphans({ docker: local, olderThanMs: 0, labels: testLabel });
  await testDriver.reapOrphans({ olderThanMs: 0, labels: incident });
  await new Promise((resolve) => proxy?.close(resolve));
  if (root) await rm(root, { recursive: true, force: true });
});

describe('DockerSandboxDriver in volume mode, over TCP', () => {
  it('runs with the checkout and node_modules in volumes; node_modules is read-only and /work writes come back', async () => {
    expect(driver.mountMode).toBe('volume');
    const before = requests;
    const inputBefore = await stat(join(workDir, 'input.txt'));
    const result = await driver.run(
      spec(`
        const fs = require('node:fs');
        const shout = require('shout');
        let depsWrite;
        try { fs.writeFileSync('/work/node_modules/planted.js', 'x'); depsWrite = 'written'; } catch (error) { depsWrite = error.code; }
        fs.mkdirSync('/work/reports', { recursive: true });
        fs.writeFileSync('/work/reports/result.json', JSON.stringify({ shouted: shout(fs.readFileSync('/work/input.txt', 'utf8')) }));
        const bin = fs.readlinkSync('/work/node_modules/.bin/shout');
        console.log(JSON.stringify({ uid: process.getuid(), listing: fs.readdirSync('/work').sort(), keep: fs.readFileSync('/work/src/keep.ts', 'utf8'), depsWrite, bin }));
      `),
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      uid: 10001,
      listing: ['input.txt', 'node_modules', 'reports', 'src'],
      keep: 'export const keep = 1;\n',
      depsWrite: 'EROFS',
      bin: '../shout/index.js',
    });
    expect(requests - before).toBeGreaterThan(0);
    expect(JSON.parse(await readFile(join(workDir, 'reports', 'result.json'), 'utf8'))).toEqual({ shouted: 'FROM THE HOST\n' });
    const report = await lstat(join(workDir, 'reports', 'result.json'));
    expect(report.isFile()).toBe(true);
    if (process.getuid?.() === 0) expect([report.uid, report.gid]).toEqual([10001, 10001]);
    // Unchanged files are not rewritten; the host's dependency folder is untouched.
    expect((await stat(join(workDir, 'input.txt'))).mtimeMs).toBe(inputBefore.mtimeMs);
    expect((await readdir(join(depsDir))).sort()).toEqual(['.bin', 'shout']);
    expect(await labelled({ ...incident, [WORK_VOLUME_LABEL]: '1' })).toEqual({ containers: [], volumes: [] });
  });

  it('uploads a read-only tree once per content and reuses its volume', async () => {
    const manifest = await scanTree(depsDir);
    const treeVolume = `tracemend-tree-${manifest.hash.slice(0, 40)}`;
    const first = await driver.run(spec('console.log(require("shout")("again"))'));
    expect(first.stdout).toBe('AGAIN\n');
    const volume = await local.getVolume(treeVolume).inspect();
    expect(volume.Labels).toMatchObject({ [TREE_LABEL]: manifest.hash, 'tracemend.sandbox': '1', ...testLabel });
    const holder = await local.getContainer(treeVolume).inspect();
    expect(holder.State.Status).toBe('created');
    const started = Date.now();
    const second = await driver.run(spec('console.log(require("shout")("reused"))'));
    expect(second.stdout).toBe('REUSED\n');
    const createdAt = (info: object): unknown => (info as { CreatedAt?: string }).CreatedAt;
    expect(createdAt(await local.getVolume(treeVolume).inspect())).toBe(createdAt(volume));
    expect((await local.getContainer(treeVolume).inspect()).Id).toBe(holder.Id);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('refuses a symlink the container planted to /etc/passwd, naming it, and writes nothing back', async () => {
    const error = await refusal(
      driver.run(spec('const fs = require("node:fs"); fs.writeFileSync("/work/also-written.txt", "x"); fs.symlinkSync("/etc/passwd", "/work/passwd-link")')),
    );
    expect(error.code).toBe('SANDBOX_ESCAPE');
    expect(error.message).toContain('"./passwd-link" is a symbolic link to /etc/passwd, outside the tree');
    await expect(lstat(join(workDir, 'passwd-link'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(lstat(join(workDir, 'also-written.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await labelled(incident)).toEqual({ containers: [], volumes: [] });
  });

  it('refuses a file past the copy-back bound, naming it', async () => {
    const error = await refusal(driver.run(spec('require("node:fs").writeFileSync("/work/huge.bin", Buffer.alloc(8 * 1024 * 1024))')));
    expect(error.code).toBe('SANDBOX_RESOURCE_LIMIT');
    expect(error.message).toContain('"./huge.bin" has 8388608 bytes, which passes the 4194304 bytes of new content allowed');
    await expect(lstat(join(workDir, 'huge.bin'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('copies back what a started process wrote once it is killed', async () => {
    const child = await driver.start({ ...spec('require("node:fs").writeFileSync("/work/resident.txt", "written while resident"); console.log("done"); setInterval(() => {}, 1000)') });
    await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('done') && resolve()));
    // Nothing of this machine is mounted: only volumes, and the write has not reached the host yet.
    const mounts = (await local.getContainer(child.containerId).inspect()).Mounts;
    expect(mounts.map((mount) => [mount.Type, mount.Destination, mount.RW]).sort()).toEqual([
      ['volume', '/work', true],
      ['volume', '/work/node_modules', false],
    ]);
    await expect(lstat(join(workDir, 'resident.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
    await child.kill();
    expect(await readFile(join(workDir, 'resident.txt'), 'utf8')).toBe('written while resident');
    expect(await labelled(incident)).toEqual({ containers: [], volumes: [] });
  });

  it('replays a fixture through the resident harness to the same signature as bind mounts do', async () => {
    const envelope = await fixtureEnvelope('leaderboard');
    const options = { image: sandboxImageTag(), repoDir: leaderboard.repoDir, depsDir: leaderboard.depsDir, envelope, labels: incident, logger: testLogger, runs: 2 };
    const viaVolumes = parseContract(Reproduction, await reproduce({ ...options, driver }), 'Reproduction');
    const viaBinds = parseContract(Reproduction, await reproduce({ ...options, driver: testDriver }), 'Reproduction');
    expect(viaVolumes.reproduced, viaVolumes.reason).toBe(true);
    expect(viaVolumes.matchingRuns).toBe(2);
    expect(viaVolumes.observed).toBeDefined();
    expect(viaVolumes.observed).toEqual(viaBinds.observed);
    expect(viaVolumes.reason).toBe(viaBinds.reason);
  });

  it('replays on a prepared JavaScript tree, whose links into /work are uploaded as container paths', async () => {
    const envelope = await fixtureEnvelope('leaderboard');
    const preparedJs = await prepareJsTree({ repoDir: leaderboard.repoDir });
    const job = replayJobFromEnvelope(envelope, { id: 'prepared-over-volumes' });
    const harness = await ResidentHarness.start({ driver, image: sandboxImageTag(), repoDir: leaderboard.repoDir, depsDir: leaderboard.depsDir, preparedJs, labels: incident, logger: testLogger });
    try {
      expect(harness.loader).toBe('prepared');
      expect(mismatchReason(await harness.judge(job), failureSignature(envelope.symptom))).toBeUndefined();
    } finally {
      await harness.close();
    }
    // The same tree without the declaration is refused: its links leave it on the host.
    const error = await refusal(driver.run(spec('console.log(1)', { readOnlyMounts: [{ source: preparedJs.dir, target: '/prepared' }] })));
    expect(error.code).toBe('SANDBOX_ESCAPE');
  });

  it('uploads a read-only dependency tree holding hard links (as pnpm and npm caches make them)', async () => {
    const deps = await mkdtemp(join(root, 'linked-deps-'));
    await writeFile(join(deps, 'a.js'), 'module.exports = 41;\n');
    await link(join(deps, 'a.js'), join(deps, 'b.js'));
    const result = await driver.run(spec('console.log(require("/deps/b.js") + 1)', { readOnlyMounts: [{ source: deps, target: '/deps' }] }));
    expect(result.stdout).toBe('42\n');
  });

  it('mounts a read-only checkout as a shared tree volume and copies nothing back', async () => {
    const result = await driver.run(
      spec('const fs = require("node:fs"); let code; try { fs.writeFileSync("/work/blocked.txt", "x"); } catch (error) { code = error.code; } console.log(code, fs.readFileSync("/work/input.txt", "utf8").trim())', {
        workReadOnly: true,
        depsDir: undefined,
      }),
    );
    expect(result.stdout).toBe('EROFS from the host\n');
    await expect(lstat(join(workDir, 'blocked.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses to upload a host tree holding a link out of it, before any container exists', async () => {
    const leaky = await mkdtemp(join(root, 'leaky-'));
    await symlink('/etc', join(leaky, 'etc'));
    const error = await refusal(driver.run(spec('console.log(1)', { readOnlyMounts: [{ source: leaky, target: '/leaky' }] })));
    expect(error.code).toBe('SANDBOX_ESCAPE');
    expect(error.message).toContain('etc is a symbolic link to /etc, outside the tree');
    expect(await labelled(incident)).toEqual({ containers: [], volumes: [] });
  });

  it('reaps the work volume of a container that never finished', async () => {
    const volumes = new VolumeMounts({ docker: local, sandboxLabel: 'tracemend.sandbox', labels: testLabel });
    const staged = await volumes.stage({ image: sandboxImageTag(), workDir, workReadOnly: false, depsDir: undefined, mounts: [], labels: incident });
    const orphan = await labelled({ ...incident, [WORK_VOLUME_LABEL]: '1' });
    expect(orphan.volumes).toHaveLength(1);
    expect(staged.mounts).toEqual([expect.objectContaining({ Source: orphan.volumes[0], Target: '/work', ReadOnly: false })]);
    await reapOrphans({ docker: local, olderThanMs: 0, labels: incident });
    expect(await labelled(incident)).toEqual({ containers: [], volumes: [] });
  });

  it('refuses to run over a tree volume that vanished between upload and container creation', async () => {
    const volumes = new VolumeMounts({ docker: local, sandboxLabel: 'tracemend.sandbox', labels: testLabel });
    const lonely = await mkdtemp(join(root, 'lonely-'));
    await writeFile(join(lonely, 'only.txt'), `${runId}\n`);
    const staged = await volumes.stage({ image: sandboxImageTag(), workDir, workReadOnly: false, depsDir: undefined, mounts: [{ source: lonely, target: '/lonely' }], labels: incident });
    const tree = `tracemend-tree-${(await scanTree(lonely)).hash.slice(0, 40)}`;
    await local.getContainer(tree).remove({ force: true });
    await local.getVolume(tree).remove();
    const container = await local.createContainer({ Image: sandboxImageTag(), Labels: { ...incident, 'tracemend.sandbox': '1' }, HostConfig: { Mounts: staged.mounts } });
    try {
      const error = await refusal(staged.upload(container));
      expect(error.code).toBe('SANDBOX_UNAVAILABLE');
      expect(error.message).toContain(`engine volume ${tree} vanished`);
    } finally {
      await container.remove({ force: true });
      await staged.release();
      await local.getVolume(tree).remove();
    }
  });

  it('leaves no work volume or container behind, and reaping removes the shared tree volumes', async () => {
    expect(await labelled(incident)).toEqual({ containers: [], volumes: [] });
    const left = await labelled(testLabel);
    // Only the shared trees remain: a holder container and a volume per uploaded tree.
    expect(left.volumes.length).toBeGreaterThan(0);
    expect(left.volumes.every((name) => name.startsWith('tracemend-tree-'))).toBe(true);
    expect(left.containers.sort()).toEqual(left.volumes.map((name) => `/${name}`).sort());
    await driver.reapOrphans({ olderThanMs: 0, labels: testLabel });
    expect(await labelled(testLabel)).toEqual({ containers: [], volumes: [] });
  });
});
