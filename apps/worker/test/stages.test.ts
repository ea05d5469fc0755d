import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtureAlertPaths, loadFixtureRepo } from '@tracemend/fixture-kit';
import { createEvidenceStore, parseAlert, traceIdsOf } from '@tracemend/ingest';
import { verifyAuditLog } from '@tracemend/privacy-gate';
import { createLogger } from '@tracemend/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../src/env';
import { buildStages } from '../src/stages';
import { localTokenKey, workerTokenKey } from '../src/token-key';

const contracts = fileURLToPath(new URL('../../../fixtures/contracts/', import.meta.url));
const logger = createLogger({ name: 'stages-test', level: 'silent' });
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-stages-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the stages the worker builds', () => {
  it('take a stored users-api alert through ingest, the privacy gate and triage', async () => {
    const catalog = join(dir, 'tracemend.config.yaml');
    // The released fixture repository, on this machine: ingest matches frames to its files, triage resolves its commit.
    const repo = await loadFixtureRepo('users-api', join(dir, 'users-api'));
    await writeFile(
      catalog,
      [
        'version: 1',
        'services:',
        '  users-api:',
        `    repository: { owner: acme, name: users-api, cloneUrl: ${JSON.stringify(repo.dir)} }`,
        '    test: { runner: vitest, command: [npx, vitest, run] }',
        `    dataContract: ${join(contracts, 'users-api.yaml')}`,
        '    httpApp: { module: src/app.ts, export: createApp }',
        '',
      ].join('\n'),
    );
    const config = { ...loadWorkerConfig({}), stateDir: dir, catalogFile: catalog };
    const stages = await buildStages(config, logger);
    expect(Object.keys(stages).sort()).toEqual(['gate', 'ingest', 'localize', 'minimize', 'openPullRequest', 'repair', 'reproduce', 'triage', 'verify']);

    const store = createEvidenceStore(join(dir, 'evidence'));
    const raw = await readFile(fixtureAlertPaths('users-api').traces);
    const alert = await store.putAlert({ bytes: raw, format: 'otlp-traces-json', traceIds: traceIdsOf(parseAlert(raw, 'otlp-traces-json')) });

    const envelopeRef = await stages.ingest!({ incidentId: 'inc-1', alert });
    const gated = await stages.gate!({ incidentId: 'inc-1', envelope: envelopeRef });
    const target = await stages.triage!({ incidentId: 'inc-1', gated });

    expect(target).toMatchObject({ service: 'users-api', sha: repo.sha, resolvedFrom: { how: 'sha' }, httpApp: { module: 'src/app.ts', export: 'createApp' } });
    expect(envelopeRef.version).toBe(repo.sha);
    const envelope = await store.getEnvelope(envelopeRef.envelopeId);
    expect(envelope.provenance.notes.at(-1)).toMatch(new RegExp(`^stack frames were matched to the \\d+ files of acme/users-api at ${repo.sha.slice(0, 12)}`));
    expect(envelope.symptom.frames.find((frame) => frame.inApp)).toMatchObject({ file: 'src/users.ts', function: 'normalizePreferences' });
    const text = JSON.stringify(gated);
    for (const raw of ['Mara Lindqvist', 'mara.lindqvist@example.com', '+46701234567', 'sk_live_51NfT8qL2bX9vK3mQ7pR4sW6yZ0aC5dE8', '203.0.113.42']) {
      expect(text).not.toContain(raw);
    }
    expect(gated.envelope.entry).toMatchObject({ kind: 'http', body: { preferences: { newsletter: true } } });
    expect((await verifyAuditLog(join(dir, 'audit', 'privacy.jsonl'), { key: await workerTokenKey(config) })).ok).toBe(true);
    expect((await store.getRawValueHashes(gated.privacy.audit.recordHash)).length).toBeGreaterThan(0);
  });

  it('creates the local token key once, private to its owner', async () => {
    const keys = join(dir, 'keys-once');
    const first = await localTokenKey(keys);
    expect(await localTokenKey(keys)).toEqual(first);
    expect(Buffer.from(first.secret, 'base64')).toHaveLength(32);
    expect((await stat(join(keys, 'token-key.json'))).mode & 0o777).toBe(0o600);
  });
});
