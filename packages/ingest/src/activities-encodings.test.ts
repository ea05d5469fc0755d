import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlertFormat } from '@tracemend/contracts';
import { ORDERS_APP_ROOT, captureOrdersFailure, captureOrdersSentryEnvelope, type CapturedOtlpFailure } from '@tracemend/fixture-kit';
import { createLogger } from '@tracemend/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestActivities } from './activities';
import { parseAlert, traceIdsOf } from './alerts';
import { createEvidenceStore, type EvidenceStore } from './evidence-store';
import { sentryEventOfEnvelope } from './sentry-envelope';
import { sentryTraceId, parseSentryEvent } from './sentry';

let dir: string;
let store: EvidenceStore;
let captured: CapturedOtlpFailure;
const logger = createLogger({ name: 'ingest-test', level: 'silent' });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-evidence-'));
  store = createEvidenceStore(dir);
  captured = await captureOrdersFailure();
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(bytes: Buffer, format: AlertFormat) {
  return store.putAlert({ bytes, format, traceIds: traceIdsOf(parseAlert(bytes, format)) });
}

describe('the ingest activity over OTLP protobuf and Sentry envelopes', () => {
  it('builds the same envelope from stored protobuf exports as from the JSON exports, joining the protobuf logs', async () => {
    const { ingest } = createIngestActivities({ store, logger, appRoots: [ORDERS_APP_ROOT] });
    await put(captured.protobuf.logs, 'otlp-logs-protobuf');
    const fromProtobuf = await store.getEnvelope((await ingest({ incidentId: 'p1', alert: await put(captured.protobuf.traces, 'otlp-traces-protobuf') })).envelopeId);
    expect(fromProtobuf.provenance.sources.map((item) => item.format)).toEqual(['otlp-traces-protobuf', 'otlp-logs-protobuf']);
    expect(fromProtobuf.logs.length).toBeGreaterThan(0);

    // In a store of its own, so each envelope joins only the logs of its encoding.
    const jsonStore = createEvidenceStore(join(dir, 'json'));
    const jsonPut = (bytes: Buffer, format: AlertFormat) => jsonStore.putAlert({ bytes, format, traceIds: traceIdsOf(parseAlert(bytes, format)) });
    await jsonPut(captured.json.logs, 'otlp-logs-json');
    const json = createIngestActivities({ store: jsonStore, logger, appRoots: [ORDERS_APP_ROOT] });
    const fromJson = await jsonStore.getEnvelope((await json.ingest({ incidentId: 'j1', alert: await jsonPut(captured.json.traces, 'otlp-traces-json') })).envelopeId);
    expect(fromProtobuf.identity).toEqual(fromJson.identity);
    expect({ ...fromProtobuf, provenance: undefined }).toEqual({ ...fromJson, provenance: undefined });
  });

  it('reads the event of a stored Sentry envelope', async () => {
    const { envelope } = await captureOrdersSentryEnvelope();
    const alert = await store.putAlert({ bytes: envelope, format: 'sentry-envelope' });
    const ref = await createIngestActivities({ store, logger, appRoots: [ORDERS_APP_ROOT] }).ingest({ incidentId: 's1', alert });
    expect(ref).toMatchObject({ service: 'orders-api', errorType: 'TypeError' });
    const built = await store.getEnvelope(ref.envelopeId);
    expect(built.identity.traceId).toBe(sentryTraceId(parseSentryEvent(sentryEventOfEnvelope(envelope))));
    expect(built.provenance.sources).toEqual([expect.objectContaining({ format: 'sentry-envelope', alertId: alert.alertId }) as unknown]);
  });

  it('refuses a stored protobuf export that is cut off, naming where', async () => {
    const alert = await store.putAlert({ bytes: captured.protobuf.traces.subarray(0, 40), format: 'otlp-traces-protobuf' });
    await expect(createIngestActivities({ store, logger }).ingest({ incidentId: 'p2', alert })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('cut off') as unknown });
  });
});
