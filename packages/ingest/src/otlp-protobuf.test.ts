import { ORDERS_APP_ROOT, captureOrdersFailure, type CapturedOtlpFailure } from '@tracemend/fixture-kit';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAlert, traceIdsOf } from './alerts';
import { buildEnvelope, type AlertSource } from './envelope';
import type { OtlpLogs, OtlpTraces } from './otlp';
import { decodeOtlpLogsProtobuf, decodeOtlpTracesProtobuf } from './otlp-protobuf';
import { ProtobufDecodeError, type ProtobufProblem } from './protobuf-wire';
import { double, fixed64, len, spanFields, stringAttribute, tag, tracesRequest, uint, varint } from './testing/protobuf-writer';

let captured: CapturedOtlpFailure;

beforeAll(async () => {
  captured = await captureOrdersFailure();
}, 60_000);

/** The fields of an OTLP export that tracemend reads; SDK bookkeeping (dropped counts, flags, scope) is left out. */
const READ_FIELDS = new Set(
  'resourceSpans resourceLogs resource scopeSpans scopeLogs spans logRecords attributes events traceId spanId parentSpanId name kind startTimeUnixNano endTimeUnixNano timeUnixNano observedTimeUnixNano status code message severityNumber severityText body key value stringValue boolValue intValue doubleValue arrayValue kvlistValue bytesValue values'.split(
    ' ',
  ),
);

function readFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(readFields);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).flatMap(([key, child]) => (READ_FIELDS.has(key) ? [[key, readFields(child)]] : [])));
}

function decodeError(read: () => unknown): ProtobufDecodeError {
  try {
    read();
  } catch (error) {
    if (error instanceof ProtobufDecodeError) return error;
    throw error;
  }
  throw new Error('the body decoded; expected a ProtobufDecodeError');
}

function expectProblem(read: () => unknown, problem: ProtobufProblem, path: string | RegExp): ProtobufDecodeError {
  const error = decodeError(read);
  expect(error.problem).toBe(problem);
  expect(error.code).toBe('INVALID_INPUT');
  if (typeof path === 'string') expect(error.path).toBe(path);
  else expect(error.path).toMatch(path);
  expect(error.message).toContain(`at byte ${error.offset}`);
  return error;
}

const ALERT_IDS: Partial<Record<AlertSource['format'], string>> = { 'otlp-traces-json': 'a'.repeat(64), 'otlp-logs-json': 'b'.repeat(64), 'otlp-traces-protobuf': 'c'.repeat(64), 'otlp-logs-protobuf': 'd'.repeat(64) };
const source = (format: AlertSource['format']): AlertSource => ({ alertId: ALERT_IDS[format] ?? 'e'.repeat(64), format, receivedAt: '2026-12-04T12:00:00.000Z' });

describe('OTLP protobuf from the OpenTelemetry SDK', () => {
  it('decodes the protobuf trace and log exports into the same fields the JSON exporter sent', () => {
    const traces = decodeOtlpTracesProtobuf(captured.protobuf.traces);
    const logs = decodeOtlpLogsProtobuf(captured.protobuf.logs);
    const jsonTraces = JSON.parse(captured.json.traces.toString('utf8')) as OtlpTraces;
    const jsonLogs = JSON.parse(captured.json.logs.toString('utf8')) as OtlpLogs;
    expect(traces.resourceSpans?.[0]?.scopeSpans?.[0]?.spans?.length).toBeGreaterThan(0);
    expect(logs.resourceLogs?.[0]?.scopeLogs?.[0]?.logRecords?.length).toBeGreaterThan(0);
    expect(readFields(traces)).toEqual(readFields(jsonTraces));
    expect(readFields(logs)).toEqual(readFields(jsonLogs));
    expect(traceIdsOf({ format: 'otlp-traces-protobuf', body: traces })).toEqual(traceIdsOf({ format: 'otlp-traces-json', body: jsonTraces }));
  });

  it('builds the same FailureEnvelope from the protobuf exports as from the JSON exports of one failure', () => {
    const fromJson = buildEnvelope({
      traces: { source: source('otlp-traces-json'), body: JSON.parse(captured.json.traces.toString('utf8')) as OtlpTraces },
      logs: [{ source: source('otlp-logs-json'), body: JSON.parse(captured.json.logs.toString('utf8')) as OtlpLogs }],
      appRoots: [ORDERS_APP_ROOT],
    });
    const traces = parseAlert(captured.protobuf.traces, 'otlp-traces-protobuf');
    const logs = parseAlert(captured.protobuf.logs, 'otlp-logs-protobuf');
    if (traces.format !== 'otlp-traces-protobuf' || logs.format !== 'otlp-logs-protobuf') throw new Error('parseAlert returned another format');
    const fromProtobuf = buildEnvelope({
      traces: { source: source('otlp-traces-protobuf'), body: traces.body },
      logs: [{ source: source('otlp-logs-protobuf'), body: logs.body }],
      appRoots: [ORDERS_APP_ROOT],
    });
    expect(fromProtobuf.identity.fingerprint).toBe(fromJson.identity.fingerprint);
    expect(fromProtobuf.symptom).toMatchObject({ errorType: 'TypeError', message: "Cannot read properties of undefined (reading 'amount')" });
    expect(fromProtobuf.symptom.frames.filter((frame) => frame.inApp).map((frame) => `${frame.function}@${frame.file}`)).toContain('orderTotal@app/orders.ts');
    expect(fromProtobuf.entry).toMatchObject({ kind: 'http', method: 'POST', path: '/v1/orders', query: { source: 'checkout' } });
    expect(fromProtobuf.logs.length).toBeGreaterThan(0);
    // Everything but the provenance's alert ids and formats is the same.
    const withoutSourceFormats = (envelope: typeof fromJson) => ({
      ...envelope,
      provenance: { ...envelope.provenance, sources: envelope.provenance.sources.map(({ alertId: _alertId, format: _format, ...rest }) => rest) },
    });
    expect(withoutSourceFormats(fromProtobuf)).toEqual(withoutSourceFormats(fromJson));
    expect(fromProtobuf.provenance.sources.map((item) => item.format)).toEqual(['otlp-traces-protobuf', 'otlp-logs-protobuf']);
  });

  it('refuses every cut-off prefix of a real export as truncated', () => {
    const body = captured.protobuf.traces;
    for (let cut = 1; cut < body.length; cut += 1) {
      const error = decodeError(() => decodeOtlpTracesProtobuf(body.subarray(0, cut)));
      expect(error.problem, `cut at ${cut}`).toBe('truncated');
      expect(error.message).toContain('cut off');
    }
  });

  it('answers random corruptions of a real export with a decode error or a value, never anything else', () => {
    // A seeded generator, so a failure reproduces.
    let seed = 0x2545f491;
    const next = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 0x1_0000_0000;
    };
    const problems = new Set<string>();
    for (let round = 0; round < 2_000; round += 1) {
      const body = Buffer.from(captured.protobuf.traces);
      for (let flips = 1 + Math.floor(next() * 4); flips > 0; flips -= 1) body[Math.floor(next() * body.length)] = Math.floor(next() * 256);
      try {
        decodeOtlpTracesProtobuf(body);
      } catch (error) {
        expect(error).toBeInstanceOf(ProtobufDecodeError);
        problems.add((error as ProtobufDecodeError).problem);
      }
    }
    expect(problems.size).toBeGreaterThan(1);
  });
});

describe('decodeOtlpTracesProtobuf', () => {
  it('reads every AnyValue kind as the JSON mapping writes it', () => {
    const value = (payload: Buffer) => len(9, Buffer.concat([len(1, 'k'), len(2, payload)]));
    const body = tracesRequest([
      spanFields([
        value(uint(3, -42n)),
        value(uint(3, 9_007_199_254_740_993n)),
        value(double(4, 1.5)),
        value(uint(2, 1)),
        value(len(7, Buffer.from([0, 255]))),
        value(len(5, Buffer.concat([len(1, len(1, 'a')), len(1, uint(3, 7))]))),
        value(len(6, len(1, Buffer.concat([len(1, 'inner'), len(2, len(1, 'v'))])))),
        // A oneof: the last member on the wire wins.
        value(Buffer.concat([len(1, 'first'), uint(3, 5)])),
        fixed64(7, 1_796_388_173_500_000_000n),
        len(4, Buffer.alloc(0)),
      ]),
    ]);
    const span = decodeOtlpTracesProtobuf(body).resourceSpans?.[0]?.scopeSpans?.[0]?.spans?.[0];
    expect(span?.attributes?.map((kv) => kv.value)).toEqual([
      { intValue: -42 },
      { intValue: '9007199254740993' },
      { doubleValue: 1.5 },
      { boolValue: true },
      { bytesValue: 'AP8=' },
      { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 7 }] } },
      { kvlistValue: { values: [{ key: 'inner', value: { stringValue: 'v' } }] } },
      { intValue: 5 },
    ]);
    expect(span).toMatchObject({ traceId: '5a0eeaa87bb73009cbe623d48deae07b', spanId: '2b599ffe255ad2a5', kind: 2, startTimeUnixNano: '1796388173500000000' });
    expect(span?.parentSpanId).toBeUndefined();
  });

  it('skips fields it does not know, as a newer schema may send them', () => {
    const plain = decodeOtlpTracesProtobuf(tracesRequest([spanFields()]));
    const extended = decodeOtlpTracesProtobuf(tracesRequest([spanFields([uint(99, 1), len(100, 'future'), fixed64(101, 1n), Buffer.concat([tag(102, 5), Buffer.alloc(4)])])]));
    expect(extended).toEqual(plain);
  });

  it('names the field where a nested length runs past its message', () => {
    const span = Buffer.concat([len(1, Buffer.alloc(16)), tag(5, 2), varint(50), Buffer.from('POST')]);
    // The outer lengths are right; only the span name claims more bytes than its span has.
    expectProblem(() => decodeOtlpTracesProtobuf(tracesRequest([span])), 'truncated', 'resourceSpans[0].scopeSpans[0].spans[0].name');
  });

  it('refuses a known field sent with the wrong wire type', () => {
    const error = expectProblem(() => decodeOtlpTracesProtobuf(tracesRequest([spanFields([uint(5, 7)])])), 'wire-type', 'resourceSpans[0].scopeSpans[0].spans[0].name');
    expect(error.message).toContain('field 5 (name) arrived as varint but is length-delimited');
  });

  it('refuses wire types that do not exist, groups and field number 0', () => {
    expectProblem(() => decodeOtlpTracesProtobuf(Buffer.concat([tag(1, 7), Buffer.alloc(4)])), 'wire-type', '$');
    expectProblem(() => decodeOtlpTracesProtobuf(tracesRequest([spanFields([tag(12, 3)])])), 'wire-type', 'resourceSpans[0].scopeSpans[0].spans[0]');
    expectProblem(() => decodeOtlpTracesProtobuf(Buffer.from([0x02, 0x00])), 'malformed', '$');
  });

  it('refuses a JSON body sent as protobuf', () => {
    const error = decodeError(() => decodeOtlpTracesProtobuf(captured.json.traces));
    expect(['wire-type', 'truncated', 'malformed']).toContain(error.problem);
  });

  it('refuses strings that are not UTF-8', () => {
    expectProblem(() => decodeOtlpTracesProtobuf(tracesRequest([spanFields([len(5, Buffer.from([0x50, 0xc3, 0x28]))])])), 'invalid-utf8', 'resourceSpans[0].scopeSpans[0].spans[0].name');
  });

  it('refuses "__proto__" as an attribute name', () => {
    expectProblem(() => decodeOtlpTracesProtobuf(tracesRequest([spanFields([stringAttribute(9, '__proto__', 'x')])])), 'forbidden-key', 'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].key');
  });

  it('stops at the attribute limit while decoding, before the decoded body grows', () => {
    const attributes = Array.from({ length: 100_000 }, (_, i) => stringAttribute(9, `a${i}`, 'v'));
    const body = tracesRequest([spanFields(attributes)]);
    const error = expectProblem(() => decodeOtlpTracesProtobuf(body), 'too-many-attributes', 'resourceSpans[0].scopeSpans[0].spans[0].attributes');
    expect(error.limit).toBe(10_000);
    expect(error.message).toContain('more than 10000 attributes');
    // The limit counts resource, span and nested kvlist attributes together, as for OTLP/JSON.
    expectProblem(() => decodeOtlpTracesProtobuf(captured.protobuf.traces, { maxDepth: 64, maxAttributes: 5 }), 'too-many-attributes', /^resourceSpans\[0\]\.resource\.attributes$/);
  });

  it('refuses nesting past the depth limit without recursing into it', () => {
    let value = len(1, 'leaf');
    for (let level = 0; level < 10_000; level += 1) value = len(5, len(1, value));
    const body = tracesRequest([spanFields([len(9, Buffer.concat([len(1, 'deep'), len(2, value)]))])]);
    const error = expectProblem(() => decodeOtlpTracesProtobuf(body), 'too-deep', /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.attributes\[0\]\.value\.arrayValue\.values\[0\].*\.arrayValue$/);
    expect(error.limit).toBe(64);
    // Depth is counted as for the JSON of the same export: the real one has a header array value at
    // {resourceSpans: [{scopeSpans: [{spans: [{attributes: [{value: {arrayValue: {values: [{…}]}}}]}]}]}]}, 13 levels.
    expect(() => decodeOtlpTracesProtobuf(captured.protobuf.traces, { maxDepth: 13, maxAttributes: 10_000 })).not.toThrow();
    expectProblem(() => decodeOtlpTracesProtobuf(captured.protobuf.traces, { maxDepth: 12, maxAttributes: 10_000 }), 'too-deep', /attributes\[\d+\]\.value\.arrayValue\.values\[0\]$/);
  });
});

describe('decodeOtlpLogsProtobuf', () => {
  it('reads a log record with its trace context and body', () => {
    const record = Buffer.concat([
      fixed64(1, 1_796_388_173_503_000_000n),
      uint(2, 17),
      len(3, 'ERROR'),
      len(5, len(1, 'placing the order failed')),
      stringAttribute(6, 'exception.type', 'TypeError'),
      len(9, Buffer.from('5a0eeaa87bb73009cbe623d48deae07b', 'hex')),
      len(10, Buffer.from('2b599ffe255ad2a5', 'hex')),
    ]);
    const body = len(1, len(2, len(2, record)));
    expect(decodeOtlpLogsProtobuf(body).resourceLogs?.[0]?.scopeLogs?.[0]?.logRecords?.[0]).toEqual({
      timeUnixNano: '1796388173503000000',
      severityNumber: 17,
      severityText: 'ERROR',
      body: { stringValue: 'placing the order failed' },
      attributes: [{ key: 'exception.type', value: { stringValue: 'TypeError' } }],
      traceId: '5a0eeaa87bb73009cbe623d48deae07b',
      spanId: '2b599ffe255ad2a5',
    });
  });

  it('refuses a cut-off real log export', () => {
    expectProblem(() => decodeOtlpLogsProtobuf(captured.protobuf.logs.subarray(0, captured.protobuf.logs.length - 3)), 'truncated', 'resourceLogs');
  });
});
