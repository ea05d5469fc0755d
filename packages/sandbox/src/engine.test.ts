import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TracemendError } from '@tracemend/contracts';
import { createLogger } from '@tracemend/telemetry';
import { reapOrphans, DockerSandboxDriver } from './docker-driver';
import { DEFAULT_RUN_LIMITS } from './driver';
import { connectDocker, engineLocation, mountModeFor, mountModeOf, usableEngineLocation } from './engine';
import { buildBaseImage, sandboxImageTag } from './image/build-base-image';

describe('engineLocation', () => {
  it('tells this machine from another one', () => {
    expect(engineLocation(undefined)).toEqual({ kind: 'local-socket', socketPath: '/var/run/docker.sock' });
    expect(engineLocation('unix:///run/user/1000/docker.sock')).toEqual({ kind: 'local-socket', socketPath: '/run/user/1000/docker.sock' });
    expect(engineLocation('tcp://127.0.0.1:2375')).toEqual({ kind: 'local-tcp', host: '127.0.0.1', port: 2375 });
    expect(engineLocation('tcp://localhost')).toEqual({ kind: 'local-tcp', host: 'localhost', port: 2375 });
    expect(engineLocation('tcp://[::1]:2376')).toEqual({ kind: 'local-tcp', host: '::1', port: 2376 });
    expect(engineLocation('tcp://build-host.example.com:2376')).toEqual({ kind: 'remote', host: 'build-host.example.com' });
    expect(engineLocation('ssh://deploy@build-host.example.com')).toEqual({ kind: 'remote', host: 'build-host.example.com' });
  });

  it('names a DOCKER_HOST it cannot use', () => {
    expect(() => engineLocation('docker.sock')).toThrow(/DOCKER_HOST "docker.sock" is not an engine address/);
    expect(() => engineLocation('npipe:////./pipe/docker_engine')).toThrow(/DOCKER_HOST uses npipe:, which the sandbox does not support/);
  });
});

describe('connectDocker and the mount mode', () => {
  it('builds a client for an engine on another machine without contacting it, and picks volumes for it', () => {
    const remote = connectDocker({ DOCKER_HOST: 'tcp://build-host.example.com:2376' });
    expect(remote.modem).toMatchObject({ host: 'build-host.example.com' });
    expect(mountModeOf(remote, {})).toBe('volume');
    expect(mountModeOf(remote, { TRACEMEND_DOCKER_SHARED_FS: '1' })).toBe('bind');
    expect(new DockerSandboxDriver({ docker: remote, logger: createLogger({ name: 'sandbox-test', level: 'silent' }) }).mountMode).toBe(process.env.TRACEMEND_DOCKER_SHARED_FS === '1' ? 'bind' : 'volume');
  });

  it('binds on this machine: the default socket, another unix socket and loopback TCP', () => {
    expect(mountModeOf(new Docker())).toBe('bind');
    expect(mountModeOf(connectDocker({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }))).toBe('bind');
    expect(mountModeOf(connectDocker({ DOCKER_HOST: 'tcp://127.0.0.1:2375' }))).toBe('bind');
    expect(mountModeOf(connectDocker({ DOCKER_HOST: 'tcp://[::1]:2375' }))).toBe('bind');
  });

  it('tells the location and mode from the environment', () => {
    expect(mountModeFor(usableEngineLocation({}), {})).toBe('bind');
    expect(mountModeFor(usableEngineLocation({ DOCKER_HOST: 'ssh://deploy@build-host.example.com' }), {})).toBe('volume');
    expect(() => usableEngineLocation({ DOCKER_HOST: 'docker.sock' })).toThrow(TracemendError);
  });
});

describe('a local engine over TCP (DOCKER_HOST=tcp://127.0.0.1:<port>)', () => {
  // A loopback TCP listener that forwards to the engine's Unix socket, as a TCP-exposed local engine would.
  let proxy: Server;
  let forwardedBytes = 0;
  let workDir: string;
  const runId = `tcp-${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    await buildBaseImage({ docker: connectDocker({}) });
    proxy = createServer((client) => {
      const engine = connect('/var/run/docker.sock');
      client.on('data', (chunk: Buffer) => (forwardedBytes += chunk.length));
      client.pipe(engine).pipe(client);
      const close = () => {
        client.destroy();
        engine.destroy();
      };
      client.on('error', close).on('close', close);
      engine.on('error', close).on('close', close);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    workDir = await mkdtemp(join(tmpdir(), 'tracemend-engine-tcp-'));
    await chown(workDir, 10001, 10001);
  });

  afterAll(async () => {
    await reapOrphans({ docker: connectDocker({}), olderThanMs: 0, labels: { 'tracemend.incident': runId } });
    await new Promise((resolve) => proxy?.close(resolve));
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('runs a hardened container with the bind-mounted work folder through the TCP engine address', async () => {
    const { port } = proxy.address() as AddressInfo;
    const docker = connectDocker({ DOCKER_HOST: `tcp://127.0.0.1:${port}` });
    const driver = new DockerSandboxDriver({ docker, logger: createLogger({ name: 'sandbox-test', level: 'silent' }) });
    expect(driver.mountMode).toBe('bind');
    await writeFile(join(workDir, 'input.txt'), 'from the host\n');
    const result = await driver.run({
      image: sandboxImageTag(),
      workDir,
      env: {},
      ...DEFAULT_RUN_LIMITS,
      labels: { 'tracemend.incident': runId },
      command: ['node', '-e', 'const fs = require("node:fs"); fs.writeFileSync("/work/output.txt", fs.readFileSync("/work/input.txt", "utf8").toUpperCase()); console.log(process.getuid())'],
    });
    expect(result).toMatchObject({ exitCode: 0, stdout: '10001\n', timedOut: false });
    expect(await readFile(join(workDir, 'output.txt'), 'utf8')).toBe('FROM THE HOST\n');
    expect(forwardedBytes).toBeGreaterThan(0);
  });
});
