import { TracemendError } from '@tracemend/contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAlert, traceIdsOf } from './alerts';
import { buildEnvelope } from './envelope';
import { MAX_LOG_LINES, detectLogLineShape, parseLogLines, type LogLineRecord } from './json-logs';
import { buildEnvelopeFromLogLines } from './log-lines-envelope';
import { LOGGED_APP_ROOT, LOGGING_LIBRARIES, recordLoggedFailure, type LoggedFailure } from './testing/log-lines';

const receivedAt = '2026-11-20T12:00:00.000Z';
const traceSource = { alertId: 'a'.repeat(64), format: 'otlp-traces-json' as const, receivedAt };
const lineSource = { alertId: 'b'.repeat(64), format: 'log-lines' as const, receivedAt };
const appRoots = [LOGGED_APP_ROOT];

let withException: LoggedFailure;
let withoutException: LoggedFailure;

beforeAll(async () => {
  withException = await recordLoggedFailure({ recordException: true });
  withoutException = await recordLoggedFailure({ recordException: false });
});

function errorOf(message: () => unknown): TracemendError {
  try {
    message();
  } catch (error) {
    expect(error).toBeInstanceOf(TracemendError);
    return error as TracemendError;
  }
  throw new Error('expected an error');
}

describe('parseLogLines over lines the real libraries wrote', () => {
  it.each(LOGGING_LIBRARIES)('%s: shape, severity, time, trace context, error and request', (library) => {
    const records = parseLogLines(withException.lines[library]);
    expect(records.map((record) => [record.line, record.shape, record.severity])).toEqual([
      [1, library, 'info'],
      [2, library, 'error'],
    ]);
    const [request, failure] = records as [LogLineRecord, LogLineRecord];
    expect(Date.parse(request.timestamp ?? '')).toBeGreaterThan(Date.parse('2026-01-01T00:00:00Z'));
    expect(request).toMatchObject({ message: 'payment requested', service: 'payments-api', traceId: withException.traceId, spanId: withException.serverSpanId });
    expect(request.request).toEqual({
      method: 'POST',
      url: '/v1/payments?dryRun=false',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-7f3a' },
      body: { orderId: 'ord_7f3a', amountCents: 1299 },
    });
    expect(failure).toMatchObject({ traceId: withException.traceId, spanId: withException.failingSpanId, service: 'payments-api' });
    expect(failure.error).toMatchObject({ type: 'TypeError', message: withException.message });
    expect(failure.error?.stack).toMatch(/^TypeError: order ord_7f3a has no card to charge\n\s+at chargeCard /);
    // The consumed fields do not repeat as attributes; the rest (pid, hostname, trace_flags' neighbours) do.
    expect(Object.keys(failure.attributes)).not.toContain('err');
    expect(Object.keys(failure.attributes)).not.toContain('trace_id');
  });

  it('tells the shapes apart by their fields', () => {
    expect(detectLogLineShape({ level: 50, time: 1_700_000_000_000, msg: 'x' })).toBe('pino');
    expect(detectLogLineShape({ level: 'error', time: '2026-11-20T12:00:00Z', msg: 'x' })).toBe('pino');
    expect(detectLogLineShape({ v: 0, level: 50, time: '2026-11-20T12:00:00Z', msg: 'x', name: 'a', hostname: 'h', pid: 1 })).toBe('bunyan');
    expect(detectLogLineShape({ level: 'error', message: 'x', timestamp: '2026-11-20T12:00:00Z' })).toBe('winston');
    expect(detectLogLineShape({ severity: 'ERROR', message: 'x' })).toBeUndefined();
    expect(detectLogLineShape([1, 2])).toBeUndefined();
  });

  it('maps pino/bunyan numeric levels and winston npm and syslog names to severities', () => {
    const text = [
      '{"level":10,"time":1}', '{"level":20,"time":1}', '{"level":40,"time":1}', '{"level":60,"time":1}',
      '{"level":"silly","message":""}', '{"level":"verbose","message":""}', '{"level":"warning","message":""}', '{"level":"crit","message":""}',
      '{"level":"\\u001b[31merror\\u001b[39m","message":"colorized"}',
    ].join('\n');
    expect(parseLogLines(text).map((record) => record.severity)).toEqual(['trace', 'debug', 'warn', 'fatal', 'trace', 'debug', 'warn', 'fatal', 'error']);
  });

  it('names the line that is not JSON, skipping blank lines in the count but not in the numbering', () => {
    const lines = `${withException.lines.pino.trim()}\n\n{"level":50,"time":1,"msg":"trunc`;
    const error = errorOf(() => parseLogLines(lines));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/^log line 4 is not JSON: /);
  });

  it('names the line that is JSON but no known log record', () => {
    const error = errorOf(() => parseLogLines('{"level":30,"time":1,"msg":"ok"}\n["not","an","object"]'));
    expect(error.message).toMatch(/^log line 2 is not a pino, bunyan or winston record/);
    expect(errorOf(() => parseLogLines('{"severity":"ERROR","text":"gcp shape"}')).message).toMatch(/^log line 1 /);
    expect(errorOf(() => parseLogLines(' \n\n')).message).toBe('the log-lines alert holds no log lines');
  });

  it('refuses more lines than a batch may hold', () => {
    const text = Array.from({ length: MAX_LOG_LINES + 1 }, () => '{"level":30,"time":1}').join('\n');
    expect(errorOf(() => parseLogLines(text)).message).toMatch(/more than 10000 lines/);
  });

  it('keeps __proto__ and constructor keys out of the attributes and the prototype', () => {
    const [record] = parseLogLines('{"level":50,"time":1,"msg":"x","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"user":"u1"}');
    expect(record?.attributes).toEqual({ user: 'u1' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reads lines through parseAlert and lists their trace ids', () => {
    const alert = parseAlert(Buffer.from(withException.lines.winston), 'log-lines');
    expect(alert.format).toBe('log-lines');
    expect(traceIdsOf(alert)).toEqual([withException.traceId]);
    expect(() => parseAlert(Buffer.from('not json\n'), 'log-lines')).toThrow(/log line 1 is not JSON/);
  });
});

describe('log lines joined to their trace', () => {
  it.each(LOGGING_LIBRARIES)('%s: the line supplies the stack, the failing span and the request the trace lacks', (library) => {
    const records = parseLogLines(withoutException.lines[library]);
    const envelope = buildEnvelope({ traces: { source: traceSource, body: withoutException.traces }, logLines: [{ source: lineSource, records }], appRoots });
    expect(envelope.identity).toMatchObject({ service: 'payments-api', version: '4.2.0', traceId: withoutException.traceId, spanId: withoutException.failingSpanId });
    expect(envelope.symptom).toMatchObject({ errorType: 'TypeError', message: withoutException.message });
    expect(envelope.symptom.frames[0]).toMatchObject({ function: 'chargeCard', file: 'testing/log-lines.ts', inApp: true });
    expect(envelope.provenance.notes).toContain(`the stack comes from log line 2 (${library}); the trace recorded none`);
    expect(envelope.entry).toMatchObject({ kind: 'http', method: 'POST', route: '/v1/payments', query: { dryRun: 'false' } });
    if (envelope.entry.kind !== 'http') throw new Error('expected http');
    expect(envelope.entry.headers).toEqual({ 'content-type': 'application/json', 'x-request-id': 'req-7f3a' });
    expect(envelope.entry.body).toEqual({ orderId: 'ord_7f3a', amountCents: 1299 });
    expect(envelope.logs.map((log) => [log.severity, log.body, log.spanId])).toEqual([
      ['info', 'payment requested', withoutException.serverSpanId],
      ['error', library === 'winston' ? withoutException.message : 'payment failed', withoutException.failingSpanId],
    ]);
    expect(envelope.logs[1]?.attributes['exception.type']).toBe('TypeError');
    expect(envelope.provenance.sources).toEqual([{ ...traceSource, items: 2 }, { ...lineSource, items: 2 }]);
    expect(envelope.provenance.trace).toMatchObject({ joined: true, services: ['payments-api'], missingSpanCount: 0 });
  });

  it('fingerprints the failure the same from the trace, from any library\'s lines, and from the lines alone', () => {
    const fromTrace = buildEnvelope({ traces: { source: traceSource, body: withException.traces }, appRoots }).identity.fingerprint;
    const fingerprints = LOGGING_LIBRARIES.flatMap((library) => {
      const joinedLines = parseLogLines(withoutException.lines[library]);
      const joined = buildEnvelope({ traces: { source: traceSource, body: withoutException.traces }, logLines: [{ source: lineSource, records: joinedLines }], appRoots });
      const alone = buildEnvelopeFromLogLines({ source: lineSource, records: parseLogLines(withException.lines[library]), appRoots });
      return [joined.identity.fingerprint, alone.identity.fingerprint];
    });
    expect(new Set(fingerprints)).toEqual(new Set([fromTrace]));
  });

  it('takes the deepest error-status span as failing when the error line names no span of the trace', () => {
    const records = parseLogLines(withoutException.lines.pino).map(({ spanId: _spanId, ...record }) => record);
    const envelope = buildEnvelope({ traces: { source: traceSource, body: withoutException.traces }, logLines: [{ source: lineSource, records }], appRoots });
    expect(envelope.identity.spanId).toBe(withoutException.failingSpanId);
    expect(envelope.symptom.frames[0]).toMatchObject({ function: 'chargeCard', inApp: true });
  });

  it('does not count a warning that carries an error as the failure', () => {
    const records = parseLogLines(withoutException.lines.pino).map((record) => ({ ...record, severity: record.severity === 'error' ? ('warn' as const) : record.severity }));
    expect(() => buildEnvelope({ traces: { source: traceSource, body: withoutException.traces }, logLines: [{ source: lineSource, records }], appRoots })).toThrow(/no joined log line reports an error/);
  });

  it('leaves the trace\'s own exception in charge and adds lines of other traces nowhere', () => {
    const other = parseLogLines(withoutException.lines.pino);
    const envelope = buildEnvelope({ traces: { source: traceSource, body: withException.traces }, logLines: [{ source: lineSource, records: other }], appRoots });
    expect(envelope.logs).toEqual([]);
    expect(envelope.provenance.sources).toHaveLength(1);
    expect(envelope.provenance.notes.some((note) => note.includes('log line'))).toBe(false);
  });
});

describe('log lines with no trace to join', () => {
  it.each(LOGGING_LIBRARIES)('%s: an envelope from the err stack and the logged request, saying no trace was joined', (library) => {
    const records = parseLogLines(withException.lines[library]);
    const envelope = buildEnvelopeFromLogLines({ source: lineSource, records, appRoots });
    expect(envelope.identity).toMatchObject({ service: 'payments-api', traceId: withException.traceId, spanId: withException.failingSpanId, version: 'unknown' });
    expect(envelope.symptom).toMatchObject({ errorType: 'TypeError', message: withException.message });
    expect(envelope.symptom.frames[0]).toMatchObject({ function: 'chargeCard', inApp: true });
    expect(envelope.entry).toMatchObject({ kind: 'http', method: 'POST', path: '/v1/payments', query: { dryRun: 'false' }, body: { orderId: 'ord_7f3a', amountCents: 1299 } });
    expect(envelope.spans).toEqual([]);
    expect(envelope.logs).toHaveLength(2);
    expect(envelope.provenance.trace).toEqual({ joined: false, services: [], parentChain: [], criticalPath: [], downstreamSpans: [], missingSpanIds: [], missingSpanCount: 0 });
    expect(envelope.provenance.notes[0]).toBe(`no trace was joined: no trace export of trace ${withException.traceId} was available`);
  });

  it('without a logged request, calls the top named in-app frame', () => {
    const records = parseLogLines(withException.lines.pino).filter((record) => record.severity === 'error');
    const envelope = buildEnvelopeFromLogLines({ source: lineSource, records, appRoots });
    expect(envelope.entry).toEqual({ kind: 'function', module: 'testing/log-lines.ts', export: 'chargeCard', args: [] });
    expect(envelope.provenance.notes.some((note) => note.includes('the entry calls chargeCard of testing/log-lines.ts'))).toBe(true);
  });

  it('refuses lines that report no error, naming how many were read', () => {
    const records = parseLogLines(withException.lines.bunyan).filter((record) => record.severity === 'info');
    expect(() => buildEnvelopeFromLogLines({ source: lineSource, records, appRoots })).toThrow(/none of the 1 log lines reports an error/);
  });
});
