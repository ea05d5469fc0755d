import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { DEFAULT_RUN_LIMITS, DockerSandboxDriver, SANDBOX_UID, SANDBOX_GID, buildBaseImage, sandboxImageTag, type SandboxProcess } from '@tracemend/sandbox';
import { createLogger } from '@tracemend/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STARTUP_ORPHAN_AGE_MS, reapSandboxOrphans, startPeriodicReaping } from '../src/reap-orphans';

const execFileAsync = promisify(execFile);
const driver = new DockerSandboxDriver({ logger: createLogger({ name: 'reap-test', level: 'silent' }) });
const labels = { 'tracemend.incident': `reap-startup-${process.pid}-${Date.now()}` };
let workDir: string;
let abandoned: SandboxProcess | undefined;

/** A logger whose JSON lines the test reads back. */
function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: createLogger({ name: 'worker', level: 'info', destination }), lines };
}

/** Ids of the containers with the test's label, straight from the engine. */
async function labelledContainers(): Promise<string[]> {
  const { stdout } = await execFileAsync('docker', ['ps', '--all', '--no-trunc', '--quiet', '--filter', `label=tracemend.incident=${labels['tracemend.incident']}`]);
  return stdout.split('\n').filter(Boolean);
}

beforeAll(async () => {
  await buildBaseImage();
  workDir = await mkdtemp(join(tmpdir(), 'tracemend-reap-'));
  await execFileAsync('chown', [`${SANDBOX_UID}:${SANDBOX_GID}`, workDir]);
});

afterAll(async () => {
  await abandoned?.kill();
  await rm(workDir, { recursive: true, force: true });
});

describe('reapSandboxOrphans at worker start-up', () => {
  it('leaves a young sandbox alone and removes it once it counts as orphaned, logging the count', async () => {
    // A sandbox whose worker went away: started, never killed, still running.
    abandoned = await driver.start({ image: sandboxImageTag(), workDir, env: {}, ...DEFAULT_RUN_LIMITS, labels, command: ['node', '-e', 'setInterval(() => {}, 1000)'] });
    expect(await labelledContainers()).toEqual([abandoned.containerId]);

    const young = capturingLogger();
    expect(await reapSandboxOrphans(driver, young.logger, { labels })).toEqual([]);
    expect(young.lines).toMatchObject([{ level: 'info', removed: 0, olderThanMs: STARTUP_ORPHAN_AGE_MS, msg: 'reaped orphaned sandbox containers' }]);
    expect(await labelledContainers()).toEqual([abandoned.containerId]);

    const old = capturingLogger();
    expect(await reapSandboxOrphans(driver, old.logger, { labels, olderThanMs: 0 })).toEqual([abandoned.containerId]);
    expect(old.lines).toMatchObject([{ level: 'info', removed: 1, containers: [abandoned.containerId.slice(0, 12)], olderThanMs: 0 }]);
    expect(await labelledContainers()).toEqual([]);
    // The abandoned process sees its container die.
    expect((await abandoned.exited).exitCode).toBe(137);
  });

  it('logs a warning and lets the worker start when the engine does not answer', async () => {
    const { logger, lines } = capturingLogger();
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = `unix://${join(workDir, 'no-engine.sock')}`;
    let unreachable: DockerSandboxDriver;
    try {
      unreachable = new DockerSandboxDriver({ logger });
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
    expect(await reapSandboxOrphans(unreachable, logger)).toEqual([]);
    expect(lines).toMatchObject([{ level: 'warn', olderThanMs: STARTUP_ORPHAN_AGE_MS, err: { code: 'ENOENT' } }]);
    expect(lines[0]?.msg).toContain('the Docker engine did not answer');
  });
});

describe('startPeriodicReaping while the worker runs', () => {
  it('removes a container orphaned after start-up at the next interval, and stops when asked', async () => {
    const orphan = await driver.start({ image: sandboxImageTag(), workDir, env: {}, ...DEFAULT_RUN_LIMITS, labels, command: ['node', '-e', 'setInterval(() => {}, 1000)'] });
    const { logger, lines } = capturingLogger();
    const stop = startPeriodicReaping(driver, logger, { labels, olderThanMs: 0, intervalMs: 200 });
    try {
      const deadline = Date.now() + 10_000;
      while ((await labelledContainers()).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await labelledContainers()).toEqual([]);
      expect((await orphan.exited).exitCode).toBe(137);
    } finally {
      await stop();
    }
    const reaps = lines.length;
    expect(reaps).toBeGreaterThanOrEqual(1);
    expect(lines.find((line) => line.removed === 1)).toMatchObject({ containers: [orphan.containerId.slice(0, 12)] });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(lines).toHaveLength(reaps);
  });
});
