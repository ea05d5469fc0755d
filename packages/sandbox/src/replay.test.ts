import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TracemendError, type DownstreamCall } from '@tracemend/contracts';
import { fixtureEnvelope, handToSandboxUser, prepareFixture, testDriver, testLogger, type PreparedRepo } from '../test/fixtures';
import { lineCoverageOf } from './coverage';
import { buildBaseImage, sandboxImageTag } from './image/build-base-image';
import { DEFAULT_RUN_LIMITS } from './driver';
import { harnessLaunch, RESULT_MARKER, ResidentHarness, type ReplayJob, type ReplayResult } from './replay';
import { replayJobFromEnvelope } from './reproduce';

const runId = `${process.pid}-${Date.now()}`;
const labels = { 'tracemend.incident': `test-${runId}` };
const RECORDED_AT = '2026-11-20T10:42:17.503Z';
let root: string;
let leaderboard: PreparedRepo;
let probeDir: string;

// A repository without dependencies (so the harness mounts tracemend's own tsx) whose exports report
// what the replayed code sees.
const PROBE_SOURCE = `
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

export async function sample(label: string) {
  await sleep(5);
  return {
    label,
    now: Date.now(),
    iso: new Date().toISOString(),
    explicit: new Date(0).toISOString(),
    called: typeof Date(),
    randoms: [Math.random(), Math.random(), Math.random()],
    uuid: randomUUID(),
    webUuid: globalThis.crypto.randomUUID(),
    env: { ...process.env },
    hour: new Date().getHours(),
  };
}

export async function inventory(skus: string[]) {
  const answers = [];
  for (const sku of skus) {
    try {
      const response = await fetch('http://inventory.internal:8080/v1/inventory/' + sku);
      answers.push({ sku, status: response.status, body: await response.json() });
    } catch (error) {
      answers.push({ sku, error: (error as Error).message });
    }
  }
  return answers;
}

export async function lookup(cache: { get(key: string): Promise<unknown> }, key: string) {
  return { value: await cache.get(key) };
}

// Ends the harness's own process, as a native crash in the replayed code would.
export function crash() {
  process.kill(process.pid, 'SIGKILL');
}

export function spin(): never {
  for (;;) {}
}

// A deadline loop that polls the clock without waiting on a timer: on the frozen clock it never ends.
export function busyWait(ms: number) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {}
  return 'done';
}

// A deadline loop that waits with timers between polls progresses on the frozen clock.
export async function retryUntil(ms: number) {
  const started = Date.now();
  let attempts = 0;
  while (Date.now() - started < ms) {
    attempts++;
    await sleep(10);
  }
  return { attempts, waited: Date.now() - started };
}
`;

function job(id: string, entry: ReplayJob['entry'], overrides: Partial<ReplayJob> = {}): ReplayJob {
  return { id, entry, environment: { featureFlags: {}, env: {} }, timing: { recordedAt: RECORDED_AT }, downstream: [], ...overrides };
}

function call(exportName: string, args: unknown[]): ReplayJob['entry'] {
  return { kind: 'function', module: 'src/probe.ts', export: exportName, args: args as never[] };
}

function returned(result: ReplayResult): unknown {
  if (result.outcome !== 'returned') throw new Error(`expected a return, got ${JSON.stringify(result)}`);
  return result.value;
}

beforeAll(async () => {
  await buildBaseImage();
  root = await mkdtemp(join(tmpdir(), 'tracemend-replay-'));
  leaderboard = await prepareFixture('leaderboard', root);
  probeDir = join(root, 'probe');
  await mkdir(join(probeDir, 'src'), { recursive: true });
  await writeFile(join(probeDir, 'package.json'), JSON.stringify({ name: 'probe', version: '1.0.0', type: 'module', private: true }));
  await writeFile(join(probeDir, 'src', 'probe.ts'), PROBE_SOURCE);
  await handToSandboxUser(probeDir);
});

afterAll(async () => {
  await testDriver.reapOrphans({ olderThanMs: 0, labels });
  await rm(root, { recursive: true, force: true });
});

async function startProbe(jobTimeoutMs?: number): Promise<ResidentHarness> {
  return ResidentHarness.start({
    driver: testDriver,
    image: sandboxImageTag(),
    repoDir: probeDir,
    labels,
    logger: testLogger,
    ...(jobTimeoutMs === undefined ? {} : { jobTimeoutMs }),
  });
}

describe('the replay harness: determinism', () => {
  it('freezes the clock at recordedAt, seeds randomness from the recording and replaces the environment', async () => {
    const harness = await startProbe();
    try {
      expect(harness.loader).toBe('tracemend');
      const environment = { featureFlags: { newPricing: true }, env: { INVENTORY_URL: 'http://inventory.internal:8080' }, timezone: 'Europe/Stockholm' };
      const first = await harness.judge(job('a', call('sample', ['first']), { environment }));
      const second = await harness.judge(job('b', call('sample', ['second']), { environment }));
      const seeded = await harness.judge(job('c', call('sample', ['seeded']), { timing: { recordedAt: RECORDED_AT, randomSeed: 7 } }));
      const a = returned(first) as Record<string, unknown>;
      const b = returned(second) as Record<string, unknown>;
      const c = returned(seeded) as Record<string, unknown>;
      // The clock is frozen at recordedAt and moved only by the probe's 5 ms sleep.
      for (const sampled of [a, b]) {
        expect(sampled.now).toBe(Date.parse(RECORDED_AT) + 5);
        expect(sampled.iso).toBe('2026-11-20T10:42:17.508Z');
      }
      expect(a.explicit).toBe('1970-01-01T00:00:00.000Z');
      expect(a.called).toBe('string');
      expect(a.randoms).toEqual(b.randoms);
      expect(new Set(a.randoms as number[]).size).toBe(3);
      expect(c.randoms).not.toEqual(a.randoms);
      expect(a.uuid).toBe(b.uuid);
      expect(a.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(a.webUuid).not.toBe(a.uuid);
      expect(a.webUuid).toBe(b.webUuid);
      expect(a.webUuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(c.webUuid).not.toBe(a.webUuid);
      expect(c.uuid).not.toBe(a.uuid);
      // The host writes the flags into the environment (flagEnvironment, when the job line is made).
      expect(a.env).toEqual({ INVENTORY_URL: 'http://inventory.internal:8080', FEATURE_FLAGS: '{"newPricing":true}', TZ: 'Europe/Stockholm' });
      // 10:42 UTC is 11:42 in Stockholm in November.
      expect(a.hour).toBe(11);
      expect((c.env as Record<string, string>).TZ).toBe('UTC');
    } finally {
      await harness.close();
    }
  });

  it('serves recorded calls by exact URL, then by template, once each, and lists unrecorded ones', async () => {
    const downstream: DownstreamCall[] = [
      { method: 'GET', urlTemplate: '/v1/inventory/{sku}', url: 'http://inventory.internal:8080/v1/inventory/LAMP-7', status: 200, responseHeaders: { 'content-type': 'application/json' }, responseBody: { sku: 'LAMP-7' } },
      { method: 'GET', urlTemplate: '/v1/inventory/{sku}', url: 'http://inventory.internal:8080/v1/inventory/DESK-19', status: 404, responseHeaders: { 'content-type': 'application/json' }, responseBody: { error: 'sku_not_found' } },
    ];
    const harness = await startProbe();
    try {
      const result = await harness.judge(job('fetch', call('inventory', [['DESK-19', 'CHAIR-3', 'LAMP-7']]), { downstream }));
      expect(returned(result)).toEqual([
        { sku: 'DESK-19', status: 404, body: { error: 'sku_not_found' } },
        // No exact recording: the first unused call with a matching template answers.
        { sku: 'CHAIR-3', status: 200, body: { sku: 'LAMP-7' } },
        { sku: 'LAMP-7', error: 'tracemend replay: unrecorded downstream call GET http://inventory.internal:8080/v1/inventory/LAMP-7' },
      ]);
      expect(result.outcome === 'returned' && result.unrecordedCalls).toEqual(['GET http://inventory.internal:8080/v1/inventory/LAMP-7']);

      // Deployed with another base URL (scheme, port, query from configuration): the same host and path answers.
      const moved: DownstreamCall[] = [
        { method: 'GET', urlTemplate: '/v1/inventory/DESK-19', url: 'https://inventory.internal:8443/v1/inventory/DESK-19?fields=all', status: 200, responseHeaders: { 'content-type': 'application/json' }, responseBody: { sku: 'DESK-19', stock: 3 } },
        { method: 'GET', urlTemplate: '/v1/inventory/LAMP-7', url: 'https://stock.internal:8443/v1/inventory/LAMP-7', status: 200, responseHeaders: { 'content-type': 'application/json' }, responseBody: { sku: 'LAMP-7' } },
      ];
      const elsewhere = await harness.judge(job('moved', call('inventory', [['DESK-19', 'LAMP-7']]), { downstream: moved }));
      expect(returned(elsewhere)).toEqual([
        { sku: 'DESK-19', status: 200, body: { sku: 'DESK-19', stock: 3 } },
        // Another host is another service: not served.
        { sku: 'LAMP-7', error: 'tracemend replay: unrecorded downstream call GET http://inventory.internal:8080/v1/inventory/LAMP-7' },
      ]);

      const stubbed = await harness.judge(job('stub', call('lookup', [{ $stub: { get: { active_users: [1, 2] } } }, 'active_users'])));
      expect(returned(stubbed)).toEqual({ value: [1, 2] });
      const missing = await harness.judge(job('stub-miss', call('lookup', [{ $stub: { get: { active_users: [1] } } }, 'weekly'])));
      expect(missing.outcome).toBe('threw');
      if (missing.outcome !== 'threw') throw new Error('unreachable');
      expect(missing.error?.message).toBe('tracemend replay: unrecorded dependency call get("weekly")');
      expect(missing.unrecordedCalls).toEqual(['stub get("weekly")']);
    } finally {
      await harness.close();
    }
  });

  it('reports job problems as harness errors and kills the container when a job hangs', async () => {
    const harness = await startProbe(2_000);
    try {
      const missing = await harness.judge(job('missing', call('nothing', [])));
      expect(missing).toMatchObject({ id: 'missing', outcome: 'harness-error', message: 'src/probe.ts has no exported function nothing' });
      const hang = await harness.judge(job('hang', call('spin', []))).catch((error: unknown) => error);
      expect(hang).toBeInstanceOf(TracemendError);
      expect((hang as TracemendError).code).toBe('SANDBOX_TIMEOUT');
      const after = await harness.judge(job('after', call('sample', ['x']))).catch((error: unknown) => error);
      expect((after as TracemendError).code).toBe('SANDBOX_TIMEOUT');
    } finally {
      await harness.close();
    }
  });

  it('lets deadline loops that wait with timers progress on the frozen clock', async () => {
    const harness = await startProbe();
    try {
      expect(returned(await harness.judge(job('retry', call('retryUntil', [100]))))).toEqual({ attempts: 10, waited: 100 });
    } finally {
      await harness.close();
    }
  });

  it('ends a job past its limit inside the container, before the host-side timer', async () => {
    // The host waits 60 s; the job line asks the harness for 1.5 s.
    const harness = await startProbe(60_000);
    try {
      await expect(harness.judge(job('bad-limit', call('sample', ['x']), { timeoutMs: 0 }))).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        message: 'replay job bad-limit: timeoutMs must be a positive integer, got 0',
      });
      expect(harness.usable).toBe(true);
      const started = performance.now();
      const hang = await harness.judge(job('busy-wait', call('busyWait', [50]), { timeoutMs: 1_500 })).catch((error: unknown) => error);
      const elapsed = performance.now() - started;
      expect(hang).toBeInstanceOf(TracemendError);
      expect((hang as TracemendError).code).toBe('SANDBOX_TIMEOUT');
      expect((hang as TracemendError).message).toBe('replay job busy-wait did not finish within 1500 ms; the harness ended it inside the container');
      expect(elapsed).toBeGreaterThanOrEqual(1_400);
      expect(elapsed).toBeLessThan(15_000);
      expect(harness.usable).toBe(false);
    } finally {
      await harness.close();
    }
  });

  it('exits by itself when a job outlives its limit, with no host timer at all', async () => {
    const launch = await harnessLaunch({});
    const child = await testDriver.start({
      image: sandboxImageTag(),
      workDir: probeDir,
      workReadOnly: true,
      command: launch.command,
      env: {},
      ...DEFAULT_RUN_LIMITS,
      timeoutMs: 120_000,
      labels,
      readOnlyMounts: launch.readOnlyMounts,
    });
    try {
      let stdout = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => (stdout += chunk));
      child.stdin.write(`${JSON.stringify({ ...job('endless', call('spin', [])), timeoutMs: 1_000 })}\n`);
      const started = performance.now();
      // Nobody kills the container here: only the harness's own limit can end it before its 120 s lifetime.
      const exit = await child.exited;
      expect(performance.now() - started).toBeLessThan(30_000);
      expect(exit).toMatchObject({ exitCode: 137, timedOut: false, oomKilled: false });
      const lines = stdout.split('\n').filter((line) => line.startsWith(RESULT_MARKER)).map((line) => JSON.parse(line.slice(RESULT_MARKER.length)) as unknown);
      expect(lines).toEqual([{ ready: true, node: 'v20.20.2' }, { id: 'endless', outcome: 'timeout', timeoutMs: 1_000 }]);
    } finally {
      await child.kill();
    }
  });

  it('removes the container when the harness dies before it is ready', async () => {
    // 16 MiB cannot hold Node: the container's memory limit kills the harness while it loads.
    const started = ResidentHarness.start({ driver: testDriver, image: sandboxImageTag(), repoDir: probeDir, labels, logger: testLogger, limits: { memoryBytes: 16 * 1024 * 1024 } });
    await expect(started).rejects.toMatchObject({ code: 'SANDBOX_RESOURCE_LIMIT' });
    expect(await testDriver.reapOrphans({ olderThanMs: 0, labels })).toEqual([]);
  });

  it('removes the container when the harness dies mid-job, before anyone closes it', async () => {
    const harness = await startProbe();
    const crashed = await harness.judge(job('crash', call('crash', []))).catch((error: unknown) => error);
    expect(crashed).toBeInstanceOf(TracemendError);
    expect((crashed as TracemendError).code).toBe('INTERNAL');
    expect((crashed as TracemendError).message).toMatch(/^the replay harness exited with code 137/);
    expect(harness.usable).toBe(false);
    const container = new Docker().getContainer(harness.containerId);
    await expect.poll(() => container.inspect().then(() => 'present', (error: { statusCode?: number }) => error.statusCode), { timeout: 10_000 }).toBe(404);
  });

  it('rejects the pending job with the abort reason and removes the container when its signal aborts', async () => {
    const controller = new AbortController();
    const harness = await ResidentHarness.start({ driver: testDriver, image: sandboxImageTag(), repoDir: probeDir, labels, logger: testLogger, signal: controller.signal });
    const pending = harness.judge(job('hang', call('spin', [])));
    setTimeout(() => controller.abort(new Error('incident cancelled')), 200);
    await expect(pending).rejects.toThrow('incident cancelled');
    await expect(harness.judge(job('after', call('sample', ['x'])))).rejects.toThrow('incident cancelled');
    await harness.close();
    expect(await testDriver.reapOrphans({ olderThanMs: 0, labels })).toEqual([]);
  });
});

describe('the resident harness on the leaderboard fixture', () => {
  it('judges 20 candidates in one container', async () => {
    const envelope = await fixtureEnvelope('leaderboard');
    const startedAt = performance.now();
    const harness = await ResidentHarness.start({ driver: testDriver, image: sandboxImageTag(), repoDir: leaderboard.repoDir, depsDir: leaderboard.depsDir, labels, logger: testLogger });
    const startMs = performance.now() - startedAt;
    const latencies: number[] = [];
    try {
      expect(harness.loader).toBe('repository');
      const snapshot = [
        { id: 'u1', displayName: 'Ada', score: 10, lastActiveAt: '2026-11-20T10:00:00Z' },
        { id: 'u2', displayName: 'Bo', score: 30, lastActiveAt: '2026-11-20T10:01:00Z' },
      ];
      for (let index = 0; index < 20; index++) {
        const base = replayJobFromEnvelope(envelope, { id: `candidate-${index}` });
        const crashing = index % 2 === 0;
        const entry = { ...base.entry, args: [{ $stub: { get: { active_users: crashing ? null : snapshot } } }, 10] } as ReplayJob['entry'];
        const before = performance.now();
        const result = await harness.judge({ ...base, entry });
        latencies.push(performance.now() - before);
        expect(result.id).toBe(`candidate-${index}`);
        if (crashing) {
          expect(result.outcome).toBe('threw');
          expect(result.outcome === 'threw' && result.error?.frames[0]).toMatchObject({ function: 'topUsers', file: 'src/leaderboard.ts', line: 34, inApp: true });
        } else {
          expect(returned(result)).toEqual([
            { rank: 1, id: 'u2', displayName: 'Bo', score: 30 },
            { rank: 2, id: 'u1', displayName: 'Ada', score: 10 },
          ]);
        }
      }
    } finally {
      await harness.close();
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    process.stdout.write(
      `resident harness: start ${startMs.toFixed(0)} ms; 20 candidates: first ${latencies[0]?.toFixed(1)} ms, median ${median.toFixed(1)} ms, max of the rest ${Math.max(...latencies.slice(1)).toFixed(1)} ms\n`,
    );
  });

  it('returns coverage mapped back to the TypeScript lines', async () => {
    const envelope = await fixtureEnvelope('leaderboard');
    const harness = await ResidentHarness.start({ driver: testDriver, image: sandboxImageTag(), repoDir: leaderboard.repoDir, depsDir: leaderboard.depsDir, labels, logger: testLogger });
    try {
      const plain = await harness.judge(replayJobFromEnvelope(envelope, { id: 'plain' }));
      expect(plain.outcome === 'threw' && plain.coverage).toBe(undefined);
      for (const id of ['covered-1', 'covered-2']) {
        const result = await harness.judge(replayJobFromEnvelope(envelope, { id, coverage: true }));
        if (result.outcome === 'harness-error') throw new Error(result.message);
        const script = result.coverage?.find((entry) => entry.file === 'src/leaderboard.ts');
        expect(script?.source).toContain('sourceMappingURL=data:application/json');
        expect(result.coverage?.every((entry) => !entry.file.includes('node_modules') && !entry.url.includes('/harness/'))).toBe(true);
        const converted = script === undefined ? undefined : await lineCoverageOf(script);
        expect(converted?.file).toBe('src/leaderboard.ts');
        const lines = converted?.lines;
        expect(lines?.get(34)).toBeGreaterThanOrEqual(1);
        expect(lines?.get(32)).toBeGreaterThanOrEqual(1);
        // The guard's throw did not run; compareUsers was never called (V8 may leave a function that
        // did not run out of later reports, so absent counts as not executed).
        expect(lines?.get(30)).toBe(0);
        expect(lines?.get(24) ?? 0).toBe(0);
      }
    } finally {
      await harness.close();
    }
  });
});
