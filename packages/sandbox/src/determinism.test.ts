import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DownstreamCall } from '@tracemend/contracts';
import { handToSandboxUser, testDriver, testLogger } from '../test/fixtures';
import { buildBaseImage, sandboxImageTag } from './image/build-base-image';
import { ResidentHarness, type ReplayJob, type ReplayResult } from './replay';

const runId = `${process.pid}-${Date.now()}`;
const labels = { 'tracemend.incident': `test-${runId}` };
const RECORDED_AT = '2026-11-20T10:42:17.503Z';
const RECORDED_MS = Date.parse(RECORDED_AT);
let root: string;
let probeDir: string;
let harness: ResidentHarness;

// Reports what replayed code sees of the clock, randomness, locale and node:http.
const PROBE_SOURCE = `
import { getRandomValues, randomBytes, randomFill, randomFillSync, randomInt, randomUUID } from 'node:crypto';
import { get } from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

// About 50 ms of CPU work, measured with process.cpuUsage(), which the harness leaves alone.
function work(): number {
  const start = process.cpuUsage();
  let rounds = 0;
  while (process.cpuUsage(start).user < 50_000) rounds++;
  return rounds;
}

function read() {
  return { date: Date.now(), iso: new Date().toISOString(), perf: performance.now(), hr: process.hrtime.bigint().toString(), hrPair: process.hrtime() };
}

export async function clock() {
  const start = read();
  const readings = Array.from({ length: 2000 }, () => performance.now());
  work();
  const afterWork = read();
  // A busy-wait on the frozen clock cannot progress; bounded here so the probe returns.
  const deadline = Date.now() + 20;
  let spins = 0;
  while (Date.now() < deadline && spins < 100_000) spins++;
  await new Promise((resolve) => setTimeout(resolve, 100));
  const afterTimeout = read();
  const ticks: number[] = [];
  await new Promise<void>((resolve) => {
    const interval = setInterval(() => {
      ticks.push(Date.now() - start.date);
      if (ticks.length === 3) {
        clearInterval(interval);
        resolve();
      }
    }, 25);
  });
  await sleep(30);
  const afterPromises = read();
  await promisify(setTimeout)(20);
  const afterPromisified = read();
  // Timers that are due together fire in order, and the clock never goes back.
  const order: number[] = [];
  await new Promise<void>((resolve) => {
    setTimeout(() => order.push(performance.now()), 40);
    setTimeout(() => order.push(performance.now()), 10);
    setTimeout(() => {
      order.push(performance.now());
      resolve();
    }, 60);
  });
  return {
    start,
    origin: performance.timeOrigin,
    frozen: readings.every((value) => value === start.perf),
    afterWork,
    spins,
    afterTimeout,
    ticks,
    afterPromises,
    afterPromisified,
    order,
  };
}

// Leaves an interval running after the job ends: a later job's clock must not move with it.
export function leakInterval() {
  setInterval(() => undefined, 3);
  return true;
}

export async function randomness() {
  return {
    bytes: randomBytes(8).toString('hex'),
    callbackBytes: (await promisify(randomBytes)(4)).toString('hex'),
    web: Array.from(globalThis.crypto.getRandomValues(new Uint8Array(8))),
    node: Array.from(getRandomValues(new Uint16Array(4))),
    fill: randomFillSync(Buffer.alloc(4)).toString('hex'),
    fillAsync: Array.from(await promisify(randomFill)(new Uint32Array(2))),
    ints: [randomInt(1000), randomInt(10, 20), await promisify(randomInt)(5)],
    uuid: randomUUID(),
    webUuid: globalThis.crypto.randomUUID(),
  };
}

export function locale() {
  return {
    resolved: Intl.DateTimeFormat().resolvedOptions().locale,
    constructed: new Intl.NumberFormat().resolvedOptions().locale,
    collator: new Intl.Collator().resolvedOptions().locale,
    sorted: ['z', 'ä', 'a'].sort((left, right) => left.localeCompare(right)),
    number: (1234.5).toLocaleString(),
    formatted: new Intl.NumberFormat(undefined, { style: 'currency', currency: 'EUR' }).format(1234.5),
    explicit: new Intl.NumberFormat('en-US').format(1234.5),
    date: new Date(Date.UTC(2026, 10, 20)).toLocaleDateString(undefined, { timeZone: 'UTC', dateStyle: 'long' }),
    lang: process.env.LANG ?? null,
  };
}

function answer(response: import('node:http').IncomingMessage): Promise<{ status: number | undefined; body: string }> {
  return new Promise((resolve) => {
    let body = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (body += chunk));
    response.on('end', () => resolve({ status: response.statusCode, body }));
  });
}

export function httpGet(url: string) {
  return new Promise((resolve) => {
    get(url, (response) => void answer(response).then(resolve)).on('error', (error) => resolve({ error: error.message }));
  });
}

export function httpsPost(host: string, path: string, body: unknown) {
  return new Promise((resolve) => {
    const request = https.request({ method: 'POST', host, path, headers: { 'content-type': 'application/json' } }, (response) => void answer(response).then(resolve));
    request.on('error', (error) => resolve({ error: error.message }));
    request.end(JSON.stringify(body));
  });
}
`;

function job(id: string, exportName: string, args: unknown[], overrides: Partial<ReplayJob> = {}): ReplayJob {
  return {
    id,
    entry: { kind: 'function', module: 'src/probe.ts', export: exportName, args: args as never[] },
    environment: { featureFlags: {}, env: {} },
    timing: { recordedAt: RECORDED_AT },
    downstream: [],
    ...overrides,
  };
}

function returned(result: ReplayResult): Record<string, unknown> {
  if (result.outcome !== 'returned') throw new Error(`expected a return, got ${JSON.stringify(result)}`);
  return result.value as Record<string, unknown>;
}

beforeAll(async () => {
  await buildBaseImage();
  root = await mkdtemp(join(tmpdir(), 'tracemend-determinism-'));
  probeDir = join(root, 'probe');
  await mkdir(join(probeDir, 'src'), { recursive: true });
  await writeFile(join(probeDir, 'package.json'), JSON.stringify({ name: 'probe', version: '1.0.0', type: 'module', private: true }));
  await writeFile(join(probeDir, 'src', 'probe.ts'), PROBE_SOURCE);
  await handToSandboxUser(probeDir);
  harness = await ResidentHarness.start({ driver: testDriver, image: sandboxImageTag(), repoDir: probeDir, labels, logger: testLogger });
});

afterAll(async () => {
  await harness?.close();
  await testDriver.reapOrphans({ olderThanMs: 0, labels });
  await rm(root, { recursive: true, force: true });
});

describe('the replay harness: clock', () => {
  it('freezes Date, performance.now() and process.hrtime at the recorded instant and moves them only with timers', async () => {
    // The first job also loads the module; the second shows the clock as a job with warm modules sees it.
    await harness.judge(job('warm', 'clock', []));
    const result = await harness.judge(job('clock', 'clock', []));
    const sample = returned(result);
    const at = (ms: number) => ({ date: RECORDED_MS + ms, iso: new Date(RECORDED_MS + ms).toISOString(), perf: ms, hr: ((BigInt(RECORDED_MS) + BigInt(ms)) * 1_000_000n).toString() });
    expect(sample.origin).toBe(RECORDED_MS);
    expect(sample.start).toMatchObject(at(0));
    expect(sample.start).toMatchObject({ hrPair: [Math.floor(RECORDED_MS / 1000), (RECORDED_MS % 1000) * 1_000_000] });
    expect(sample.frozen).toBe(true);
    // 50 ms of synchronous work leave the clock where it was; a busy-wait on it cannot progress.
    expect(sample.afterWork).toMatchObject(at(0));
    expect(sample.spins).toBe(100_000);
    // Each timer moves the clock to its own due time: exactly its delay later.
    expect(sample.afterTimeout).toMatchObject(at(100));
    expect(sample.ticks).toEqual([125, 150, 175]);
    expect(sample.afterPromises).toMatchObject(at(205));
    expect(sample.afterPromisified).toMatchObject(at(225));
    expect(sample.order).toEqual([235, 265, 285]);
    // Timers still wait in real time: 50 ms of work and 285 ms of timers took at least that long.
    expect(result.outcome === 'returned' && result.durationMs).toBeGreaterThanOrEqual(330);

    // A second run of the same job reads exactly the same values.
    expect(returned(await harness.judge(job('clock-again', 'clock', [])))).toEqual(sample);

    const later = returned(await harness.judge(job('later', 'clock', [], { timing: { recordedAt: '2027-01-01T00:00:00.000Z' } })));
    expect(later.origin).toBe(Date.parse('2027-01-01T00:00:00.000Z'));
    expect(later.start).toMatchObject({ date: Date.parse('2027-01-01T00:00:00.000Z'), perf: 0 });
    expect(later.afterTimeout).toMatchObject({ date: Date.parse('2027-01-01T00:00:00.100Z'), perf: 100 });
  });

  it('starts every job at its own recordedAt, unmoved by timers an earlier job left running', async () => {
    expect(returned(await harness.judge(job('leak', 'leakInterval', [])))).toBe(true);
    const first = returned(await harness.judge(job('after-leak-1', 'clock', [])));
    const second = returned(await harness.judge(job('after-leak-2', 'clock', [])));
    expect(first.start).toMatchObject({ date: RECORDED_MS, perf: 0 });
    expect(first.afterTimeout).toMatchObject({ date: RECORDED_MS + 100, perf: 100 });
    expect(first.order).toEqual([235, 265, 285]);
    expect(second).toEqual(first);
  });
});

describe('the replay harness: randomness', () => {
  it('seeds randomBytes, randomFill, randomInt, getRandomValues and both randomUUIDs per job', async () => {
    const first = returned(await harness.judge(job('random-1', 'randomness', [])));
    const second = returned(await harness.judge(job('random-2', 'randomness', [])));
    const seeded = returned(await harness.judge(job('random-3', 'randomness', [], { timing: { recordedAt: RECORDED_AT, randomSeed: 7 } })));
    expect(second).toEqual(first);
    expect(seeded.bytes).not.toBe(first.bytes);
    expect(seeded.web).not.toEqual(first.web);
    // node:crypto's and Web Crypto's randomUUID are seeded too: equal across runs, different with another seed.
    for (const key of ['uuid', 'webUuid']) {
      expect(first[key]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(seeded[key]).not.toBe(first[key]);
    }
    expect(first.webUuid).not.toBe(first.uuid);
    expect(first.bytes).toMatch(/^[0-9a-f]{16}$/);
    expect(first.bytes).not.toBe('0000000000000000');
    expect(new Set([first.bytes, first.callbackBytes, first.fill]).size).toBe(3);
    expect((first.web as number[]).some((byte) => byte !== 0)).toBe(true);
    const [below1000, from10, below5] = first.ints as number[];
    expect(below1000).toBeGreaterThanOrEqual(0);
    expect(below1000).toBeLessThan(1000);
    expect(from10).toBeGreaterThanOrEqual(10);
    expect(from10).toBeLessThan(20);
    expect(below5).toBeLessThan(5);
  });
});

describe('the replay harness: locale', () => {
  it('makes the envelope locale the default of Intl and toLocaleString, per job', async () => {
    const swedish = returned(await harness.judge(job('sv', 'locale', [], { environment: { featureFlags: {}, env: {}, locale: 'sv-SE' } })));
    expect(swedish).toEqual({
      resolved: 'sv-SE',
      constructed: 'sv-SE',
      collator: new Intl.Collator('sv-SE').resolvedOptions().locale,
      // Swedish sorts ä after z.
      sorted: ['a', 'z', 'ä'],
      number: new Intl.NumberFormat('sv-SE').format(1234.5),
      formatted: new Intl.NumberFormat('sv-SE', { style: 'currency', currency: 'EUR' }).format(1234.5),
      explicit: '1,234.5',
      date: new Date(Date.UTC(2026, 10, 20)).toLocaleDateString('sv-SE', { timeZone: 'UTC', dateStyle: 'long' }),
      lang: 'sv-SE',
    });
    expect(swedish.date).toBe('20 november 2026');

    const posix = returned(await harness.judge(job('de', 'locale', [], { environment: { featureFlags: {}, env: {}, locale: 'de_DE.UTF-8' } })));
    expect(posix).toMatchObject({ resolved: 'de-DE', number: '1.234,5', lang: 'de_DE.UTF-8' });

    const none = returned(await harness.judge(job('none', 'locale', [])));
    expect(none).toMatchObject({ resolved: 'en-US', number: '1,234.5', sorted: ['a', 'ä', 'z'], lang: null });
  });
});

describe('the replay harness: node:http and node:https', () => {
  const downstream: DownstreamCall[] = [
    { method: 'GET', urlTemplate: '/v1/charges/ch_1', url: 'http://payments.internal:8080/v1/charges/ch_1', status: 402, responseHeaders: { 'content-type': 'application/json', 'content-length': '1' }, responseBody: { error: 'card_declined' } },
    { method: 'POST', urlTemplate: '/entries', url: 'https://ledger.example.com/entries', status: 201, responseHeaders: { 'content-type': 'application/json' }, responseBody: { id: 'e1' } },
  ];

  it('serves recorded calls to http.get and https.request and fails unrecorded ones loudly', async () => {
    const served = await harness.judge(job('http-get', 'httpGet', ['http://payments.internal:8080/v1/charges/ch_1'], { downstream }));
    expect(returned(served)).toEqual({ status: 402, body: '{"error":"card_declined"}' });
    expect(served.outcome === 'returned' && served.unrecordedCalls).toEqual([]);

    const posted = await harness.judge(job('https-post', 'httpsPost', ['ledger.example.com', '/entries', { amount: 5 }], { downstream }));
    expect(returned(posted)).toEqual({ status: 201, body: '{"id":"e1"}' });

    const missing = await harness.judge(job('http-miss', 'httpGet', ['http://payments.internal:8080/v1/charges/ch_2'], { downstream }));
    expect(returned(missing)).toEqual({ error: 'tracemend replay: unrecorded downstream call GET http://payments.internal:8080/v1/charges/ch_2' });
    expect(missing.outcome === 'returned' && missing.unrecordedCalls).toEqual(['GET http://payments.internal:8080/v1/charges/ch_2']);
  });
});
