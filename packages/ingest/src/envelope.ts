import { FailureEnvelope, LIMITS, TracemendError, parseContract, type AlertFormat, type DownstreamCall, type Entry, type LogExcerpt, type SpanExcerpt } from '@tracemend/contracts';
import { fingerprint, messageHash } from './fingerprint';
import {
  anyValueToJson,
  attributesToJson,
  nanosToIso,
  nanosToMs,
  parseJsonText,
  HTTP_METHODS,
  severityName,
  spanKindName,
  statusCodeName,
  toContractAttributes,
  type JsonValue,
  type OtlpEvent,
  type OtlpLogs,
  type OtlpSpan,
  type OtlpTraces,
} from './otlp';
import { DEFAULT_APP_ROOTS, parseV8Stack } from './stack';

/** One raw signal that contributed to the envelope. */
export interface AlertSource {
  alertId: string;
  format: AlertFormat;
  receivedAt: string;
}

export interface BuildEnvelopeInput {
  traces: { source: AlertSource; body: OtlpTraces };
  logs?: { source: AlertSource; body: OtlpLogs }[];
  /** Deployed code roots that map stack frames to repository paths. */
  appRoots?: readonly string[];
}

interface IndexedSpan {
  span: OtlpSpan;
  service: string;
  resource: Record<string, JsonValue>;
  attributes: Record<string, JsonValue>;
}


function text(value: JsonValue | undefined): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
}

function eventAttributes(event: OtlpEvent | undefined): Record<string, JsonValue> {
  return attributesToJson(event?.attributes);
}

function indexSpans(traces: OtlpTraces): Map<string, IndexedSpan> {
  const spans = new Map<string, IndexedSpan>();
  for (const resourceSpans of traces.resourceSpans ?? []) {
    const resource = attributesToJson(resourceSpans.resource?.attributes);
    const service = text(resource['service.name']) ?? 'unknown_service';
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        if (typeof span.spanId !== 'string' || typeof span.traceId !== 'string') continue;
        spans.set(span.spanId.toLowerCase(), { span, service, resource, attributes: attributesToJson(span.attributes) });
      }
    }
  }
  return spans;
}

function ancestors(spans: Map<string, IndexedSpan>, start: IndexedSpan): IndexedSpan[] {
  const chain: IndexedSpan[] = [];
  let current = start.span.parentSpanId ? spans.get(start.span.parentSpanId.toLowerCase()) : undefined;
  while (current && chain.length < LIMITS.spans) {
    chain.push(current);
    current = current.span.parentSpanId ? spans.get(current.span.parentSpanId.toLowerCase()) : undefined;
  }
  return chain;
}

function descendants(spans: Map<string, IndexedSpan>, root: IndexedSpan): IndexedSpan[] {
  const out: IndexedSpan[] = [];
  const queue = [root.span.spanId.toLowerCase()];
  while (queue.length > 0 && out.length < LIMITS.spans) {
    const parent = queue.shift();
    for (const candidate of spans.values()) {
      if (candidate.span.parentSpanId?.toLowerCase() === parent) {
        out.push(candidate);
        queue.push(candidate.span.spanId.toLowerCase());
      }
    }
  }
  return out;
}

/** The failing span: the deepest span carrying an `exception` event (the most specific report of the crash). */
function failingSpan(spans: Map<string, IndexedSpan>): IndexedSpan | undefined {
  let best: { span: IndexedSpan; depth: number } | undefined;
  for (const candidate of spans.values()) {
    if (!candidate.span.events?.some((event) => event.name === 'exception')) continue;
    const depth = ancestors(spans, candidate).length;
    if (best === undefined || depth > best.depth) best = { span: candidate, depth };
  }
  return best?.span;
}

function findEvent(chain: IndexedSpan[], name: string): OtlpEvent | undefined {
  for (const item of chain) {
    const event = item.span.events?.find((e) => e.name === name);
    if (event) return event;
  }
  return undefined;
}

function headerRecord(attributes: Record<string, JsonValue>, prefix: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (!key.startsWith(prefix)) continue;
    const v = Array.isArray(value) ? value.map((item) => text(item) ?? '').join(', ') : text(value);
    if (v !== undefined) headers[key.slice(prefix.length)] = v.slice(0, LIMITS.text);
  }
  return headers;
}

function queryRecord(query: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!query) return out;
  for (const [key, value] of new URLSearchParams(query.replace(/^\?/, ''))) out[key.slice(0, 256)] = value.slice(0, LIMITS.text);
  return out;
}

function buildEntry(chain: IndexedSpan[], notes: string[]): Entry {
  const input = eventAttributes(findEvent(chain, 'tracemend.input'));
  const kind = text(input['tracemend.input.kind']);
  const server = chain.find((item) => spanKindName(item.span.kind) === 'server');
  const consumer = chain.find((item) => spanKindName(item.span.kind) === 'consumer');
  if (kind === 'function') {
    const args = parseJsonText(input['tracemend.input.args']);
    return {
      kind: 'function',
      module: text(input['tracemend.input.module']) ?? '',
      export: text(input['tracemend.input.export']) ?? 'default',
      args: Array.isArray(args) ? args.slice(0, 32) : [],
    };
  }
  if (kind === 'message' || (kind === undefined && consumer)) {
    const payload = parseJsonText(input['tracemend.input.payload']);
    if (payload === undefined) notes.push('no message payload was recorded; the replay delivers an empty message');
    return {
      kind: 'message',
      module: text(input['tracemend.input.module']) ?? '',
      export: text(input['tracemend.input.export']) ?? 'default',
      topic: text(consumer?.attributes['messaging.destination.name']) ?? text(input['tracemend.input.topic']) ?? 'unknown',
      payload: payload ?? null,
    };
  }
  if (server === undefined) {
    throw new TracemendError('INVALID_INPUT', 'the failing span has no server span, consumer span or recorded input to drive it from');
  }
  const method = (text(server.attributes['http.request.method']) ?? text(server.attributes['http.method']) ?? 'GET').toUpperCase();
  const path = text(server.attributes['url.path']) ?? text(server.attributes['http.target'])?.split('?')[0] ?? '/';
  const body = parseJsonText(input['tracemend.input.body']);
  if (body === undefined) notes.push('no request body was recorded; the replay sends none');
  return {
    kind: 'http',
    method: (HTTP_METHODS.has(method) ? method : 'GET') as 'GET',
    route: text(server.attributes['http.route']) ?? chain.map((item) => text(item.attributes['http.route'])).find(Boolean) ?? path,
    path,
    query: queryRecord(text(server.attributes['url.query'])),
    headers: headerRecord(server.attributes, 'http.request.header.'),
    ...(body === undefined ? {} : { body }),
  };
}

function featureFlags(chain: IndexedSpan[]): Record<string, boolean | string | number> {
  const flags: Record<string, boolean | string | number> = {};
  for (const item of [...chain].reverse()) {
    for (const [key, value] of Object.entries(item.attributes)) {
      if (key.startsWith('feature_flag.') && key !== 'feature_flag.key' && (typeof value === 'boolean' || typeof value === 'string' || typeof value === 'number')) {
        flags[key.slice('feature_flag.'.length)] = value;
      }
    }
    for (const event of item.span.events ?? []) {
      if (event.name !== 'feature_flag.evaluation' && event.name !== 'feature_flag') continue;
      const attributes = eventAttributes(event);
      const key = text(attributes['feature_flag.key']);
      const value = attributes['feature_flag.result.value'] ?? attributes['feature_flag.variant'];
      if (key && (typeof value === 'boolean' || typeof value === 'string' || typeof value === 'number')) flags[key] = value;
    }
  }
  return flags;
}

function downstreamCalls(spans: IndexedSpan[], notes: string[]): DownstreamCall[] {
  const calls: (DownstreamCall & { startedAt: number })[] = [];
  for (const item of spans) {
    if (spanKindName(item.span.kind) !== 'client') continue;
    const method = text(item.attributes['http.request.method']) ?? text(item.attributes['http.method']);
    const url = text(item.attributes['url.full']) ?? text(item.attributes['http.url']);
    const status = Number(item.attributes['http.response.status_code'] ?? item.attributes['http.status_code']);
    if (!method || !url || !Number.isInteger(status) || status < 100 || status > 599) {
      notes.push(`client span "${item.span.name}" is not an HTTP call with a response; it is not served on replay`);
      continue;
    }
    const response = eventAttributes(item.span.events?.find((event) => event.name === 'tracemend.response'));
    const body = parseJsonText(response['http.response.body']);
    if (body === undefined) notes.push(`no response body was recorded for ${method} ${url}`);
    const start = nanosToMs(item.span.startTimeUnixNano);
    const end = nanosToMs(item.span.endTimeUnixNano);
    calls.push({
      method: (HTTP_METHODS.has(method.toUpperCase()) ? method.toUpperCase() : 'GET') as 'GET',
      urlTemplate: text(item.attributes['url.template']) ?? new URL(url).pathname,
      url,
      status,
      responseHeaders: headerRecord(item.attributes, 'http.response.header.'),
      ...(body === undefined ? {} : { responseBody: body }),
      ...(start !== undefined && end !== undefined ? { durationMs: Math.max(0, end - start) } : {}),
      startedAt: start ?? 0,
    });
  }
  // Replays serve calls in the order the code made them.
  return calls
    .sort((a, b) => a.startedAt - b.startedAt)
    .slice(0, LIMITS.downstream)
    .map(({ startedAt: _startedAt, ...call }) => call);
}

function spanExcerpt(item: IndexedSpan): SpanExcerpt {
  const start = nanosToIso(item.span.startTimeUnixNano) ?? new Date(0).toISOString();
  return {
    traceId: item.span.traceId.toLowerCase(),
    spanId: item.span.spanId.toLowerCase(),
    ...(item.span.parentSpanId ? { parentSpanId: item.span.parentSpanId.toLowerCase() } : {}),
    name: item.span.name.slice(0, 256),
    kind: spanKindName(item.span.kind),
    service: item.service,
    startTime: start,
    endTime: nanosToIso(item.span.endTimeUnixNano) ?? start,
    status: {
      code: statusCodeName(item.span.status?.code),
      ...(item.span.status?.message ? { message: item.span.status.message.slice(0, LIMITS.text) } : {}),
    },
    attributes: toContractAttributes(item.attributes, LIMITS.records, LIMITS.text),
  };
}

function logExcerpts(logs: BuildEnvelopeInput['logs'], traceId: string): { records: LogExcerpt[]; sources: (AlertSource & { items: number })[] } {
  const records: LogExcerpt[] = [];
  const sources: (AlertSource & { items: number })[] = [];
  for (const { source, body } of logs ?? []) {
    let used = 0;
    for (const resourceLogs of body.resourceLogs ?? []) {
      for (const scope of resourceLogs.scopeLogs ?? []) {
        for (const record of scope.logRecords ?? []) {
          if (record.traceId?.toLowerCase() !== traceId || records.length >= LIMITS.logs) continue;
          used += 1;
          const bodyValue = anyValueToJson(record.body);
          records.push({
            timestamp: nanosToIso(record.timeUnixNano) ?? nanosToIso(record.observedTimeUnixNano) ?? new Date(0).toISOString(),
            severity: severityName(record.severityNumber, record.severityText),
            body: (typeof bodyValue === 'string' ? bodyValue : JSON.stringify(bodyValue)).slice(0, LIMITS.text),
            traceId,
            ...(record.spanId ? { spanId: record.spanId.toLowerCase() } : {}),
            attributes: toContractAttributes(attributesToJson(record.attributes), LIMITS.records, LIMITS.text),
          });
        }
      }
    }
    if (used > 0) sources.push({ ...source, items: used });
  }
  return { records, sources };
}

/**
 * Builds the ungated FailureEnvelope from an OTLP/JSON trace export (and the log exports of the same
 * trace): the failing span, its symptom and frames, how to drive it, the flags and downstream calls
 * it saw, and the causal excerpt. Throws NO_FAILURE_IN_ALERT when no span reports an exception.
 */
export function buildEnvelope(input: BuildEnvelopeInput): FailureEnvelope {
  const appRoots = input.appRoots ?? DEFAULT_APP_ROOTS;
  const spans = indexSpans(input.traces.body);
  if (spans.size === 0) throw new TracemendError('NO_FAILURE_IN_ALERT', 'the trace export holds no spans');
  const failing = failingSpan(spans);
  if (failing === undefined) throw new TracemendError('NO_FAILURE_IN_ALERT', 'no span in the trace export carries an exception event');
  const notes: string[] = [];
  const chain = [failing, ...ancestors(spans, failing)];
  const root = chain[chain.length - 1] ?? failing;
  const related = [...chain.slice().reverse(), ...descendants(spans, root).filter((item) => !chain.includes(item))];

  const exception = eventAttributes(failing.span.events?.find((event) => event.name === 'exception'));
  const errorType = text(exception['exception.type']) ?? 'Error';
  const message = text(exception['exception.message']) ?? failing.span.status?.message ?? '';
  const frames = parseV8Stack(text(exception['exception.stacktrace']) ?? '', appRoots);
  if (!frames.some((frame) => frame.inApp)) notes.push(`no stack frame lies under the app roots ${appRoots.join(', ')}`);

  const exceptionEvent = failing.span.events?.find((event) => event.name === 'exception');
  const recordedAt = nanosToIso(exceptionEvent?.timeUnixNano) ?? nanosToIso(failing.span.startTimeUnixNano) ?? input.traces.source.receivedAt;
  const startMs = nanosToMs(root.span.startTimeUnixNano);
  const endMs = nanosToMs(root.span.endTimeUnixNano);
  const input_ = eventAttributes(findEvent(chain, 'tracemend.input'));
  const env = parseJsonText(input_['tracemend.input.env']);
  const traceId = failing.span.traceId.toLowerCase();
  const logs = logExcerpts(input.logs, traceId);
  const service = failing.service;
  const resource = failing.resource;

  const envelope: FailureEnvelope = {
    schemaVersion: 1,
    identity: {
      fingerprint: fingerprint(service, errorType, frames),
      traceId,
      spanId: failing.span.spanId.toLowerCase(),
      service,
      version: text(resource['service.version']) ?? 'unknown',
      environment: text(resource['deployment.environment.name']) ?? text(resource['deployment.environment']) ?? 'unknown',
      firstSeen: recordedAt,
      lastSeen: recordedAt,
      occurrences: 1,
    },
    symptom: { errorType: errorType.slice(0, 256), message: message.slice(0, LIMITS.text), messageHash: messageHash(message), frames },
    entry: buildEntry(chain, notes),
    environment: {
      featureFlags: featureFlags(chain),
      env: env !== null && typeof env === 'object' && !Array.isArray(env) ? Object.fromEntries(Object.entries(env).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])) : {},
      ...(text(resource['process.runtime.locale']) ? { locale: text(resource['process.runtime.locale']) } : {}),
      ...(text(resource['process.runtime.timezone']) ? { timezone: text(resource['process.runtime.timezone']) } : {}),
      runtime: { name: 'node', version: text(resource['process.runtime.version']) ?? 'unknown' },
    },
    timing: { recordedAt, ...(startMs !== undefined && endMs !== undefined ? { durationMs: Math.max(0, endMs - startMs) } : {}) },
    downstream: downstreamCalls(related, notes),
    spans: related.slice(0, LIMITS.spans).map(spanExcerpt),
    logs: logs.records,
    provenance: {
      sources: [{ ...input.traces.source, items: spans.size }, ...logs.sources],
      notes: notes.map((note) => note.slice(0, LIMITS.text)).slice(0, LIMITS.records),
    },
  };
  return parseContract(FailureEnvelope, envelope, 'FailureEnvelope');
}
