import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { AlertFormat } from '@tracemend/contracts';
import { fixtureAlertPaths } from '@tracemend/fixture-kit';
import { createLogger } from '@tracemend/telemetry';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIngestActivities } from './activities';
import { parseAlert, traceIdsOf } from './alerts';
import { buildEnvelope } from './envelope';
import { createEvidenceStore, type EvidenceStore } from './evidence-store';
import { detectAlertFormat, detectAlertText, failureOfTrace, MAX_RELATED_EXPORTS, readAlert } from './intake';
import type { OtlpLogs, OtlpTraces } from './otlp';
import { LOGGED_APP_ROOT, recordLoggedFailure } from './testing/log-lines';

let dir: string;
let store: EvidenceStore;
const logger = createLogger({ name: 'intake-test', level: 'silent' });
const receivedAt = '2026-01-02T03:04:05.000Z';
const idOf = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-intake-'));
  store = createEvidenceStore(dir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(bytes: Buffer, format: AlertFormat) {
  return store.putAlert({ bytes, format, receivedAt, traceIds: traceIdsOf(parseAlert(bytes, format)) });
}

describe('readAlert', () => {
  it('reads traces and logs written side by side in one OTLP/JSON object, not only the traces', async () => {
    const paths = fixtureAlertPaths('checkout-worker');
    const traces = JSON.parse(await readFile(paths.traces, 'utf8')) as OtlpTraces;
    const logs = JSON.parse(await readFile(paths.logs, 'utf8')) as OtlpLogs;
    const bytes = Buffer.from(JSON.stringify({ ...traces, resourceLogs: logs.resourceLogs }));
    expect(detectAlertFormat(JSON.parse(bytes.toString('utf8')))).toBe('otlp-traces-json');

    const reading = await readAlert({ store, bytes, format: 'otlp-traces-json', source: { alertId: idOf(bytes), receivedAt } });
    if (reading.kind !== 'failure') throw new Error(`expected a failure, got ${reading.kind}`);
    const tracesOnly = buildEnvelope({ traces: { source: { alertId: idOf(bytes), format: 'otlp-traces-json', receivedAt }, body: traces } });
    expect(tracesOnly.logs).toHaveLength(0);
    expect(reading.envelope.logs.length).toBeGreaterThan(0);
    expect(reading.envelope.identity.fingerprint).toBe(tracesOnly.identity.fingerprint);

    // Stored whole, ingest reads the same: the logs come along.
    const alert = await put(bytes, 'otlp-traces-json');
    const ref = await createIngestActivities({ store, logger }).ingest({ incidentId: 'i1', alert });
    expect((await store.getEnvelope(ref.envelopeId)).logs).toEqual(reading.envelope.logs);
    expect(traceIdsOf(parseAlert(bytes, 'otlp-traces-json'))).toEqual(traceIdsOf({ format: 'otlp-traces-json', body: traces }));
  });

  it('reads a trace without an exception as a failure once error lines of it are stored, as ingest does', async () => {
    const failure = await recordLoggedFailure({ recordException: false });
    const traceBytes = Buffer.from(JSON.stringify(failure.traces));
    const source = { alertId: idOf(traceBytes), receivedAt };
    const alone = await readAlert({ store, bytes: traceBytes, format: 'otlp-traces-json', source, appRoots: [LOGGED_APP_ROOT] });
    expect(alone).toMatchObject({ kind: 'evidence', traceIds: [failure.traceId], reason: expect.stringMatching(/no span .* carries an exception/) as unknown });

    await put(Buffer.from(failure.lines.pino), 'log-lines');
    const joined = await readAlert({ store, bytes: traceBytes, format: 'otlp-traces-json', source, appRoots: [LOGGED_APP_ROOT] });
    if (joined.kind !== 'failure') throw new Error(`expected a failure, got ${joined.kind}`);
    expect(joined.envelope.identity).toMatchObject({ service: 'payments-api', spanId: failure.failingSpanId, traceId: failure.traceId });

    const alert = await put(traceBytes, 'otlp-traces-json');
    const ref = await createIngestActivities({ store, logger, appRoots: [LOGGED_APP_ROOT] }).ingest({ incidentId: 'i2', alert });
    expect(ref.fingerprint).toBe(joined.envelope.identity.fingerprint);
    expect(await failureOfTrace(store, failure.traceId, [LOGGED_APP_ROOT])).toMatchObject({ envelope: { identity: { fingerprint: ref.fingerprint } } });
  });

  it('reads at most the newest MAX_RELATED_EXPORTS stored exports of a trace, however many were sent', async () => {
    const failure = await recordLoggedFailure({ recordException: false });
    const records = failure.lines.pino.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    // Distinct exports of the same trace, as a retrying or misbehaving sender makes them, one second apart.
    for (let i = 0; i < MAX_RELATED_EXPORTS + 6; i += 1) {
      const bytes = Buffer.from(records.map((record) => `${JSON.stringify({ ...record, attempt: i })}\n`).join(''));
      await store.putAlert({ bytes, format: 'log-lines', receivedAt: new Date(Date.parse(receivedAt) + i * 1_000).toISOString(), traceIds: [failure.traceId] });
    }
    let reads = 0;
    const counting: EvidenceStore = { ...store, getAlert: (alertId) => ((reads += 1), store.getAlert(alertId)) };
    const traceBytes = Buffer.from(JSON.stringify(failure.traces));
    const reading = await readAlert({ store: counting, bytes: traceBytes, format: 'otlp-traces-json', source: { alertId: idOf(traceBytes), receivedAt }, appRoots: [LOGGED_APP_ROOT] });
    if (reading.kind !== 'failure') throw new Error(`expected a failure, got ${reading.kind}`);
    expect(reads).toBe(MAX_RELATED_EXPORTS);
    const attempts = reading.envelope.logs.map((log) => log.attributes?.attempt).filter((attempt) => attempt !== undefined);
    expect(attempts.length).toBeGreaterThan(0);
    // The newest were read: the six oldest are not among them.
    expect(attempts.every((attempt) => Number(attempt) >= 6)).toBe(true);
  });

  it('answers Sentry envelopes of SDK telemetry as nothing to do, and names what an envelope lacks otherwise', async () => {
    const telemetry = Buffer.from('{"sent_at":"2026-01-02T03:04:05Z"}\n{"type":"session"}\n{"sid":"a","status":"ok"}\n{"type":"client_report"}\n{"discarded_events":[]}\n');
    expect(await readAlert({ store, bytes: telemetry, format: 'sentry-envelope', source: { alertId: idOf(telemetry), receivedAt } })).toEqual({
      kind: 'ignored',
      format: 'sentry-envelope',
      traceIds: [],
      itemTypes: ['session', 'client_report'],
    });
    const attachment = Buffer.from('{}\n{"type":"attachment","length":2}\nab\n');
    await expect(readAlert({ store, bytes: attachment, format: 'sentry-envelope', source: { alertId: idOf(attachment), receivedAt } })).rejects.toMatchObject({
      code: 'NO_FAILURE_IN_ALERT',
      message: expect.stringContaining('items of type attachment') as unknown,
    });
  });

  it('names the accepted shapes for a body of none of them', () => {
    expect(() => detectAlertFormat({ hello: 'world' })).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_ALERT_FORMAT', message: expect.stringContaining('resourceSpans') as unknown }));
    expect(detectAlertFormat({ version: '4', alerts: [] })).toBe('alertmanager');
    expect(detectAlertFormat({ resourceLogs: [] })).toBe('otlp-logs-json');
  });

  it('tells text alerts apart as the gateway does by Content-Type: JSON by shape, log lines, Sentry envelopes', async () => {
    const failure = await recordLoggedFailure({ recordException: true });
    for (const library of ['pino', 'bunyan', 'winston'] as const) {
      expect(detectAlertText(failure.lines[library]).format, library).toBe('log-lines');
      expect(detectAlertText(failure.lines[library].trim().split('\n')[0] ?? '').format, `one ${library} line`).toBe('log-lines');
    }
    const traces = JSON.stringify(failure.traces);
    expect(detectAlertText(traces)).toEqual({ format: 'otlp-traces-json', json: failure.traces });
    expect(detectAlertText('{"event_id":"a"}\n{"type":"event"}\n{"exception":{"values":[]}}\n').format).toBe('sentry-envelope');
    expect(() => detectAlertText('TypeError\n  at x\n', 'the alert file a.txt')).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_ALERT_FORMAT', message: expect.stringMatching(/^the alert file a\.txt is not JSON: /) as unknown }),
    );
    expect(() => detectAlertText('{"hello":"world"}')).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_ALERT_FORMAT', message: expect.stringContaining('resourceSpans') as unknown }));
  });
});
