import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseContract, Reproduction, type FailureEnvelope } from '@tracemend/contracts';
import { FIXTURE_BUGS, type FixtureServiceName } from '@tracemend/fixture-kit';
import { fixtureEnvelope, prepareFixture, testDriver, testLogger, type PreparedRepo } from '../test/fixtures';
import { buildBaseImage, sandboxImageTag } from './image/build-base-image';
import { reproduce } from './reproduce';

const USERS_API_APP = { module: 'src/app.ts', export: 'createApp' };
const runId = `${process.pid}-${Date.now()}`;
let root: string;
const repos = new Map<FixtureServiceName, PreparedRepo>();

beforeAll(async () => {
  await buildBaseImage();
  root = await mkdtemp(join(tmpdir(), 'tracemend-reproduce-'));
  for (const name of ['users-api', 'leaderboard', 'checkout-worker'] as const) repos.set(name, await prepareFixture(name, root));
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
  const reproduction = await reproduce({
    driver: testDriver,
    image: sandboxImageTag(),
    repoDir,
    depsDir,
    envelope,
    ...(name === 'users-api' ? { httpApp: USERS_API_APP } : {}),
    labels: { 'tracemend.incident': `test-${runId}` },
    logger: testLogger,
  });
  return parseContract(Reproduction, reproduction, 'Reproduction');
}

describe('reproduce over the recorded fixture alerts', () => {
  it.each(['users-api', 'leaderboard', 'checkout-worker'] as const)('%s reproduces its recorded signature in every run', async (name) => {
    const envelope = await fixtureEnvelope(name);
    const reproduction = await replay(name, envelope);
    const bug = FIXTURE_BUGS[name];
    expect(reproduction.reproduced, reproduction.reason).toBe(true);
    expect(reproduction.runs).toBe(3);
    expect(reproduction.matchingRuns).toBe(3);
    expect(reproduction.rate).toBe(1);
    expect(reproduction.observed).toEqual(reproduction.expected);
    expect(reproduction.expected.errorType).toBe(bug.errorType);
    expect(reproduction.observed?.frames[0]).toEqual({ function: bug.function, file: bug.file });
    expect(reproduction.reason).toBe(`reproduced in 3 of 3 runs: ${bug.errorType} "${reproduction.expected.normalizedMessage}" at ${bug.function} (${bug.file})`);
    expect(reproduction.sandbox).toEqual({ driver: 'docker', image: sandboxImageTag() });
  });

  it('checkout-worker does not reproduce with the newPricing flag off', async () => {
    const envelope = await fixtureEnvelope('checkout-worker');
    const flagOff: FailureEnvelope = { ...envelope, environment: { ...envelope.environment, featureFlags: { newPricing: false }, env: { INVENTORY_URL: 'http://inventory.internal:8080' } } };
    const reproduction = await replay('checkout-worker', flagOff);
    expect(reproduction.reproduced).toBe(false);
    expect(reproduction.matchingRuns).toBe(0);
    expect(reproduction.observed).toBeUndefined();
    expect(reproduction.reason).toBe('not reproduced in 3 runs: the entry returned without an error');
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
    expect(reproduction.reason).toBe('not reproduced in 3 runs: the request answered HTTP 201 without an error');
  });
});
