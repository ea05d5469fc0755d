import { FailureEnvelope, LIMITS, TracemendError, parseContract, type AlertFormat, type Entry, type Frame, type InputProvenance, type LogExcerpt, type SpanExcerpt } from '@tracemend/contracts';
import { causalExcerpt, descendants, failingSpan, hasExceptionEvent, indexSpans, type CausalExcerpt, type IndexedSpan, type SpanGraph } from './causal';
import { downstreamCalls } from './downstream';
import { functionEntry, isFaasSpan } from './faas';
import { fingerprint, messageHash } from './fingerprint';
import { fromAttributes, fromEvents, fromRecords, joinedRecords, missingNote, pick, text, type InputTrail, type JoinedRecord } from './inputs';
import { isErrorRecord, logLineExcerpt, type LogLineRecord, type LogLineRequest } from './json-logs';
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
  type OtlpTraces,
} from './otlp';
import { isConsumerSpan, messageEntry } from './messaging';
import { revisionField } from './revision';
import { frameMappingOf, parseV8Stack, unmappedFramesNote, type FrameMapping, type RepositoryLayout } from './stack';

/** One raw signal that contributed to the envelope. */
export interface AlertSource {
  alertId: string;
  format: AlertFormat;
  receivedAt: string;
}

export interface BuildEnvelopeInput {
  traces: { source: AlertSource; body: OtlpTraces };
  logs?: { source: AlertSource; body: OtlpLogs }[];
  /** Parsed JSON log lines; those naming the trace join it. */
  logLines?: { source: AlertSource; records: LogLineRecord[] }[];
  /** Deployed code roots that map stack frames to repository paths when `repository` is not given. */
  appRoots?: readonly string[];
  /** The repository's files at the deployed commit: frames are matched to them (see `mapFramesToRepository`). */
  repository?: RepositoryLayout;
}

function eventAttributes(event: OtlpEvent | undefined): Record<string, JsonValue> {
  return attributesToJson(event?.attributes);
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

function loggedUrl(url: string | undefined): URL | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url, 'http://service.invalid');
  } catch {
    return undefined;
  }
}

/** What an entry is read from beyond the spans: the trace's log records and where provenance goes. */
export interface EntrySources {
  records?: readonly JoinedRecord[];
  /** When the failure was recorded, for events synthesized from it. */
  startedAt?: string;
  inputs?: InputProvenance[];
}

const BODY_ATTRIBUTES = ['http.request.body.content', 'http.request.body.data', 'http.request.body'] as const;
const BODY_RECORD_FIELDS = ['http.request.body', 'req.body', 'request.body', 'body'] as const;
const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

/** The first attribute of `keys` a span carries, with where it came from. */
function spanValue(item: IndexedSpan | undefined, keys: readonly string[]): { value: string; key: string } | undefined {
  for (const key of keys) {
    const value = text(item?.attributes[key]);
    if (value !== undefined) return { value, key };
  }
  return undefined;
}

function httpEntry(server: IndexedSpan | undefined, chain: IndexedSpan[], request: LogLineRequest | undefined, records: readonly JoinedRecord[], trail: InputTrail): Entry {
  const attributes = server?.attributes ?? {};
  const at = server ? ` on span ${server.id}` : '';
  // A log line's `req` fills in what the span did not record (pino-http and bunyan log the request).
  const logged = loggedUrl(request?.url);
  const spanMethod = spanValue(server, ['http.request.method', 'http.method']);
  const method = (spanMethod?.value ?? request?.method ?? 'GET').toUpperCase();
  trail.inputs.push(
    spanMethod
      ? { path: 'entry.method', signal: 'span-attribute', source: `attribute ${spanMethod.key}${at}` }
      : request?.method
        ? { path: 'entry.method', signal: 'log-line', source: 'req.method of a log line' }
        : { path: 'entry.method', signal: 'inferred', source: 'no method was recorded; GET', guessed: true },
  );
  const spanPath = spanValue(server, ['url.path', 'http.target']);
  const path = spanPath?.value.split('?')[0] ?? logged?.pathname ?? '/';
  if (spanPath) trail.inputs.push({ path: 'entry.path', signal: 'span-attribute', source: `attribute ${spanPath.key}${at}` });
  else if (logged) trail.inputs.push({ path: 'entry.path', signal: 'log-line', source: 'req.url of a log line' });
  const routeSpan = server?.attributes['http.route'] !== undefined ? server : chain.find((item) => text(item.attributes['http.route']));
  const route = text(routeSpan?.attributes['http.route']) ?? path;
  trail.inputs.push(routeSpan ? { path: 'entry.route', signal: 'span-attribute', source: `attribute http.route on span ${routeSpan.id}` } : { path: 'entry.route', signal: 'inferred', source: 'no http.route was recorded; the path stands in', guessed: true });

  const legacy = eventAttributes(findEvent(chain, 'tracemend.input'));
  const legacyBody = legacy['tracemend.input.body'] === undefined ? [] : [{ value: parseJsonText(legacy['tracemend.input.body']) ?? null, signal: 'span-event' as const, source: 'event tracemend.input (tracemend.input.body)' }];
  const spanIds = new Set([...(server ? [server.id] : []), ...chain.map((item) => item.id)]);
  const found = pick(trail, 'entry.body', [
    ...fromAttributes(server, BODY_ATTRIBUTES),
    ...fromEvents(server ? [server, ...chain.filter((item) => item !== server)] : chain, ['http.request.body'], ['http.request.body.content', 'body']),
    ...fromRecords(records, spanIds, BODY_RECORD_FIELDS),
    ...(request?.body === undefined ? [] : [{ value: parseJsonText(request.body) ?? null, signal: 'log-line' as const, source: 'req.body of the logged request' }]),
    ...legacyBody,
  ]);
  if (found === undefined && BODY_METHODS.has(method)) {
    trail.notes.push(
      missingNote(
        `entry.body (the request body of ${method} ${path})`,
        [
          `attributes ${BODY_ATTRIBUTES.join(', ')}${at}`,
          'span events http.request.body (attribute http.request.body.content, else body)',
          `log records of the trace naming the span or no span with ${BODY_RECORD_FIELDS.join(', ')}`,
          'tracemend.input events (tracemend.input.body)',
        ],
        'The replay sends no body',
      ),
    );
  }
  const spanHeaders = headerRecord(attributes, 'http.request.header.');
  const spanQueryAttribute = spanValue(server, ['url.query']);
  const spanQuery = queryRecord(spanQueryAttribute?.value ?? text(attributes['http.target'])?.split('?')[1]);
  const query = Object.keys(spanQuery).length > 0 || logged === undefined ? spanQuery : queryRecord(logged.search);
  if (Object.keys(spanQuery).length > 0) trail.inputs.push({ path: 'entry.query', signal: 'span-attribute', source: `attribute ${spanQueryAttribute?.key ?? 'http.target'}${at}` });
  else if (Object.keys(query).length > 0) trail.inputs.push({ path: 'entry.query', signal: 'log-line', source: 'req.url of a log line' });
  const headers = Object.keys(spanHeaders).length > 0 || request === undefined ? spanHeaders : Object.fromEntries(Object.entries(request.headers).slice(0, LIMITS.records));
  if (Object.keys(spanHeaders).length > 0) trail.inputs.push({ path: 'entry.headers', signal: 'span-attribute', source: `attributes http.request.header.*${at}` });
  else if (Object.keys(headers).length > 0) trail.inputs.push({ path: 'entry.headers', signal: 'log-line', source: 'req.headers of a log line' });
  return {
    kind: 'http',
    method: (HTTP_METHODS.has(method) ? method : 'GET') as 'GET',
    route,
    path,
    query,
    headers,
    ...(found === undefined ? {} : { body: found.value }),
  };
}

/**
 * How to drive the failing code, from its service's own spans: a FaaS invocation (the handler gets
 * the event), a queue consumer (the handler gets the message), an HTTP server span or a logged
 * request. A legacy `tracemend.input` event naming a function is used as is; its body or payload is
 * one source among the others.
 */
export function buildEntry(chain: IndexedSpan[], notes: string[], request?: LogLineRequest, sources: EntrySources = {}): Entry {
  const trail: InputTrail = { inputs: sources.inputs ?? [], notes };
  const records = sources.records ?? [];
  const inputEvent = findEvent(chain, 'tracemend.input');
  const input = eventAttributes(inputEvent);
  const kind = text(input['tracemend.input.kind']);
  if (kind === 'function') {
    const args = parseJsonText(input['tracemend.input.args']);
    trail.inputs.push({ path: 'entry.args', signal: 'span-event', source: 'event tracemend.input (tracemend.input.args)' });
    return {
      kind: 'function',
      module: text(input['tracemend.input.module']) ?? '',
      export: text(input['tracemend.input.export']) ?? 'default',
      args: Array.isArray(args) ? args.slice(0, 32) : [],
    };
  }
  // The service's entry span is the topmost of its own chain: a Lambda's SQS consumer span sits beneath its invocation.
  const faas = [...chain].reverse().find(isFaasSpan);
  const consumer = chain.find(isConsumerSpan);
  if (faas !== undefined) {
    const invocation: InputTrail = { inputs: [], notes: [] };
    const entry = functionEntry(faas, chain, records, sources.startedAt ?? nanosToIso(faas.span.startTimeUnixNano) ?? new Date(0).toISOString(), invocation);
    const eventRecorded = invocation.inputs.some((item) => item.path === 'entry.args[0]' && item.guessed !== true);
    if (!eventRecorded && consumer !== undefined) {
      // A queue-triggered function whose event was not recorded: the message its consumer span processed
      // is what can be replayed, delivered in the envelope its queue uses.
      const delivery: InputTrail = { inputs: [], notes: [] };
      const message = messageEntry(consumer, chain, records, { found: [], attributes: {} }, delivery);
      if (delivery.inputs.some((item) => item.path === 'entry.payload')) {
        trail.inputs.push(...delivery.inputs);
        trail.notes.push(
          ...delivery.notes,
          `entry: the invocation event of span ${faas.id} was not recorded; the message its consumer span ${consumer.id} processed was, so the replay delivers that message (the catalog's messageHandler, or its functionHandler with the event of the ${message.system ?? 'queue'} trigger)`,
        );
        return message;
      }
    }
    trail.inputs.push(...invocation.inputs);
    trail.notes.push(...invocation.notes);
    return entry;
  }
  const server = chain.find((item) => spanKindName(item.span.kind) === 'server');
  if (kind === 'message' || (kind === undefined && consumer)) {
    const legacyPayload = input['tracemend.input.payload'] === undefined ? [] : [{ value: parseJsonText(input['tracemend.input.payload']) ?? null, signal: 'span-event' as const, source: 'event tracemend.input (tracemend.input.payload)' }];
    return messageEntry(consumer, chain, records, { found: legacyPayload, attributes: input }, trail);
  }
  if (server === undefined && request?.url === undefined) {
    throw new TracemendError('INVALID_INPUT', 'the failing span has no server span, consumer span or recorded input to drive it from');
  }
  return httpEntry(server, chain, request, records, trail);
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
    ...(item.span.events?.length
      ? {
          events: item.span.events.slice(0, LIMITS.records).map((event) => ({
            name: event.name.slice(0, LIMITS.shortText),
            time: nanosToIso(event.timeUnixNano) ?? start,
            attributes: toContractAttributes(attributesToJson(event.attributes), LIMITS.records, LIMITS.text),
          })),
        }
      : {}),
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
 * When nothing recorded how the failing code was reached (no request, no entry span), the replay calls
 * the top in-app frame's function; a method name (`PaymentService.charge`) keeps its last part.
 */
export function frameEntry(frames: readonly Frame[], notes: string[]): Entry {
  const top = frames.find((frame) => frame.inApp && frame.function !== '<anonymous>');
  if (top === undefined) {
    throw new TracemendError('INVALID_INPUT', 'nothing records how the failing code was reached (no request, no entry span) and no in-app stack frame names a function to call instead');
  }
  const name = top.function.split('.').pop() || top.function;
  notes.push(`nothing records how the failing code was reached; the entry calls ${name} of ${top.file} (the top named in-app frame) with no arguments`);
  return { kind: 'function', module: top.file, export: name.slice(0, LIMITS.shortText), args: [] };
}

/**
 * The entry of the failing service: from its own spans, a recorded input or a logged request; when
 * the trace lost the spans that would say (the chain stops at a missing parent), the top in-app frame.
 */
function entryOf(causal: CausalExcerpt, graph: SpanGraph, notes: string[], request: LogLineRequest | undefined, frames: readonly Frame[], sources: EntrySources): Entry {
  const { chain, ownChain } = causal;
  const drivable =
    ownChain.some((item) => ['server', 'consumer'].includes(spanKindName(item.span.kind)) || isFaasSpan(item) || isConsumerSpan(item)) ||
    findEvent(ownChain, 'tracemend.input') !== undefined ||
    request?.url !== undefined;
  const top = chain[chain.length - 1];
  const cut = ownChain.length === chain.length && top?.parentId !== undefined && !graph.spans.has(top.parentId);
  if (drivable || !cut) return buildEntry(ownChain, notes, request, sources);
  notes.push(`the failing service's entry span is missing from the trace (its parent ${top.parentId ?? ''} was not exported)`);
  return frameEntry(frames, notes);
}

/** Log lines that belong to a trace: records naming one of its trace ids, with their source. */
interface JoinedLine {
  source: AlertSource;
  record: LogLineRecord;
}

function joinLogLines(logLines: BuildEnvelopeInput['logLines'], traceIds: ReadonlySet<string>): JoinedLine[] {
  const joined: JoinedLine[] = [];
  for (const { source, records } of logLines ?? []) {
    for (const record of records) if (record.traceId !== undefined && traceIds.has(record.traceId)) joined.push({ source, record });
  }
  return joined;
}

/** The error log line that reports the failing span: one naming its span first, then one naming no known span. */
function errorLineFor(lines: readonly JoinedLine[], failing: IndexedSpan, graph: SpanGraph): JoinedLine | undefined {
  const errors = lines.filter((line) => isErrorRecord(line.record));
  const withStack = (candidates: JoinedLine[]) => candidates.find((line) => line.record.error?.stack) ?? candidates[0];
  return (
    withStack(errors.filter((line) => line.record.spanId === failing.id)) ??
    withStack(errors.filter((line) => line.record.spanId === undefined || !graph.spans.has(line.record.spanId)))
  );
}

/** A logged request of the failing service's own spans (or of no known span), for what the span did not record. */
function requestLineFor(lines: readonly JoinedLine[], own: readonly IndexedSpan[], graph: SpanGraph): LogLineRequest | undefined {
  const ids = new Set(own.map((item) => item.id));
  return lines.find(({ record }) => record.request && (record.spanId === undefined ? true : ids.has(record.spanId) || !graph.spans.has(record.spanId)))?.record.request;
}

/** The spans the excerpt keeps: all of them in causal order, or, past the bound, the causal ones first. */
function selectSpans(related: IndexedSpan[], causal: CausalExcerpt): IndexedSpan[] {
  if (related.length <= LIMITS.spans) return related;
  const keep = new Set<IndexedSpan>();
  for (const item of [...causal.chain, ...causal.criticalPath, ...causal.downstream, ...related]) {
    if (keep.size >= LIMITS.spans) break;
    keep.add(item);
  }
  return related.filter((item) => keep.has(item));
}

function missingSpanNote(causal: CausalExcerpt): string | undefined {
  const { missingSpanIds, missingSpanCount } = causal.provenance;
  if (missingSpanCount === 0) return undefined;
  const top = causal.chain[causal.chain.length - 1];
  const stops = top?.parentId !== undefined && missingSpanIds.includes(top.parentId) ? `; the parent chain stops at span ${top.id} (${top.service})` : '';
  return `${missingSpanCount} span(s) named as parents are missing from the trace (sampled away or lost): ${missingSpanIds.slice(0, 8).join(', ')}${stops}`;
}

/** Spans whose own status is an error (client spans only echo their callee's). */
function errorStatusSpans(graph: SpanGraph): Set<string> {
  return new Set([...graph.spans.values()].filter((item) => statusCodeName(item.span.status?.code) === 'error' && spanKindName(item.span.kind) !== 'client').map((item) => item.id));
}

/** Error statuses below the failing span that no exception or error line explains: worth a reader's look. */
function unexplainedErrors(graph: SpanGraph, failing: IndexedSpan): string[] {
  return descendants(graph, failing)
    .filter((item) => statusCodeName(item.span.status?.code) === 'error' && spanKindName(item.span.kind) !== 'client' && !hasExceptionEvent(item))
    .slice(0, 3)
    .map((item) => `span "${item.span.name.slice(0, 128)}" of ${item.service} below the failing span reports an error status without an exception; the envelope is built for the deepest span that reports one`);
}

/**
 * What broke, from the failing span's `exception` event; an error log line joined to the span fills
 * in what the event lacks (a trace without exception events, or one recorded without a stack).
 */
function symptomOf(failing: IndexedSpan, errorLine: JoinedLine | undefined, mapping: FrameMapping, notes: string[]) {
  const exceptionEvent = failing.span.events?.find((event) => event.name === 'exception');
  const exception = eventAttributes(exceptionEvent);
  const logged = errorLine?.record.error;
  const errorType = text(exception['exception.type']) ?? logged?.type ?? 'Error';
  const message = text(exception['exception.message']) ?? logged?.message ?? failing.span.status?.message ?? '';
  let frames = parseV8Stack(text(exception['exception.stacktrace']) ?? '', mapping);
  if (frames.length === 0 && logged?.stack && errorLine) {
    frames = parseV8Stack(logged.stack, mapping);
    notes.push(`the stack comes from log line ${errorLine.record.line} (${errorLine.record.shape}); the trace recorded none`);
  }
  const unmapped = unmappedFramesNote(frames, mapping);
  if (unmapped) notes.push(unmapped);
  return { errorType, message, frames, reportedAt: nanosToIso(exceptionEvent?.timeUnixNano) ?? errorLine?.record.timestamp };
}

/**
 * Builds the ungated FailureEnvelope from an OTLP/JSON trace export (and the OTLP log exports and
 * JSON log lines of the same trace): the failing span, its symptom and frames, how to drive it, the
 * flags and downstream calls it saw, and the causal excerpt. In a trace that crosses services, the
 * envelope belongs to the service that owns the failing span; spans missing from the export end
 * the parent chain and are listed in provenance. Throws NO_FAILURE_IN_ALERT when neither a span nor
 * a joined log line reports an exception.
 */
export function buildEnvelope(input: BuildEnvelopeInput): FailureEnvelope {
  const mapping = frameMappingOf(input);
  const graph = indexSpans(input.traces.body);
  if (graph.spans.size === 0) throw new TracemendError('NO_FAILURE_IN_ALERT', 'the trace export holds no spans');
  const traceIds = new Set([...graph.spans.values()].map((item) => item.span.traceId.toLowerCase()));
  const lines = joinLogLines(input.logLines, traceIds);
  const reported = new Set(lines.flatMap(({ record }) => (isErrorRecord(record) && record.spanId !== undefined ? [record.spanId] : [])));
  // An error line that names no span of the trace still marks the trace as failed: its deepest error span failed.
  const failing = failingSpan(graph, reported) ?? (lines.some(({ record }) => isErrorRecord(record)) ? failingSpan(graph, errorStatusSpans(graph)) : undefined);
  if (failing === undefined) throw new TracemendError('NO_FAILURE_IN_ALERT', 'no span in the trace export carries an exception event, and no joined log line reports an error');
  const notes: string[] = [];
  const causal = causalExcerpt(graph, failing);
  const { chain, ownChain } = causal;
  const root = chain[chain.length - 1] ?? failing;
  const connected = [...chain.slice().reverse(), ...descendants(graph, root).filter((item) => !chain.includes(item))];
  // Fragments cut off by missing spans still belong to the trace: they follow the failing span's own tree.
  const inTree = new Set(connected);
  const related = [...connected, ...[...graph.spans.values()].filter((item) => !inTree.has(item) && item.span.traceId.toLowerCase() === failing.span.traceId.toLowerCase())];
  const traceId = failing.span.traceId.toLowerCase();
  const traceLines = lines.filter(({ record }) => record.traceId === traceId);

  const { errorType, message, frames, reportedAt } = symptomOf(failing, errorLineFor(traceLines, failing, graph), mapping, notes);
  const recordedAt = reportedAt ?? nanosToIso(failing.span.startTimeUnixNano) ?? input.traces.source.receivedAt;
  const startMs = nanosToMs(root.span.startTimeUnixNano);
  const endMs = nanosToMs(root.span.endTimeUnixNano);
  const input_ = eventAttributes(findEvent(ownChain, 'tracemend.input'));
  const env = parseJsonText(input_['tracemend.input.env']);
  const logs = logExcerpts(input.logs, traceId);
  const logLineExcerpts = traceLines.slice(0, Math.max(0, LIMITS.logs - logs.records.length)).map(({ record }) => logLineExcerpt(record, recordedAt));
  const lineSources = [...new Set(traceLines.map((line) => line.source))].map((source) => ({ ...source, items: traceLines.filter((line) => line.source === source).length }));
  const service = failing.service;
  const resource = failing.resource;
  const own = new Set([ownChain[ownChain.length - 1] ?? failing, ...descendants(graph, ownChain[ownChain.length - 1] ?? failing)].filter((item) => item.service === service));
  const records = joinedRecords(input.logs, traceLines.map(({ record }) => record), traceId);
  const inputs: InputProvenance[] = [];
  const entry = entryOf(causal, graph, notes, requestLineFor(traceLines, [...own], graph), frames, { records, inputs, startedAt: nanosToIso(root.span.startTimeUnixNano) ?? recordedAt });
  const trail: InputTrail = { inputs, notes };
  const downstream = downstreamCalls(related.filter((item) => own.has(item)), graph.children, records, trail);
  const missing = missingSpanNote(causal);
  if (missing) notes.push(missing);
  notes.push(...unexplainedErrors(graph, failing));

  const envelope: FailureEnvelope = {
    schemaVersion: 1,
    identity: {
      fingerprint: fingerprint(service, errorType, frames),
      traceId,
      spanId: failing.id,
      service,
      version: text(resource['service.version']) ?? 'unknown',
      ...revisionField((key) => resource[key]),
      environment: text(resource['deployment.environment.name']) ?? text(resource['deployment.environment']) ?? 'unknown',
      firstSeen: recordedAt,
      lastSeen: recordedAt,
      occurrences: 1,
    },
    symptom: { errorType: errorType.slice(0, 256), message: message.slice(0, LIMITS.text), messageHash: messageHash(message), frames },
    entry,
    environment: {
      featureFlags: featureFlags(ownChain),
      env: env !== null && typeof env === 'object' && !Array.isArray(env) ? Object.fromEntries(Object.entries(env).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])) : {},
      ...(text(resource['process.runtime.locale']) ? { locale: text(resource['process.runtime.locale']) } : {}),
      ...(text(resource['process.runtime.timezone']) ? { timezone: text(resource['process.runtime.timezone']) } : {}),
      runtime: { name: 'node', version: text(resource['process.runtime.version']) ?? 'unknown' },
    },
    timing: { recordedAt, ...(startMs !== undefined && endMs !== undefined ? { durationMs: Math.max(0, endMs - startMs) } : {}) },
    downstream,
    spans: selectSpans(related, causal).map(spanExcerpt),
    logs: [...logs.records, ...logLineExcerpts],
    provenance: {
      sources: [{ ...input.traces.source, items: graph.spans.size }, ...logs.sources, ...lineSources].slice(0, LIMITS.records),
      notes: notes.map((note) => note.slice(0, LIMITS.text)).slice(0, LIMITS.records),
      inputs: inputs.slice(0, LIMITS.records),
      trace: causal.provenance,
    },
  };
  return parseContract(FailureEnvelope, envelope, 'FailureEnvelope');
}
