import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TracemendError } from '@tracemend/contracts';
import { fixtureAlertPaths } from '@tracemend/fixture-kit';
import { createLogger } from '@tracemend/telemetry';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIngestActivities } from './activities';
import { parseAlert, traceIdsOf } from './alerts';
import { createEvidenceStore, type EvidenceStore } from './evidence-store';
import { fingerprint } from './fingerprint';
import { createGitRepositories } from './git';
import { initRepository } from './testing/git-repo';
import { LOGGED_APP_ROOT, recordLoggedFailure } from './testing/log-lines';
import { createVersionResolver } from './version';

let dir: string;
let store: EvidenceStore;
const logger = createLogger({ name: 'ingest-test', level: 'silent' });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-evidence-'));
  store = createEvidenceStore(dir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function storeFixture(kind: 'traces' | 'logs') {
  const bytes = await readFile(fixtureAlertPaths('checkout-worker')[kind]);
  const format = kind === 'traces' ? 'otlp-traces-json' : 'otlp-logs-json';
  return store.putAlert({ bytes, format, traceIds: traceIdsOf(parseAlert(bytes, format)) });
}

describe('the ingest activity', () => {
  it('reads the stored alert, joins the log export of the same trace and stores the envelope', async () => {
    await storeFixture('logs');
    const alert = await storeFixture('traces');
    const ref = await createIngestActivities({ store, logger }).ingest({ incidentId: 'i1', alert });
    expect(ref).toMatchObject({ service: 'checkout-worker', errorType: 'TypeError' });
    const envelope = await store.getEnvelope(ref.envelopeId);
    expect(envelope.identity.fingerprint).toBe(ref.fingerprint);
    expect(envelope.logs.length).toBeGreaterThan(0);
    expect(envelope.provenance.sources).toHaveLength(2);
    // Content addressed: the same alert stores once under the same id.
    expect((await storeFixture('traces')).alertId).toBe(alert.alertId);
  });

  it('fails with clear codes for a missing alert, a log-only alert and a malformed body', async () => {
    const { ingest } = createIngestActivities({ store, logger });
    const missing = { schemaVersion: 1 as const, alertId: 'e'.repeat(64), format: 'otlp-traces-json' as const, receivedAt: new Date().toISOString(), sizeBytes: 1 };
    await expect(ingest({ incidentId: 'i2', alert: missing })).rejects.toMatchObject({ code: 'ALERT_NOT_FOUND' });

    const logsOnly = await storeFixture('logs');
    await expect(ingest({ incidentId: 'i3', alert: logsOnly })).rejects.toMatchObject({ code: 'NO_FAILURE_IN_ALERT' });

    const broken = await store.putAlert({ bytes: Buffer.from('{"resourceSpans": ['), format: 'otlp-traces-json' });
    const error = await ingest({ incidentId: 'i4', alert: broken }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TracemendError);
    expect((error as TracemendError).message).toMatch(/not valid JSON/);

    const wrongShape = await store.putAlert({ bytes: Buffer.from('{"resourceLogs": []}'), format: 'otlp-traces-json' });
    await expect(ingest({ incidentId: 'i5', alert: wrongShape })).rejects.toThrow(/no "resourceSpans" array/);

    const sentry = await store.putAlert({ bytes: Buffer.from('{}'), format: 'sentry-event' });
    await expect(ingest({ incidentId: 'i6', alert: sentry })).rejects.toThrow(/exception|INVALID_INPUT|NO_FAILURE/);
    const envelope = await store.putAlert({ bytes: Buffer.from('{}'), format: 'sentry-envelope' });
    await expect(ingest({ incidentId: 'i7', alert: envelope })).rejects.toMatchObject({ code: 'NO_FAILURE_IN_ALERT' });
  });

  it('refuses ids that are not hex, so no path can escape the store', async () => {
    await expect(store.getEnvelope('../../etc/passwd')).rejects.toThrow(/must be lowercase hex/);
    await expect(store.putRawValueHashes('../x', [])).rejects.toThrow(/must be lowercase hex/);
  });

  it('keeps the gate\'s raw-value hashes per audit record for the egress guard', async () => {
    expect(await store.getRawValueHashes('abc1234')).toEqual([]);
    await store.putRawValueHashes('abc1234', ['f2', 'e1']);
    expect(await store.getRawValueHashes('abc1234')).toEqual(['e1', 'f2']);
  });
});

describe('the ingest activity over JSON log lines', () => {
  async function storeAlert(text: string, format: 'log-lines' | 'otlp-traces-json') {
    const bytes = Buffer.from(text);
    return store.putAlert({ bytes, format, traceIds: traceIdsOf(parseAlert(bytes, format)) });
  }

  it('joins stored log lines to a trace that recorded no exception, from either side', async () => {
    const failure = await recordLoggedFailure({ recordException: false });
    const lines = await storeAlert(failure.lines.bunyan, 'log-lines');
    const trace = await storeAlert(JSON.stringify(failure.traces), 'otlp-traces-json');
    const { ingest } = createIngestActivities({ store, logger, appRoots: [LOGGED_APP_ROOT] });
    const fromTrace = await store.getEnvelope((await ingest({ incidentId: 'i1', alert: trace })).envelopeId);
    const fromLines = await store.getEnvelope((await ingest({ incidentId: 'i2', alert: lines })).envelopeId);
    for (const envelope of [fromTrace, fromLines]) {
      expect(envelope.identity).toMatchObject({ service: 'payments-api', spanId: failure.failingSpanId });
      expect(envelope.symptom.frames[0]).toMatchObject({ function: 'chargeCard', inApp: true });
      expect(envelope.provenance.sources.map((item) => [item.alertId, item.format])).toEqual([
        [trace.alertId, 'otlp-traces-json'],
        [lines.alertId, 'log-lines'],
      ]);
      expect(envelope.provenance.trace?.joined).toBe(true);
    }
    expect(fromLines).toEqual(fromTrace);
  });

  it('builds from log lines alone when their trace never arrived, and says so', async () => {
    const failure = await recordLoggedFailure({ recordException: true });
    const lines = await storeAlert(failure.lines.winston, 'log-lines');
    const ref = await createIngestActivities({ store, logger, appRoots: [LOGGED_APP_ROOT] }).ingest({ incidentId: 'i3', alert: lines });
    expect(ref).toMatchObject({ service: 'payments-api', errorType: 'TypeError' });
    const envelope = await store.getEnvelope(ref.envelopeId);
    expect(envelope.provenance.trace?.joined).toBe(false);
    expect(envelope.provenance.notes[0]).toMatch(/^no trace was joined/);

    const broken = await store.putAlert({ bytes: Buffer.from('{"level":50,"time":1,"msg":"ok"}\n{"level":'), format: 'log-lines' });
    await expect(createIngestActivities({ store, logger }).ingest({ incidentId: 'i4', alert: broken })).rejects.toThrow(/^log line 2 is not JSON/);
  });
});

describe('the ingest activity with the service catalog', () => {
  async function catalogFor(cloneUrl: string, extra = '') {
    const file = join(dir, 'tracemend.config.yaml');
    await writeFile(
      file,
      `version: 1\nservices:\n  payments-api:\n    repository: { owner: acme, name: payments-api, cloneUrl: "${cloneUrl}" }\n    test: { runner: vitest, command: [npx, vitest, run] }\n    dataContract: c.yaml\n${extra}`,
    );
    return file;
  }

  async function ingestTrace(deps: Parameters<typeof createIngestActivities>[0]) {
    const failure = await recordLoggedFailure({ recordException: true });
    const bytes = Buffer.from(JSON.stringify(failure.traces));
    const alert = await deps.store.putAlert({ bytes, format: 'otlp-traces-json', traceIds: traceIdsOf(parseAlert(bytes, 'otlp-traces-json')) });
    return deps.store.getEnvelope((await createIngestActivities(deps).ingest({ incidentId: 'c1', alert })).envelopeId);
  }

  it('matches frames to the files of the repository at the released commit, with no deploy root configured', async () => {
    // The recorded stack runs from this package's src/ folder: the repository below holds its files at that level.
    const repo = initRepository(join(dir, 'payments-api'));
    const sha = await repo.commit({ 'testing/log-lines.ts': '// payments\n', 'activities.ts': '// entry\n', 'package.json': '{}\n' }, 'release');
    repo.git('tag', '-a', 'v4.2.0', '-m', 'payments-api 4.2.0');
    const resolver = createVersionResolver(createGitRepositories({ cacheDir: join(dir, 'git-cache') }));
    const envelope = await ingestTrace({ store, logger, catalog: { file: await catalogFor(repo.dir), resolver } });

    expect(envelope.identity).toMatchObject({ service: 'payments-api', version: '4.2.0' });
    expect(envelope.symptom.frames[0]).toMatchObject({ function: 'chargeCard', file: 'testing/log-lines.ts', inApp: true });
    const inApp = envelope.symptom.frames.filter((frame) => frame.inApp);
    expect(inApp.every((frame) => ['testing/log-lines.ts', 'activities.ts'].includes(frame.file))).toBe(true);
    // The test runner's own frames are dependencies; none of them is the app's.
    const dependencies = envelope.symptom.frames.filter((frame) => frame.file.includes('/node_modules/'));
    expect(dependencies.length).toBeGreaterThan(0);
    expect(dependencies.every((frame) => !frame.inApp)).toBe(true);
    expect(envelope.provenance.notes.at(-1)).toBe(
      `stack frames were matched to the 3 files of acme/payments-api at ${sha.slice(0, 12)} (from tag refs/tags/v4.2.0; deploy root inferred from the frame paths)`,
    );
    // The gateway fingerprints before frames are matched; both agree.
    expect(envelope.identity.fingerprint).toBe(fingerprint('payments-api', 'TypeError', (await ingestTrace({ store, logger })).symptom.frames));
    expect(envelope.identity.fingerprint).toBe(fingerprint('payments-api', 'TypeError', envelope.symptom.frames));
  });

  it('falls back to the app roots and says why when the catalog lacks the service or git cannot reach it', async () => {
    const resolver = createVersionResolver(createGitRepositories({ cacheDir: join(dir, 'git-cache') }));
    const absent = await ingestTrace({ store, logger, appRoots: [LOGGED_APP_ROOT], catalog: { file: await catalogFor(join(dir, 'absent.git')), resolver } });
    expect(absent.symptom.frames[0]).toMatchObject({ function: 'chargeCard', file: 'testing/log-lines.ts', inApp: true });
    expect(absent.provenance.notes.at(-1)).toMatch(/^stack frames were not matched to the repository: git ls-remote failed: .*; they were mapped by the app roots /);

    const other = join(dir, 'other.yaml');
    await writeFile(other, 'version: 1\nservices:\n  billing:\n    repository: { owner: acme, name: billing, cloneUrl: /x }\n    test: { runner: vitest, command: [x] }\n    dataContract: c.yaml\n');
    const unknown = await ingestTrace({ store, logger, catalog: { file: other, resolver } });
    expect(unknown.provenance.notes.at(-1)).toMatch(/^stack frames were not matched to the repository: service payments-api is not in the catalog .*\(known: billing\)/);
    const none = await ingestTrace({ store, logger });
    expect(none.provenance.notes.at(-1)).toMatch(/^stack frames were not matched to the repository: the ingest stage was given no service catalog/);
  });
});
