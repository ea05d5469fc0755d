// OTLP protobuf and Sentry envelopes over real HTTP on loopback, against a real Temporal dev server:
// the bodies come from the real OpenTelemetry SDK exporters and the real Sentry client, sent to the
// gateway directly or captured and posted; broken ones are answered with a 4xx naming the problem.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { incidentWorkflowId } from '@tracemend/contracts';
import {
  ORDERS_APP_ROOT,
  SENTRY_CAPTURE_TRACE,
  captureOrdersFailure,
  captureOrdersSentryEnvelope,
  runInstrumentedOrdersService,
  type CapturedOtlpFailure,
  type CapturedSentryEnvelope,
} from '@tracemend/fixture-kit';
import {
  buildEnvelope,
  buildEnvelopeFromSentryEvent,
  decodeOtlpTracesProtobuf,
  sentryEventOfEnvelope,
  traceIdsOf,
  type EvidenceStore,
  type OtlpTraces,
} from '@tracemend/ingest';
import { createLogger } from '@tracemend/telemetry';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/index';
import { startGatewayOnLoopback, type GatewayOnLoopback } from './gateway-on-loopback';

// Letters, digits and underscores only, so it can be the public key of a Sentry DSN.
const TOKEN = 'test_token_0123456789abcdef';
const MAX_BODY = 4 * 1024 * 1024;
let stack: GatewayOnLoopback;
let gateway: Gateway;
let store: EvidenceStore;
let evidenceDir: string;
let workflowIds: Set<string>;
let otlp: CapturedOtlpFailure;
let sentry: CapturedSentryEnvelope;
let jsonFingerprint: string;
let traceId: string;
const logLines: string[] = [];

beforeAll(async () => {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  stack = await startGatewayOnLoopback({ name: 'protobuf', token: TOKEN, maxBodyBytes: MAX_BODY, appRoots: [ORDERS_APP_ROOT], logger: createLogger({ name: 'gateway', level: 'info', destination }) });
  ({ gateway, store, evidenceDir, workflowIds } = stack);
  otlp = await captureOrdersFailure();
  sentry = await captureOrdersSentryEnvelope({ attachment: { filename: 'cart.bin', data: new Uint8Array([0x00, 0x0a, 0xff, 0x0a]) } });
  const traces = JSON.parse(otlp.json.traces.toString('utf8')) as OtlpTraces;
  const envelope = buildEnvelope({ traces: { source: { alertId: 'a'.repeat(64), format: 'otlp-traces-json', receivedAt: new Date().toISOString() }, body: traces }, appRoots: [ORDERS_APP_ROOT] });
  jsonFingerprint = envelope.identity.fingerprint;
  traceId = envelope.identity.traceId ?? '';
});

afterAll(async () => {
  await stack?.close();
});

interface Answer {
  status: number;
  body: { error?: { code?: unknown; message?: unknown } } & Record<string, unknown>;
  headers: Headers;
}

async function post(path: string, body: string | Uint8Array, type: string | null, token: string | null = TOKEN): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (type !== null) headers['content-type'] = type;
  const response = await fetch(`${gateway.url}${path}`, { method: 'POST', headers, body, signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  const answer = { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as Answer['body'], headers: response.headers };
  for (const id of [answer.body.workflowId, response.headers.get('tracemend-incident-id') && incidentWorkflowId(response.headers.get('tracemend-incident-id') ?? '')]) {
    if (typeof id === 'string') workflowIds.add(id);
  }
  return answer;
}

const PROTOBUF = 'application/x-protobuf';
const ENVELOPE = 'application/x-sentry-envelope';

async function storedAlerts(): Promise<number> {
  return (await readdir(join(evidenceDir, 'alerts')).catch(() => [])).filter((name) => name.endsWith('.body')).length;
}

function refusal(answer: Answer): { status: number; code: unknown; message: string } {
  return { status: answer.status, code: answer.body.error?.code, message: String(answer.body.error?.message) };
}

describe('OTLP protobuf', () => {
  it('takes the SDK protobuf trace export on /v1/alerts: 202 with the fingerprint of the same failure exported as JSON', async () => {
    const answer = await post('/v1/alerts?format=otlp-traces-protobuf', otlp.protobuf.traces, PROTOBUF);
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ format: 'otlp-traces-protobuf', fingerprint: jsonFingerprint, incidentId: jsonFingerprint, workflowId: incidentWorkflowId(jsonFingerprint), status: 'started' });
    // The raw protobuf is what is stored, under the trace id, for ingest to decode again.
    const stored = await store.getAlert(String(answer.body.alertId));
    expect(stored.ref.format).toBe('otlp-traces-protobuf');
    expect(stored.bytes.equals(otlp.protobuf.traces)).toBe(true);
    expect((await store.alertsForTrace(traceId)).map((ref) => ref.alertId)).toContain(answer.body.alertId);

    // The JSON export of the same spans is the same incident.
    const json = await post('/v1/alerts', otlp.json.traces, 'application/json');
    expect(json.body).toMatchObject({ format: 'otlp-traces-json', fingerprint: jsonFingerprint, workflowId: incidentWorkflowId(jsonFingerprint), status: 'attached' });
  });

  it('takes the protobuf log export and files it under its trace', async () => {
    const answer = await post('/v1/alerts?format=otlp-logs-protobuf', otlp.protobuf.logs, PROTOBUF);
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ format: 'otlp-logs-protobuf', traceIds: [traceId] });
    expect((await store.alertsForTrace(traceId)).find((ref) => ref.alertId === answer.body.alertId)?.format).toBe('otlp-logs-protobuf');
  });

  it('is the OTLP/HTTP endpoint the SDK exporters send to directly, in protobuf and JSON', async () => {
    const before = logLines.length;
    const headers = { authorization: `Bearer ${TOKEN}` };
    await runInstrumentedOrdersService([
      { signal: 'traces', encoding: 'protobuf', url: `${gateway.url}/v1/traces`, headers },
      { signal: 'logs', encoding: 'protobuf', url: `${gateway.url}/v1/logs`, headers },
      { signal: 'traces', encoding: 'json', url: `${gateway.url}/v1/traces`, headers },
      { signal: 'logs', encoding: 'json', url: `${gateway.url}/v1/logs`, headers },
    ]);
    const requests = logLines
      .slice(before)
      .map((line) => JSON.parse(line) as { msg?: string; route?: string; status?: number; format?: string; alertId?: string; incidentId?: string })
      .filter((entry) => entry.msg === 'request');
    expect(requests.map((entry) => `${entry.route} ${entry.format} ${entry.status}`).sort()).toEqual([
      '/v1/logs otlp-logs-json 200',
      '/v1/logs otlp-logs-protobuf 200',
      '/v1/traces otlp-traces-json 200',
      '/v1/traces otlp-traces-protobuf 200',
    ]);
    // A new run is a new trace with the same bug: one incident, the one the captured export opened.
    const incidents = new Set(requests.filter((entry) => entry.route === '/v1/traces').map((entry) => entry.incidentId));
    expect([...incidents]).toEqual([jsonFingerprint]);
    const protobufTraces = requests.find((entry) => entry.format === 'otlp-traces-protobuf');
    const stored = await store.getAlert(String(protobufTraces?.alertId));
    const newTraceIds = traceIdsOf({ format: 'otlp-traces-protobuf', body: decodeOtlpTracesProtobuf(stored.bytes) });
    expect(newTraceIds).toHaveLength(1);
    expect(newTraceIds[0]).not.toBe(traceId);
    expect((await store.alertsForTrace(newTraceIds[0] ?? '')).map((ref) => ref.format).sort()).toEqual(['otlp-logs-json', 'otlp-logs-protobuf', 'otlp-traces-json', 'otlp-traces-protobuf']);
  });

  it('takes gzip-compressed exports (OTEL_EXPORTER_OTLP_COMPRESSION=gzip), within the size limit after inflating', async () => {
    const before = logLines.length;
    await runInstrumentedOrdersService([{ signal: 'traces', encoding: 'protobuf', url: `${gateway.url}/v1/traces`, headers: { authorization: `Bearer ${TOKEN}` } }], {
      env: { OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' },
    });
    const [entry] = logLines
      .slice(before)
      .map((line) => JSON.parse(line) as { msg?: string; status?: number; alertId?: string; incidentId?: string; sizeBytes?: number; receivedBytes?: number })
      .filter((item) => item.msg === 'request');
    expect(entry).toMatchObject({ status: 200, incidentId: jsonFingerprint });
    expect(entry?.receivedBytes).toBeLessThan(entry?.sizeBytes ?? 0);
    // The inflated protobuf is what is stored.
    expect(decodeOtlpTracesProtobuf((await store.getAlert(String(entry?.alertId))).bytes).resourceSpans).toHaveLength(1);

    const gzipped = (body: Buffer) => fetch(`${gateway.url}/v1/traces`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': PROTOBUF, 'content-encoding': 'gzip' }, body });
    const bomb = await gzipped(gzipSync(Buffer.alloc(MAX_BODY * 16)));
    expect(bomb.status).toBe(413);
    expect(await bomb.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE', message: `the gzip body inflates to more than ${MAX_BODY} bytes; the limit is ${MAX_BODY} bytes` } });
    const corrupt = await gzipped(gzipSync(otlp.protobuf.traces).subarray(0, 30));
    expect(corrupt.status).toBe(400);
    expect(await corrupt.json()).toMatchObject({ error: { code: 'INVALID_CONTENT_ENCODING', message: expect.stringContaining('the body is not valid gzip') as unknown } });
    const brotli = await fetch(`${gateway.url}/v1/traces`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': PROTOBUF, 'content-encoding': 'br' }, body: otlp.protobuf.traces });
    expect(brotli.status).toBe(415);
  });

  it('answers the OTLP paths as OTLP/HTTP does: 200 and an empty response in the request encoding', async () => {
    const protobuf = await fetch(`${gateway.url}/v1/traces`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': PROTOBUF }, body: otlp.protobuf.traces });
    expect(protobuf.status).toBe(200);
    expect(protobuf.headers.get('content-type')).toBe(PROTOBUF);
    expect((await protobuf.arrayBuffer()).byteLength).toBe(0);
    expect(protobuf.headers.get('tracemend-fingerprint')).toBe(jsonFingerprint);
    expect(protobuf.headers.get('tracemend-status')).toBe('attached');
    const json = await fetch(`${gateway.url}/v1/logs`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: otlp.json.logs });
    expect(json.status).toBe(200);
    expect(await json.text()).toBe('{}');
    expect(json.headers.get('tracemend-alert-id')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('Sentry envelopes', () => {
  it('takes the envelope the Sentry client sent on /v1/alerts: 202 with the fingerprint of its event', async () => {
    const answer = await post('/v1/alerts', sentry.envelope, ENVELOPE);
    expect(answer.status).toBe(202);
    const expected = buildEnvelopeFromSentryEvent(sentryEventOfEnvelope(sentry.envelope), { alertId: 'b'.repeat(64), format: 'sentry-envelope', receivedAt: new Date().toISOString() }, [ORDERS_APP_ROOT]);
    expect(answer.body).toMatchObject({ format: 'sentry-envelope', fingerprint: expected.identity.fingerprint, workflowId: incidentWorkflowId(expected.identity.fingerprint) });
    const stored = await store.getAlert(String(answer.body.alertId));
    expect(stored.ref.format).toBe('sentry-envelope');
    expect((await store.alertsForTrace(SENTRY_CAPTURE_TRACE.traceId)).map((ref) => ref.alertId)).toContain(answer.body.alertId);
    expect(stored.bytes.equals(sentry.envelope)).toBe(true);
  });

  it("is the Sentry client's DSN endpoint, authenticated by the DSN's public key", async () => {
    const dsn = gateway.url.replace('http://', `http://${TOKEN}@`) + '/4507';
    const sent = await captureOrdersSentryEnvelope({ dsn });
    expect(sent.path).toMatch(/^\/api\/4507\/envelope\/\?.*sentry_key=/);
    expect(sent.status).toBe(202);
    expect(JSON.parse(sent.response)).toMatchObject({ format: 'sentry-envelope', status: 'attached' });
    const wrongKey = await captureOrdersSentryEnvelope({ dsn: gateway.url.replace('http://', 'http://0123456789abcdef0123456789abcdef@') + '/4507' });
    expect(wrongKey.status).toBe(401);
  });
});

describe('Alertmanager webhooks', () => {
  function webhook(traceId: string): string {
    return JSON.stringify({
      version: '4',
      status: 'firing',
      receiver: 'tracemend',
      alerts: [{ status: 'firing', labels: { alertname: 'OrdersErrors', service: 'orders-api' }, annotations: { trace_id: traceId }, startsAt: '2026-12-04T12:00:00Z' }],
    });
  }

  it('resolve to the failure of a stored protobuf trace export or Sentry envelope', async () => {
    const before = logLines.length;
    await runInstrumentedOrdersService([{ signal: 'traces', encoding: 'protobuf', url: `${gateway.url}/v1/traces`, headers: { authorization: `Bearer ${TOKEN}` } }]);
    const alertId = logLines
      .slice(before)
      .map((line) => JSON.parse(line) as { msg?: string; alertId?: string })
      .find((entry) => entry.msg === 'request')?.alertId;
    const [onlyProtobufTrace] = traceIdsOf({ format: 'otlp-traces-protobuf', body: decodeOtlpTracesProtobuf((await store.getAlert(String(alertId))).bytes) });
    expect((await store.alertsForTrace(onlyProtobufTrace ?? '')).map((ref) => ref.format)).toEqual(['otlp-traces-protobuf']);
    const fromProtobuf = await post('/v1/alerts', webhook(onlyProtobufTrace ?? ''), 'application/json');
    expect(fromProtobuf.status).toBe(202);
    expect(fromProtobuf.body.incidents).toEqual([expect.objectContaining({ traceId: onlyProtobufTrace, fingerprint: jsonFingerprint }) as unknown]);

    await post('/v1/alerts', sentry.envelope, ENVELOPE);
    const fromEnvelope = await post('/v1/alerts', webhook(SENTRY_CAPTURE_TRACE.traceId), 'application/json');
    expect(fromEnvelope.status).toBe(202);
    expect(fromEnvelope.body.incidents).toEqual([expect.objectContaining({ traceId: SENTRY_CAPTURE_TRACE.traceId }) as unknown]);
  });
});

describe('bad protobuf and envelopes', () => {
  const span = (extra: Buffer) => Buffer.concat([Buffer.from([0x0a, 0x10]), Buffer.alloc(16, 1), Buffer.from([0x12, 0x08]), Buffer.alloc(8, 2), extra]);
  const tracesWith = (spanBytes: Buffer) => {
    const lenPrefix = (field: number, payload: Buffer) => Buffer.concat([Buffer.from([(field << 3) | 2]), varint(payload.length), payload]);
    return lenPrefix(1, lenPrefix(2, lenPrefix(2, spanBytes)));
  };
  function varint(value: number): Buffer {
    const out: number[] = [];
    let v = value;
    while (v > 0x7f) {
      out.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
    return Buffer.from(out);
  }
  const attribute = (key: string) => Buffer.concat([Buffer.from([0x4a]), varint(key.length + 4), Buffer.from([0x0a, key.length]), Buffer.from(key), Buffer.from([0x12, 0x00])]);

  it('answers each with its status and a message naming the problem, storing nothing, and keeps serving', async () => {
    const before = await storedAlerts();
    let deep = Buffer.from([0x0a, 0x01, 0x78]);
    for (let level = 0; level < 10_000; level += 1) deep = Buffer.concat([Buffer.from([0x2a]), varint(deep.length + 1 + varint(deep.length).length), Buffer.from([0x0a]), varint(deep.length), deep]);
    const deepAttribute = Buffer.concat([Buffer.from([0x4a]), varint(3 + 1 + varint(deep.length).length + deep.length), Buffer.from([0x0a, 0x01, 0x64, 0x12]), varint(deep.length), deep]);
    const withAttachment = sentry.envelope;
    const cases: { name: string; answer: () => Promise<Answer>; status: number; code: string; mentions: string }[] = [
      { name: 'cut-off protobuf', answer: () => post('/v1/traces', otlp.protobuf.traces.subarray(0, otlp.protobuf.traces.length - 10), PROTOBUF), status: 400, code: 'INVALID_PROTOBUF', mentions: 'was the body cut off? (at byte 1, field resourceSpans)' },
      { name: 'wrong wire type', answer: () => post('/v1/traces', tracesWith(span(Buffer.from([0x28, 0x01]))), PROTOBUF), status: 400, code: 'INVALID_PROTOBUF', mentions: 'field 5 (name) arrived as varint but is length-delimited in the schema' },
      { name: 'JSON sent as protobuf', answer: () => post('/v1/traces', otlp.json.traces, PROTOBUF), status: 400, code: 'INVALID_PROTOBUF', mentions: 'is not a valid OTLP protobuf export' },
      { name: '100,000 attributes', answer: () => post('/v1/traces', tracesWith(span(Buffer.concat(Array.from({ length: 100_000 }, (_, i) => attribute(`k${i}`))))), PROTOBUF), status: 413, code: 'TOO_MANY_ATTRIBUTES', mentions: 'more than 10000 attributes' },
      { name: '10,000 levels deep', answer: () => post('/v1/traces', tracesWith(span(deepAttribute)), PROTOBUF), status: 422, code: 'PROTOBUF_TOO_DEEP', mentions: 'deeper than 64 levels' },
      { name: '__proto__ attribute', answer: () => post('/v1/traces', tracesWith(span(attribute('__proto__'))), PROTOBUF), status: 422, code: 'FORBIDDEN_KEY', mentions: '"__proto__"' },
      { name: 'over the size limit', answer: () => post('/v1/traces', Buffer.alloc(MAX_BODY + 1), PROTOBUF), status: 413, code: 'PAYLOAD_TOO_LARGE', mentions: `${MAX_BODY} bytes` },
      { name: 'protobuf without its export named', answer: () => post('/v1/alerts', otlp.protobuf.traces, PROTOBUF), status: 400, code: 'INVALID_QUERY', mentions: '?format=otlp-traces-protobuf' },
      { name: 'text on an OTLP path', answer: () => post('/v1/traces', 'hello', 'text/plain'), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', mentions: 'application/json, or application/x-protobuf (OTLP)' },
      { name: 'an envelope on an OTLP path', answer: () => post('/v1/logs', sentry.envelope, ENVELOPE), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', mentions: 'got "application/x-sentry-envelope"' },
      { name: 'no content type', answer: () => post('/v1/alerts', otlp.json.traces, null), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', mentions: 'application/x-sentry-envelope' },
      { name: 'envelope header not JSON', answer: () => post('/v1/alerts', '{"event_id":\n{"type":"event"}\n{}', ENVELOPE), status: 400, code: 'INVALID_SENTRY_ENVELOPE', mentions: 'the envelope header at byte 0 is not valid JSON' },
      { name: 'envelope cut inside its attachment', answer: () => post('/v1/alerts', withAttachment.subarray(0, withAttachment.length - 2), ENVELOPE), status: 400, code: 'INVALID_SENTRY_ENVELOPE', mentions: 'declares 4 payload bytes but only 2 remain' },
      { name: 'envelope without an event', answer: () => post('/v1/alerts', '{}\n{"type":"attachment","length":2}\nab\n', ENVELOPE), status: 422, code: 'NO_FAILURE_IN_ALERT', mentions: 'items of type attachment' },
      { name: 'event item not JSON', answer: () => post('/v1/alerts', '{}\n{"type":"event"}\n{"exception":\n', ENVELOPE), status: 400, code: 'INVALID_JSON', mentions: 'in the event item at byte 3 of the envelope' },
      { name: 'event item 10,000 deep', answer: () => post('/v1/alerts', `{}\n{"type":"event"}\n${'['.repeat(10_000)}${']'.repeat(10_000)}\n`, ENVELOPE), status: 422, code: 'JSON_TOO_DEEP', mentions: 'deeper than 64 levels' },
      { name: 'malformed event', answer: () => post('/v1/alerts', '{}\n{"type":"event"}\n{"exception":{"values":"no"}}\n', ENVELOPE), status: 422, code: 'INVALID_INPUT', mentions: 'exception.values' },
      { name: 'wrong token', answer: () => post('/v1/traces', otlp.protobuf.traces, PROTOBUF, 'test_token_0123456789abcdeX'), status: 401, code: 'UNAUTHORIZED', mentions: 'bearer token' },
    ];
    for (const item of cases) {
      const answer = await item.answer();
      expect({ name: item.name, ...refusal(answer) }).toMatchObject({ name: item.name, status: item.status, code: item.code });
      expect(refusal(answer).message, item.name).toContain(item.mentions);
    }
    expect(await storedAlerts()).toBe(before);
    expect((await post('/v1/alerts?format=otlp-traces-protobuf', otlp.protobuf.traces, PROTOBUF)).status).toBe(202);
  });

  it('never answers random bytes on the OTLP protobuf path or as an envelope with a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), fc.constantFrom('/v1/traces', '/v1/logs', '/v1/alerts'), async (bytes, path) => {
        const answer = await post(path, bytes, path === '/v1/alerts' ? ENVELOPE : PROTOBUF);
        expect(answer.status).toBeLessThan(500);
        if (answer.status >= 400) expect(typeof answer.body.error?.message).toBe('string');
      }),
      { numRuns: 150, seed: 20_261_204 },
    );
  });
});
