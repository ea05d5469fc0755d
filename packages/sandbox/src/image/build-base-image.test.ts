import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { TracemendError } from '@tracemend/contracts';
import {
  LABEL_CONTENT_HASH,
  LABEL_NODE_VERSION,
  buildBaseImage,
  collectRootfs,
  hashRootfs,
  sandboxImageTag,
  sharedLibrariesOf,
} from './build-base-image';

const docker = new Docker();
const testTag = `tracemend/sandbox-node-test:${process.pid}-${Date.now()}`;

describe('sandboxImageTag', () => {
  it('names the image after the Node version without the v', () => {
    expect(sandboxImageTag('v20.20.2')).toBe('tracemend/sandbox-node:20.20.2');
    expect(sandboxImageTag()).toBe(`tracemend/sandbox-node:${process.versions.node}`);
  });
});

describe('collectRootfs', () => {
  it('holds node, a shell, env, timeout, the dynamic loader and the sandbox user', async () => {
    const entries = await collectRootfs(process.execPath);
    const paths = entries.map((entry) => entry.path);
    for (const path of ['/usr/local/bin/node', '/bin/sh', '/usr/bin/env', '/usr/bin/timeout', '/etc/passwd', '/etc/group', '/etc/nsswitch.conf']) {
      expect(paths).toContain(path);
    }
    for (const library of await sharedLibrariesOf(process.execPath)) expect(paths).toContain(library);
    const passwd = entries.find((entry) => entry.path === '/etc/passwd');
    expect(passwd?.type === 'inline' && passwd.content.toString()).toContain('sandbox:x:10001:10001:');
    const firstFile = entries.findIndex((entry) => entry.type !== 'dir');
    expect(entries.slice(firstFile).every((entry) => entry.type !== 'dir')).toBe(true);
  });

  it('hashes deterministically and separates Node versions', async () => {
    const entries = await collectRootfs(process.execPath);
    const first = await hashRootfs(entries, '20.20.2');
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(await hashRootfs(entries, '20.20.2')).toBe(first);
    expect(await hashRootfs(entries, '20.20.3')).not.toBe(first);
  });
});

describe('buildBaseImage', () => {
  afterAll(async () => {
    await docker
      .getImage(testTag)
      .remove({ force: true })
      .catch(() => undefined);
  });

  it('builds once, labels the image, and skips the second time', async () => {
    const first = await buildBaseImage({ docker, tag: testTag });
    expect(first.status).toBe('built');
    expect(first.contentHash).toMatch(/^[0-9a-f]{64}$/);
    const info = await docker.getImage(testTag).inspect();
    expect(info.Config.Labels?.[LABEL_CONTENT_HASH]).toBe(first.contentHash);
    expect(info.Config.Labels?.[LABEL_NODE_VERSION]).toBe(process.versions.node);
    expect(info.Config.User).toBe('10001:10001');
    expect(info.Config.WorkingDir).toBe('/work');
    expect(info.Config.Env).toContain('PATH=/usr/local/bin:/usr/bin:/bin');
    expect(first.sizeBytes).toBeGreaterThan(50 * 1024 * 1024);

    const second = await buildBaseImage({ docker, tag: testTag });
    expect(second.status).toBe('skipped');
    expect(second.contentHash).toBe(first.contentHash);
    expect(second.imageId).toBe(first.imageId);
  });

  it('reports SANDBOX_UNAVAILABLE when the engine does not answer', async () => {
    const nowhere = new Docker({ socketPath: '/nonexistent/docker.sock' });
    const error = await buildBaseImage({ docker: nowhere, tag: testTag }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TracemendError);
    expect((error as TracemendError).code).toBe('SANDBOX_UNAVAILABLE');
  });
});
