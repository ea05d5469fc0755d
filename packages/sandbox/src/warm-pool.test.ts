import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TracemendError } from '@tracemend/contracts';
import { handToSandboxUser, testDriver, testLogger } from '../test/fixtures';
import { refusal } from '../test/refusal';
import { INCIDENT_LABEL, startHarnessFrom } from './activities';
import { SANDBOX_LABEL } from './docker-driver';
import { buildBaseImage, sandboxImageTag } from './image/build-base-image';
import { prepareJsTree } from './prepared-js';
import { POOL_LABEL, WarmPool, poolKey, type PoolTarget } from './warm-pool';

const docker = new Docker();
let root: string;
let first: PoolTarget;
let second: PoolTarget;
let third: PoolTarget;

/** Two dependency-free repositories standing in for two (repository, commit) checkouts. */
async function repository(name: string): Promise<PoolTarget> {
  const dir = join(root, name);
  await mkdir(join(dir, 'src'), { recursive: true });
  await writeFile(join(dir, 'src', 'answer.ts'), `export function answer(): string { return ${JSON.stringify(name)}; }\n`);
  await writeFile(join(dir, 'src', 'spin.ts'), 'export function spin(): never { for (;;) { /* never returns */ } }\n');
  await handToSandboxUser(dir);
  return { repoDir: dir };
}

async function poolContainers(target: PoolTarget): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${POOL_LABEL}=${poolKey(target)}`, `${SANDBOX_LABEL}=1`] } });
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const job = (id: string) => ({
  id,
  entry: { kind: 'function' as const, module: 'src/answer.ts', export: 'answer', args: [] },
  environment: { featureFlags: {}, env: {} },
  timing: { recordedAt: '2026-11-20T10:42:17.503Z' },
  downstream: [],
});

beforeAll(async () => {
  await buildBaseImage();
  root = await mkdtemp(join(tmpdir(), 'tracemend-pool-'));
  first = await repository('first');
  second = await repository('second');
  third = await repository('third');
});

afterAll(async () => {
  for (const target of [first, second, third]) {
    for (const info of await poolContainers(target)) await docker.getContainer(info.Id).remove({ force: true }).catch(() => undefined);
  }
  await rm(root, { recursive: true, force: true });
});

describe('WarmPool', () => {
  it('hands out ready containers once each, refills in the background, keeps its bounds and drains', async () => {
    const pool = new WarmPool({ driver: testDriver, image: sandboxImageTag(), perKey: 2, total: 3, logger: testLogger });
    try {
      pool.warm(first);
      await until('two warm containers', () => pool.readyCount(first) === 2);
      // Labelled for orphan reaping, running, with the checkout and harness in place.
      const warmIds = (await poolContainers(first)).map((info) => info.Id);
      expect(warmIds).toHaveLength(2);

      const takenAt = performance.now();
      const one = pool.take(first);
      const takeMs = performance.now() - takenAt;
      expect(one).toBeDefined();
      expect(takeMs).toBeLessThan(50);
      expect(await one!.judge(job('incident-a'))).toMatchObject({ outcome: 'returned', value: 'first' });

      // A second incident never gets the container the first one took.
      const two = pool.take(first);
      expect(two).toBeDefined();
      expect(two!.containerId).not.toBe(one!.containerId);
      expect(warmIds.sort()).toEqual([one!.containerId, two!.containerId].sort());

      // Refilled to its size with new containers; the taken ones are the incidents' to close.
      await until('the pool to refill', () => pool.readyCount(first) === 2);
      await one!.close();
      await two!.close();
      const refilled = (await poolContainers(first)).map((info) => info.Id);
      expect(refilled).toHaveLength(2);
      expect(refilled).not.toContain(one!.containerId);
      expect(refilled).not.toContain(two!.containerId);

      // The total bound: the second key gets the one slot left and the place of the first key's idlest container.
      pool.warm(second);
      await until('the second key to warm', () => pool.readyCount(second) === 2);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(pool.readyCount()).toBe(3);
      expect(pool.readyCount(first)).toBe(1);
      expect(await poolContainers(second)).toHaveLength(2);
      await until('the replaced container to be removed', async () => (await poolContainers(first)).length === 1, 10_000);
    } finally {
      await pool.drain();
    }
    expect(await poolContainers(first)).toEqual([]);
    expect(await poolContainers(second)).toEqual([]);
    expect(pool.readyCount()).toBe(0);
    // A drained pool starts nothing new.
    pool.warm(first);
    expect(pool.take(first)).toBeUndefined();
  });

  it('starts a harness cold on a miss and binds a taken warm one to the caller signal', async () => {
    const pool = new WarmPool({ driver: testDriver, image: sandboxImageTag(), perKey: 1, total: 1, logger: testLogger });
    try {
      const controller = new AbortController();
      const cold = await startHarnessFrom(pool, { driver: testDriver, image: sandboxImageTag(), repoDir: first.repoDir, logger: testLogger, signal: controller.signal });
      expect((await poolContainers(first)).map((info) => info.Id)).not.toContain(cold.containerId);
      await cold.close();
      // The miss started a warm one for the next caller.
      await until('a warm container', () => pool.readyCount(first) === 1);
      const warm = await startHarnessFrom(pool, { driver: testDriver, image: sandboxImageTag(), repoDir: first.repoDir, logger: testLogger, signal: controller.signal });
      const pending = warm.judge({ ...job('slow'), entry: { kind: 'function', module: 'src/missing.ts', export: 'x', args: [] } });
      controller.abort(new Error('incident cancelled'));
      const outcome = await pending.then(
        (result) => result,
        (error: unknown) => error,
      );
      // Either the job had already answered or the abort rejected it; the container is gone either way.
      if (outcome instanceof Error) expect(outcome.message).toBe('incident cancelled');
      await until('the taken container to be removed', async () => !(await poolContainers(first)).some((info) => info.Id === warm.containerId), 2_000);
    } finally {
      await pool.drain();
    }
  });

  it('warms more commits than its total by replacing the longest-idle container of another commit', async () => {
    const pool = new WarmPool({ driver: testDriver, image: sandboxImageTag(), perKey: 1, total: 2, logger: testLogger });
    try {
      pool.warm(first);
      await until('the first commit to warm', () => pool.readyCount(first) === 1);
      pool.warm(second);
      await until('the second commit to warm', () => pool.readyCount(second) === 1);
      const firstIds = (await poolContainers(first)).map((info) => info.Id);
      expect(firstIds).toHaveLength(1);
      // Both slots of the total are taken by ready containers; a third commit still gets one.
      pool.warm(third);
      await until('the third commit to warm', () => pool.readyCount(third) === 1);
      expect(pool.readyCount(first)).toBe(0);
      expect(pool.readyCount()).toBe(2);
      await until('the idlest container (the first commit\'s) to be removed', async () => (await poolContainers(first)).length === 0, 10_000);
      expect(await poolContainers(second)).toHaveLength(1);
      expect(await poolContainers(third)).toHaveLength(1);
      expect(await pool.take(third)!.judge(job('third'))).toMatchObject({ outcome: 'returned', value: 'third' });
    } finally {
      await pool.drain();
    }
  });

  it('removes a ready container idle past maxIdleMs in the background', async () => {
    const pool = new WarmPool({ driver: testDriver, image: sandboxImageTag(), perKey: 1, total: 1, maxIdleMs: 1_500, sweepIntervalMs: 250, logger: testLogger });
    try {
      pool.warm(first);
      await until('a warm container', () => pool.readyCount(first) === 1);
      const [warm] = await poolContainers(first);
      expect(warm?.State).toBe('running');
      // Nothing takes it: the sweep closes it and the engine no longer lists it, well before its 30-minute lifetime.
      const idleSince = Date.now();
      await until('the idle container to be removed', async () => (await poolContainers(first)).length === 0, 15_000);
      expect(Date.now() - idleSince).toBeLessThan(15_000);
      expect(pool.readyCount()).toBe(0);
      // The slot it held is free again.
      pool.warm(second);
      await until('the second commit to warm', () => pool.readyCount(second) === 1);
    } finally {
      await pool.drain();
    }
  });

  it("makes a taken container the caller's: its job timeout, its incident and its prepared tree", async () => {
    const pool = new WarmPool({ driver: testDriver, image: sandboxImageTag(), perKey: 1, total: 2, logger: testLogger });
    const incidentId = `pool-incident-${process.pid}`;
    try {
      pool.warm(first);
      await until('a warm container', () => pool.readyCount(first) === 1);
      const [warmInfo] = await poolContainers(first);
      const harness = await startHarnessFrom(pool, {
        driver: testDriver,
        image: sandboxImageTag(),
        repoDir: first.repoDir,
        jobTimeoutMs: 1_500,
        labels: { [INCIDENT_LABEL]: incidentId },
        logger: testLogger,
      });
      expect(harness.containerId).toBe(warmInfo?.Id);
      // The container keeps the pool's labels; the pool knows which incident it serves now.
      expect(pool.takenFor(harness.containerId)).toBe(incidentId);
      expect(pool.containersOf(incidentId)).toEqual([harness.containerId]);
      // The caller's 1.5 s job timeout applies, not the pool's default of 30 s.
      const started = Date.now();
      const error = await refusal(harness.judge({ ...job('spin'), entry: { kind: 'function', module: 'src/spin.ts', export: 'spin', args: [] } }));
      expect(error.code).toBe('SANDBOX_TIMEOUT');
      expect(Date.now() - started).toBeLessThan(10_000);
      await until('the timed-out container to be removed', async () => !(await poolContainers(first)).some((info) => info.Id === harness.containerId), 5_000);
      expect(pool.containersOf(incidentId)).toEqual([]);

      // A caller with a prepared JavaScript tree never gets a container started without it.
      await until('the pool to refill', () => pool.readyCount(first) === 1);
      const preparedJs = await prepareJsTree({ repoDir: first.repoDir });
      expect(poolKey({ ...first, preparedJs })).not.toBe(poolKey(first));
      const prepared = await startHarnessFrom(pool, { driver: testDriver, image: sandboxImageTag(), repoDir: first.repoDir, preparedJs, logger: testLogger });
      try {
        expect(prepared.loader).toBe('prepared');
        expect((await poolContainers(first)).map((info) => info.Id)).not.toContain(prepared.containerId);
        expect(pool.readyCount(first)).toBe(1);
        expect(await prepared.judge(job('prepared'))).toMatchObject({ outcome: 'returned', value: 'first' });
      } finally {
        await prepared.close();
      }
      // The miss warmed that target; the next caller with the tree gets a prepared warm container.
      await until('a prepared warm container', () => pool.readyCount({ ...first, preparedJs }) === 1);
      const warmPrepared = await startHarnessFrom(pool, { driver: testDriver, image: sandboxImageTag(), repoDir: first.repoDir, preparedJs, logger: testLogger });
      try {
        expect(warmPrepared.loader).toBe('prepared');
        expect(await warmPrepared.judge(job('warm-prepared'))).toMatchObject({ outcome: 'returned', value: 'first' });
      } finally {
        await warmPrepared.close();
      }
    } finally {
      await pool.drain();
    }
    expect(await poolContainers({ ...first })).toEqual([]);
  });

  it('rejects bounds that are not positive integers', () => {
    expect(() => new WarmPool({ driver: testDriver, image: sandboxImageTag(), total: 0 })).toThrow(TracemendError);
  });
});
