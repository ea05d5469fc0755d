// The outbound HTTP calls a failing service made, to be served back on replay: CLIENT spans of
// fetch/undici/http (and the HTTP span beneath an AWS SDK call), with the response body from where it
// was recorded, or one inferred from the status and marked guessed.
import { STATUS_CODES } from 'node:http';
import { LIMITS, type DownstreamCall, type InputProvenance } from '@tracemend/contracts';
import type { IndexedSpan } from './causal';
import { fieldAt, fromAttributes, fromEvents, fromRecords, pick, recordGuess, text, type InputTrail, type JoinedRecord } from './inputs';
import { HTTP_METHODS, nanosToMs, spanKindName, type JsonValue } from './otlp';

const BODY_ATTRIBUTES = ['http.response.body.content', 'http.response.body'] as const;
const BODY_RECORD_FIELDS = ['http.response.body', 'res.body', 'response.body'] as const;

/** Response headers recorded as `http.response.header.<name>` attributes. */
export function responseHeaders(attributes: Record<string, JsonValue>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (!key.startsWith('http.response.header.')) continue;
    const v = Array.isArray(value) ? value.map((item) => text(item) ?? '').join(', ') : text(value);
    if (v !== undefined) headers[key.slice('http.response.header.'.length)] = v.slice(0, LIMITS.text);
  }
  return headers;
}

/**
 * The body a replay serves for a call whose body was not recorded: nothing for 204/304, an empty
 * object for other successes, and `{ error: <reason phrase> }` for failures.
 */
export function inferredResponseBody(status: number): JsonValue | undefined {
  if (status === 204 || status === 304) return undefined;
  if (status < 400) return {};
  return { error: STATUS_CODES[status] ?? `HTTP ${status}` };
}

function isRpcSpan(item: IndexedSpan): boolean {
  return item.attributes['rpc.system'] !== undefined || item.attributes['rpc.service'] !== undefined;
}

function isHttpClient(item: IndexedSpan): boolean {
  return (item.attributes['http.request.method'] ?? item.attributes['http.method']) !== undefined && (item.attributes['url.full'] ?? item.attributes['http.url']) !== undefined;
}

const URL_RECORD_FIELDS = ['url.full', 'http.url', 'url', 'request.url', 'req.url', 'response.url', 'res.url'] as const;

/** A URL as origin + path, without query or fragment, for comparing what a log names with a span's URL. */
function urlKey(value: string): string | undefined {
  try {
    const parsed = new URL(value);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return undefined;
  }
}

/**
 * Response bodies logged by the code that made the call: the client span is rarely active in
 * application code, so a client library's log of an answer lands on the span that awaited it (the
 * client span's parent). Such a record answers this call when it names the call's URL, or, naming no
 * URL, when this is the only HTTP call its span made.
 */
function parentSpanRecords(
  item: IndexedSpan,
  url: string,
  spans: readonly IndexedSpan[],
  children: ReadonlyMap<string, readonly IndexedSpan[]>,
  records: readonly JoinedRecord[],
): ReturnType<typeof fromRecords> {
  const parentId = item.parentId;
  if (parentId === undefined || !spans.some((span) => span.id === parentId)) return [];
  const key = urlKey(url);
  const siblings = (children.get(parentId) ?? []).filter((child) => spanKindName(child.span.kind) === 'client' && isHttpClient(child));
  const answering = records.filter((record) => {
    if (record.spanId !== parentId) return false;
    const named = URL_RECORD_FIELDS.map((field) => fieldAt(record.fields, field)).find((value): value is string => typeof value === 'string');
    return named === undefined ? siblings.length === 1 : key !== undefined && urlKey(named) === key;
  });
  return fromRecords(answering, new Set([parentId]), BODY_RECORD_FIELDS).map((found) => ({ ...found, source: `${found.source} (the span that made the call)` }));
}

interface PendingCall {
  call: DownstreamCall;
  startedAt: number;
  provenance: Omit<InputProvenance, 'path'>[];
  describe: string;
}

/**
 * The HTTP calls among the spans, in the order the code made them. An AWS SDK (rpc) span is served by
 * the HTTP client span beneath it; other client spans that are not HTTP calls with a status are noted.
 */
export function downstreamCalls(spans: readonly IndexedSpan[], children: ReadonlyMap<string, readonly IndexedSpan[]>, records: readonly JoinedRecord[], trail: InputTrail): DownstreamCall[] {
  const pending: PendingCall[] = [];
  for (const item of spans) {
    if (spanKindName(item.span.kind) !== 'client') continue;
    const method = text(item.attributes['http.request.method']) ?? text(item.attributes['http.method']);
    const url = text(item.attributes['url.full']) ?? text(item.attributes['http.url']);
    const status = Number(item.attributes['http.response.status_code'] ?? item.attributes['http.status_code']);
    if (!method || !url || !Number.isInteger(status) || status < 100 || status > 599) {
      // An AWS SDK call (rpc.*) goes over an HTTP client span of its own, which is served instead.
      if (isRpcSpan(item) && (children.get(item.id) ?? []).some(isHttpClient)) continue;
      trail.notes.push(`client span "${item.span.name}" is not an HTTP call with a response; it is not served on replay`);
      continue;
    }
    const local: InputTrail = { inputs: [], notes: trail.notes };
    const found = pick(local, `the response body of ${method.toUpperCase()} ${url}`, [
      ...fromAttributes(item, BODY_ATTRIBUTES),
      ...fromEvents([item], ['http.response.body'], ['http.response.body.content', 'body']),
      ...fromEvents([item], ['tracemend.response'], ['http.response.body']),
      ...fromRecords(
        records.filter((record) => record.spanId === item.id),
        new Set([item.id]),
        BODY_RECORD_FIELDS,
      ),
      ...parentSpanRecords(item, url, spans, children, records),
    ]);
    let body = found?.value;
    let guessed = false;
    if (found === undefined) {
      body = inferredResponseBody(status);
      guessed = true;
      recordGuess(local, 'responseBody', `inferred from status ${status}: no body was recorded on span ${item.id}`);
      trail.notes.push(
        `no response body was recorded for ${method.toUpperCase()} ${url} (looked for attributes ${BODY_ATTRIBUTES.join(', ')}, span events http.response.body and tracemend.response, log records of the span, or of the span that made the call naming its URL, with ${BODY_RECORD_FIELDS.join(', ')}); the replay answers ${body === undefined ? 'with no body' : JSON.stringify(body)} inferred from status ${status} (guessed)`,
      );
    }
    let pathname = url;
    try {
      pathname = new URL(url).pathname;
    } catch {
      // A relative or malformed url.full stays the template as recorded.
    }
    const start = nanosToMs(item.span.startTimeUnixNano);
    const end = nanosToMs(item.span.endTimeUnixNano);
    const upper = method.toUpperCase();
    pending.push({
      call: {
        method: (HTTP_METHODS.has(upper) ? upper : 'GET') as 'GET',
        urlTemplate: text(item.attributes['url.template']) ?? pathname,
        url,
        status,
        responseHeaders: responseHeaders(item.attributes),
        ...(body === undefined ? {} : { responseBody: body }),
        ...(start !== undefined && end !== undefined ? { durationMs: Math.max(0, end - start) } : {}),
        ...(guessed ? { guessed: true } : {}),
      },
      startedAt: start ?? 0,
      provenance: local.inputs.map(({ path: _path, ...rest }) => rest),
      describe: `${upper} ${url}`,
    });
  }
  // Replays serve calls in the order the code made them.
  const ordered = pending.sort((a, b) => a.startedAt - b.startedAt).slice(0, LIMITS.downstream);
  for (const [index, { provenance }] of ordered.entries()) {
    for (const entry of provenance) trail.inputs.push({ path: `downstream[${index}].responseBody`, ...entry });
  }
  return ordered.map(({ call }) => call);
}
