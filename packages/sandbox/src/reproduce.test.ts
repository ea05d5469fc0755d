import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseContract, Reproduction, type FailureEnvelope } from '@tracemend/contracts';
import { FIXTURE_BUGS, type FixtureServiceName } from '@tracemend/fixture-kit';
import { fixtureEnvelope, handToSandboxUser, prepareFixture, testDriver, testLogger, type PreparedRepo } from '../test/fixtures';
import { buildBaseImage, sandboxImageTag } from './image/build-base-image';
import { DEFAULT_REPRODUCTION_RUNS, DEFAULT_REPRODUCTION_THRESHOLD, reproduce, type ReproduceOptions } from './reproduce';

// Fails depending on a counter kept in the container's /tmp, which the harness neither resets nor
// seeds: like a race, the outcome changes from one replay to the next inside one container.
const FLAKY_SOURCE = `
import { readFileSync, writeFileSync } from 'node:fs';

const COUNTER = '/tmp/settle-attempts';

function nextAttempt(): number {
  let attempts = 0;
  try {
    attempts = Number(readFileSync(COUNTER, 'utf8')) || 0;
  } catch {
    attempts = 0;
  }
  writeFileSync(COUNTER, String(attempts + 1));
  return attempts + 1;
}

export function settle(succeedEvery: number): string {
  if (nextAttempt() % succeedEvery !== 0) throw new Error('settlement lock was held by another worker');
  return 'settled';
}
`;
const FLAKY_MESSAGE = 'settlement lock was held by another worker';

const USERS_API_APP = { module: 'src/app.ts', export: 'createApp' };
const runId = `${process.pid}-${Date.now()}`;
let root: string;
let flakyDir: string;
const repos = new Map<FixtureServiceName, PreparedRepo>();

beforeAll(async () => {
  await buildBaseImage();
  root = await mkdtemp(join(tmpdir(), 'tracemend-reproduce-'));
  for (const name of ['users-api', 'leaderboard', 'checkout-worker'] as const) repos.set(name, await prepareFixture(name, root));
  flakyDir = join(root, 'flaky');
  await mkdir(join(flakyDir, 'src'), { recursive: true });
  await writeFile(join(flakyDir, 'package.json'), JSON.stringify({ name: 'flaky', version: '1.0.0', type: 'module', private: true }));
  await writeFile(join(flakyDir, 'src', 'settle.ts'), FLAKY_SOURCE);
  await handToSandboxUser(flakyDir);
});

afterAll(async () => {
  await testDriver.reapOrphans({ olderThanMs: 0, labels: { 'tracemend.incident': `test-${runId}` } });
  await rm(root, { recursive: true, force: true });
});

function repo(name: FixtureServiceName): PreparedRepo {
  const prepared = repos.get(name);
  if (!prepared) throw new Error(`${name} was not prepared`);
  return prepared;
}

async function replay(name: FixtureServiceName, envelope: FailureEnvelope): Promise<Reproduction> {
  const { repoDir, depsDir } = repo(name);
  return await reproduceIn({ repoDir, depsDir, envelope, ...(name === 'users-api' ? { handlers: { httpApp: USERS_API_APP } } : {}) });
}

async function reproduceIn(options: Pick<ReproduceOptions, 'repoDir' | 'envelope'> & Partial<ReproduceOptions>): Promise<Reproduction> {
  const reproduction = await reproduce({
    driver: testDriver,
    image: sandboxImageTag(),
    labels: { 'tracemend.incident': `test-${runId}` },
    logger: testLogger,
    ...options,
  });
  return parseContract(Reproduction, reproduction, 'Reproduction');
}

/** An envelope whose entry calls the flaky fixture's `settle(succeedEvery)` and whose symptom is its error. */
async function flakyEnvelope(succeedEvery: number): Promise<FailureEnvelope> {
  const base = await fixtureEnvelope('leaderboard');
  return {
    ...base,
    entry: { kind: 'function', module: 'src/settle.ts', export: 'settle', args: [succeedEvery] },
    symptom: {
      errorType: 'Error',
      message: FLAKY_MESSAGE,
      messageHash: createHash('sha256').update(FLAKY_MESSAGE).digest('hex'),
      frames: [{ file: 'src/settle.ts', line: 18, column: 49, function: 'settle', inApp: true }],
    },
    downstream: [],
  };
}

describe('reproduce over the recorded fixture alerts', () => {
  it.each(['users-api', 'leaderboard', 'checkout-worker'] as const)('%s reproduces its recorded signature in every run', async (name) => {
    const envelope = await fixtureEnvelope(name);
    const reproduction = await replay(name, envelope);
    const bug = FIXTURE_BUGS[name];
    expect(reproduction.reproduced, reproduction.reason).toBe(true);
    expect(reproduction.runs).toBe(5);
    expect(reproduction.matchingRuns).toBe(5);
    expect(reproduction.rate).toBe(1);
    expect(reproduction.observed).toEqual(reproduction.expected);
    expect(reproduction.expected.errorType).toBe(bug.errorType);
    expect(reproduction.observed?.frames[0]).toEqual({ function: bug.function, file: bug.file });
    expect(reproduction.reason).toBe(`reproduced in 5 of 5 runs (100%): ${bug.errorType} "${reproduction.expected.normalizedMessage}" at ${bug.function} (${bug.file})`);
    expect(reproduction.sandbox).toEqual({ driver: 'docker', image: sandboxImageTag() });
  });

  it('checkout-worker does not reproduce with the newPricing flag off', async () => {
    const envelope = await fixtureEnvelope('checkout-worker');
    const flagOff: FailureEnvelope = { ...envelope, environment: { ...envelope.environment, featureFlags: { newPricing: false }, env: { INVENTORY_URL: 'http://inventory.internal:8080' } } };
    const reproduction = await replay('checkout-worker', flagOff);
    expect(reproduction.reproduced).toBe(false);
    expect(reproduction.matchingRuns).toBe(0);
    expect(reproduction.observed).toBeUndefined();
    expect(reproduction.rate).toBe(0);
    expect(reproduction.reason).toBe('matched in 0 of 5 runs (0%), below the required 80%; run 1: the entry returned without an error');
  });

  it('checkout-worker reports the downstream call that has no recording', async () => {
    const envelope = await fixtureEnvelope('checkout-worker');
    const withoutDesk = { ...envelope, downstream: envelope.downstream.filter((call) => !call.url.endsWith('/DESK-19')) };
    expect(withoutDesk.downstream).toHaveLength(1);
    const reproduction = await replay('checkout-worker', withoutDesk);
    expect(reproduction.reproduced).toBe(false);
    expect(reproduction.observed?.errorType).toBe('Error');
    expect(reproduction.reason).toContain('observed Error "tracemend replay: unrecorded downstream call GET');
    expect(reproduction.reason).toContain('instead of TypeError');
    expect(reproduction.reason).toContain('; unrecorded downstream call GET http://inventory.internal:8080/v1/inventory/DESK-19');
  });

  it('users-api does not reproduce when the body carries preferences.marketing', async () => {
    const envelope = await fixtureEnvelope('users-api');
    if (envelope.entry.kind !== 'http') throw new Error('expected an http entry');
    const body = envelope.entry.body as { preferences: Record<string, unknown> };
    const fixed: FailureEnvelope = { ...envelope, entry: { ...envelope.entry, body: { ...body, preferences: { ...body.preferences, marketing: [] } } } };
    const reproduction = await replay('users-api', fixed);
    expect(reproduction.reproduced).toBe(false);
    expect(reproduction.reason).toBe('matched in 0 of 5 runs (0%), below the required 80%; run 1: the request answered HTTP 201 without an error');
  });
});

describe('reproduce measures flakiness', () => {
  it('defaults to 5 runs and a required rate of 80%', () => {
    expect(DEFAULT_REPRODUCTION_RUNS).toBe(5);
    expect(DEFAULT_REPRODUCTION_THRESHOLD).toBe(0.8);
  });

  it('reports a failure that shows in 3 of 5 runs as not reproducible, with its rate', async () => {
    const reproduction = await reproduceIn({ repoDir: flakyDir, envelope: await flakyEnvelope(2) });
    expect(reproduction.reproduced).toBe(false);
    expect(reproduction.runs).toBe(5);
    expect(reproduction.matchingRuns).toBe(3);
    expect(reproduction.rate).toBe(0.6);
    // Attempts 1, 3 and 5 fail; run 2 is the first that does not.
    expect(reproduction.reason).toBe('matched in 3 of 5 runs (60%), below the required 80%; run 2: the entry returned without an error');
    expect(reproduction.observed).toBeUndefined();
  });

  it('counts 4 of 5 as reproduced at the default rate and 3 of 5 as reproduced at a lower configured one', async () => {
    const mostly = await reproduceIn({ repoDir: flakyDir, envelope: await flakyEnvelope(5) });
    expect(mostly.reproduced, mostly.reason).toBe(true);
    expect(mostly.matchingRuns).toBe(4);
    expect(mostly.rate).toBe(0.8);
    expect(mostly.reason).toBe('reproduced in 4 of 5 runs (80%), at least the required 80%; run 5: the entry returned without an error');
    expect(mostly.observed).toEqual(mostly.expected);
    expect(mostly.expected.frames).toEqual([{ function: 'settle', file: 'src/settle.ts' }]);

    const lenient = await reproduceIn({ repoDir: flakyDir, envelope: await flakyEnvelope(2), threshold: 0.5 });
    expect(lenient.reproduced).toBe(true);
    expect(lenient.reason).toBe('reproduced in 3 of 5 runs (60%), at least the required 50%; run 2: the entry returned without an error');

    const strict = await reproduceIn({ repoDir: flakyDir, envelope: await flakyEnvelope(2), runs: 2, threshold: 1 });
    expect(strict).toMatchObject({ reproduced: false, runs: 2, matchingRuns: 1, rate: 0.5 });
    expect(strict.reason).toBe('matched in 1 of 2 runs (50%), below the required 100%; run 2: the entry returned without an error');
  });

  it('rejects a threshold outside (0, 1]', async () => {
    for (const threshold of [0, 1.5, Number.NaN]) {
      await expect(reproduceIn({ repoDir: flakyDir, envelope: await flakyEnvelope(2), threshold })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    }
  });
});
