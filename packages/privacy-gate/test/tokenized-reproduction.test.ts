// The gate must not change what a replay shows: each fixture incident is reproduced in the Docker
// sandbox from its ungated envelope and from the gated one (tokens instead of personal data), and
// both must show the same failure signature. Needs a Docker engine and builds the sandbox image.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseContract, Reproduction, type FailureEnvelope } from '@tracemend/contracts';
import { FIXTURE_BUGS, FIXTURE_CATALOG, fixtureAlertPaths, loadFixtureRepo, type FixtureServiceName } from '@tracemend/fixture-kit';
import { buildEnvelope, type OtlpLogs, type OtlpTraces } from '@tracemend/ingest';
import { buildBaseImage, DockerSandboxDriver, grantSandboxAccess, installDependencies, reproduce, sandboxImageTag } from '@tracemend/sandbox';
import { createLogger } from '@tracemend/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from '../src/audit';
import { loadDataContractForService } from '../src/contract';
import { knownRawValues, rawValueHasher, scanForLeaks } from '../src/egress';
import { gateEnvelopeDetailed } from '../src/gate';

const CONTRACTS = new URL('../../../fixtures/contracts/', import.meta.url).pathname;
const KEY = { id: 'k-repro', secret: 'test-only-token-key-for-reproduction-0123' };
const SERVICES = ['users-api', 'leaderboard', 'checkout-worker'] as const satisfies readonly FixtureServiceName[];
/** Values of the entry the fixture contracts replace: leaderboard's failing snapshot is null, so it carries none. */
const MIN_REPLACED_IN_ENTRY: Record<(typeof SERVICES)[number], number> = { 'users-api': 4, leaderboard: 0, 'checkout-worker': 6 };
/** Installs are keyed by lockfile hash, so a cache shared between runs is warm after the first. */
const DEPS_CACHE = join(tmpdir(), 'tracemend-sandbox-test-deps');

const logger = createLogger({ name: 'tokenized-reproduction-test', level: 'silent' });
const driver = new DockerSandboxDriver({ logger });
const labels = { 'tracemend.incident': `test-tokenized-${process.pid}-${Date.now()}` };
let root: string;

beforeAll(async () => {
  await buildBaseImage();
  root = await mkdtemp(join(tmpdir(), 'tracemend-tokenized-repro-'));
}, 600_000);

afterAll(async () => {
  await driver.reapOrphans({ olderThanMs: 0, labels });
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

/** The ungated envelope ingest builds from a fixture's committed trace and log exports. */
async function ungatedEnvelope(name: FixtureServiceName): Promise<FailureEnvelope> {
  const paths = fixtureAlertPaths(name);
  const receivedAt = '2026-11-20T12:00:00.000Z';
  return buildEnvelope({
    traces: { source: { alertId: 'a'.repeat(64), format: 'otlp-traces-json', receivedAt }, body: JSON.parse(await readFile(paths.traces, 'utf8')) as OtlpTraces },
    logs: [{ source: { alertId: 'b'.repeat(64), format: 'otlp-logs-json', receivedAt }, body: JSON.parse(await readFile(paths.logs, 'utf8')) as OtlpLogs }],
  });
}

/** Strings of the ungated data-bearing parts the gate replaced (tokenized, hashed, redacted or dropped). */
function changedLeaves(before: unknown, after: unknown, out: string[] = []): string[] {
  if (typeof before === 'string') {
    if (before !== after) out.push(before);
  } else if (Array.isArray(before)) {
    before.forEach((item, index) => changedLeaves(item, Array.isArray(after) ? (after as unknown[])[index] : undefined, out));
  } else if (before !== null && typeof before === 'object') {
    const other = after !== null && typeof after === 'object' ? (after as Record<string, unknown>) : {};
    for (const [key, value] of Object.entries(before)) changedLeaves(value, other[key], out);
  }
  return out;
}

describe('reproduction with tokens behaves as with the raw values', () => {
  it.each(SERVICES)(
    '%s: the gated envelope reproduces the same failure signature as the ungated one',
    async (name) => {
      const repo = await loadFixtureRepo(name, join(root, name));
      const { depsDir } = await installDependencies({ repoDir: repo.dir, cacheRoot: DEPS_CACHE });
      await grantSandboxAccess(repo.dir);

      const raw = await ungatedEnvelope(name);
      const audit = createAuditLog({ file: join(root, `${name}-audit.jsonl`), key: KEY });
      const { gated, rawValueHashes } = await gateEnvelopeDetailed({ envelope: raw, contract: await loadDataContractForService(CONTRACTS, name), key: KEY, audit });
      // The replay input really differs, and nothing the gate removed reaches it.
      const replacedInEntry = changedLeaves(raw.entry, gated.envelope.entry).filter((value) => value.length >= 4);
      expect(replacedInEntry.length).toBeGreaterThanOrEqual(MIN_REPLACED_IN_ENTRY[name]);
      const replayInput = JSON.stringify([gated.envelope.entry, gated.envelope.downstream, gated.envelope.environment]);
      for (const value of replacedInEntry) expect(replayInput).not.toContain(value);
      expect(scanForLeaks(replayInput, { knownRawValueHashes: knownRawValues(rawValueHashes, rawValueHasher(KEY)) })).toEqual([]);

      const httpApp = FIXTURE_CATALOG[name].httpApp;
      const run = async (envelope: FailureEnvelope): Promise<Reproduction> =>
        parseContract(
          Reproduction,
          await reproduce({ driver, image: sandboxImageTag(), repoDir: repo.dir, depsDir, envelope, labels, logger, ...(httpApp ? { handlers: { httpApp } } : {}) }),
          'Reproduction',
        );
      const before = await run(raw);
      const after = await run(gated.envelope);

      expect(before.reproduced, before.reason).toBe(true);
      expect(after.reproduced, after.reason).toBe(true);
      expect(after.matchingRuns).toBe(before.matchingRuns);
      expect(after.observed).toEqual(before.observed);
      expect(after.expected).toEqual(before.expected);
      expect(after.observed?.errorType).toBe(FIXTURE_BUGS[name].errorType);
      expect(after.observed?.frames[0]).toEqual({ function: FIXTURE_BUGS[name].function, file: FIXTURE_BUGS[name].file });
    },
    600_000,
  );
});
