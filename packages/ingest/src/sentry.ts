// Sentry-style error events (the JSON a Sentry SDK posts to /api/<project>/store/) → FailureEnvelope.
import { z } from 'zod';
import {
  FailureEnvelope,
  LIMITS,
  TracemendError,
  parseContract,
  type DownstreamCall,
  type Entry,
  type Frame,
  type LogExcerpt,
} from '@tracemend/contracts';
import type { AlertSource } from './envelope';
import { fingerprint, messageHash } from './fingerprint';
import { HTTP_METHODS, parseJsonText, type JsonValue } from './otlp';
import { revisionField } from './revision';
import { DEFAULT_APP_ROOTS, frameOrigin, mapFrames, repoPath, unmappedFramesNote, type FrameMapping } from './stack';

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
/** Tags and headers arrive as an object or as `[key, value]` pairs. */
const PairsOrRecord = z.union([z.record(z.string(), Scalar), z.array(z.tuple([z.string(), Scalar]))]);

const SentryFrame = z.object({
  filename: z.string().optional(),
  abs_path: z.string().optional(),
  module: z.string().optional(),
  function: z.string().nullish(),
  lineno: z.number().int().nonnegative().nullish(),
  colno: z.number().int().nonnegative().nullish(),
  in_app: z.boolean().nullish(),
});

const SentryException = z.object({
  type: z.string().nullish(),
  value: z.string().nullish(),
  module: z.string().nullish(),
  mechanism: z.object({ type: z.string().optional(), handled: z.boolean().optional() }).nullish(),
  stacktrace: z.object({ frames: z.array(SentryFrame).max(1_024).optional() }).nullish(),
});

const SentryRequest = z.object({
  method: z.string().nullish(),
  url: z.string().nullish(),
  query_string: z.union([z.string(), PairsOrRecord]).nullish(),
  headers: PairsOrRecord.nullish(),
  data: z.json().nullish(),
});

const SentryBreadcrumb = z.object({
  type: z.string().optional(),
  category: z.string().optional(),
  level: z.string().optional(),
  message: z.string().optional(),
  timestamp: z.union([z.number(), z.string()]).optional(),
  data: z.record(z.string(), z.json()).nullish(),
});

/** The fields of a Sentry event tracemend reads; everything else is ignored. */
export const SentryEvent = z.object({
  event_id: z.string().optional(),
  timestamp: z.union([z.number().positive(), z.string()]).optional(),
  level: z.string().optional(),
  platform: z.string().optional(),
  release: z.string().optional(),
  environment: z.string().optional(),
  transaction: z.string().optional(),
  message: z.union([z.string(), z.object({ formatted: z.string().optional(), message: z.string().optional() })]).optional(),
  exception: z.object({ values: z.array(SentryException).max(64) }).optional(),
  request: SentryRequest.optional(),
  tags: PairsOrRecord.optional(),
  extra: z.record(z.string(), z.json()).optional(),
  contexts: z
    .object({
      trace: z.object({ trace_id: z.string().regex(/^[0-9a-fA-F]{16,32}$/, 'expected a hex trace id').optional(), span_id: z.string().regex(/^[0-9a-fA-F]{8,16}$/, 'expected a hex span id').optional() }).optional(),
      runtime: z.object({ name: z.string().optional(), version: z.string().optional() }).optional(),
      culture: z.object({ locale: z.string().optional(), timezone: z.string().optional() }).optional(),
      app: z.object({ app_name: z.string().optional() }).optional(),
      flags: z.object({ values: z.array(z.object({ flag: z.string(), result: z.union([z.boolean(), z.string(), z.number()]) })).max(LIMITS.records) }).optional(),
    })
    .optional(),
  breadcrumbs: z.union([z.object({ values: z.array(SentryBreadcrumb) }), z.array(SentryBreadcrumb)]).optional(),
});
export type SentryEvent = z.infer<typeof SentryEvent>;

/** Whether a JSON value looks like a Sentry event (an exception list or an event id with event fields). */
export function isSentryEvent(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  const exception = record.exception as { values?: unknown } | undefined;
  if (exception !== null && typeof exception === 'object' && Array.isArray(exception.values)) return true;
  return typeof record.event_id === 'string' && ('platform' in record || 'timestamp' in record || 'level' in record || 'message' in record);
}

/** Parses a Sentry event or throws INVALID_INPUT naming each failing path. */
export function parseSentryEvent(value: unknown): SentryEvent {
  return parseContract(SentryEvent, value, 'the Sentry event');
}


function scalarText(value: z.infer<typeof Scalar> | undefined): string | undefined {
  return value === null || value === undefined ? undefined : String(value);
}

function pairs(value: z.infer<typeof PairsOrRecord> | null | undefined): [string, string][] {
  if (!value) return [];
  const entries = Array.isArray(value) ? value : Object.entries(value);
  return entries.flatMap(([key, item]) => {
    const text = scalarText(item);
    return text === undefined ? [] : [[key, text] as [string, string]];
  });
}

function boundedRecord(entries: [string, string][]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of entries.slice(0, LIMITS.records)) out[key.slice(0, 256)] = value.slice(0, LIMITS.text);
  return out;
}

function toIso(timestamp: number | string | undefined): string | undefined {
  if (timestamp === undefined) return undefined;
  const ms = typeof timestamp === 'number' ? timestamp * 1_000 : Date.parse(timestamp);
  return Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : undefined;
}

/** Sentry's RewriteFrames integration writes `app:///src/a.ts`; that prefix is the app root. */
function appRootPath(frame: z.infer<typeof SentryFrame>, appRoots: readonly string[]): { file: string; inRepo: boolean } {
  const raw = frame.abs_path ?? frame.filename ?? '<unknown>';
  for (const candidate of [frame.abs_path, frame.filename]) {
    if (candidate === undefined) continue;
    if (candidate.startsWith('app:///')) {
      const rest = candidate.slice('app:///'.length);
      if (frameOrigin(rest) === 'own') return { file: rest, inRepo: true };
    }
    const inRepo = repoPath(candidate, appRoots);
    if (inRepo !== undefined) return { file: inRepo, inRepo: true };
  }
  return { file: raw, inRepo: false };
}

/** Sentry lists frames oldest first; the envelope keeps them top (innermost) first. */
function framesOf(exception: z.infer<typeof SentryException>, mapping: FrameMapping): Frame[] {
  const sentryFrames = [...(exception.stacktrace?.frames ?? [])].reverse().slice(0, LIMITS.frames);
  const frames = sentryFrames.map((frame): Frame => {
    const { file, inRepo } = 'appRoots' in mapping ? appRootPath(frame, mapping.appRoots) : { file: frame.abs_path ?? frame.filename ?? '<unknown>', inRepo: false };
    return {
      file: file.slice(0, 1_024),
      line: frame.lineno ?? 0,
      ...(frame.colno === null || frame.colno === undefined ? {} : { column: frame.colno }),
      function: (frame.function ?? '<anonymous>').replace(/^async /, '').slice(0, 256),
      inApp: inRepo,
    };
  });
  const mapped = 'repository' in mapping ? mapFrames(frames, mapping) : frames;
  // An SDK's explicit `in_app: false` wins over the mapping.
  return mapped.map((frame, index) => (sentryFrames[index]?.in_app === false ? { ...frame, inApp: false } : frame));
}

function objectOf(value: JsonValue | undefined): Record<string, JsonValue> {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

function stringOf(value: JsonValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function buildEntry(event: SentryEvent, input: Record<string, JsonValue>, tags: Map<string, string>, notes: string[]): Entry {
  const kind = stringOf(input.kind);
  if (kind === 'function') {
    const args = parseJsonText(input.args);
    return { kind: 'function', module: stringOf(input.module) ?? '', export: stringOf(input.export) ?? 'default', args: Array.isArray(args) ? args.slice(0, 32) : [] };
  }
  if (kind === 'message') {
    const payload = parseJsonText(input.payload);
    if (payload === undefined) notes.push('no message payload was recorded; the replay delivers an empty message');
    return {
      kind: 'message',
      module: stringOf(input.module) ?? '',
      export: stringOf(input.export) ?? 'default',
      topic: (stringOf(input.topic) ?? tags.get('messaging.destination.name') ?? 'unknown').slice(0, 256),
      payload: payload ?? null,
    };
  }
  const request = event.request;
  if (!request?.url && !request?.method) {
    throw new TracemendError('INVALID_INPUT', 'the Sentry event has no request and no extra "tracemend.input" to drive the failing code from');
  }
  let url: URL;
  try {
    url = new URL(request.url ?? '/', 'http://service.invalid');
  } catch (error) {
    throw new TracemendError('INVALID_INPUT', `the Sentry event's request.url is not a URL: ${(error as Error).message}`, { cause: error });
  }
  const method = (request.method ?? 'GET').toUpperCase();
  const query =
    typeof request.query_string === 'string'
      ? [...new URLSearchParams(request.query_string.replace(/^\?/, ''))]
      : request.query_string
        ? pairs(request.query_string)
        : [...url.searchParams];
  const body = input.body !== undefined ? parseJsonText(input.body) : request.data === null || request.data === undefined ? undefined : parseJsonText(request.data);
  if (body === undefined) notes.push('no request body was recorded; the replay sends none');
  // Express SDKs name the transaction `POST /v1/users`: the route without the method.
  const transactionRoute = event.transaction?.replace(/^[A-Z]+ /, '');
  const route = tags.get('http.route') ?? (transactionRoute?.startsWith('/') ? transactionRoute : undefined) ?? url.pathname;
  return {
    kind: 'http',
    method: (HTTP_METHODS.has(method) ? method : 'GET') as 'GET',
    route: route.slice(0, 1_024),
    path: url.pathname.slice(0, 2_048),
    query: boundedRecord(query),
    headers: boundedRecord(pairs(request.headers).map(([key, value]) => [key.toLowerCase(), value])),
    ...(body === undefined ? {} : { body }),
  };
}

function featureFlags(event: SentryEvent, tags: Map<string, string>): Record<string, boolean | string | number> {
  const flags: Record<string, boolean | string | number> = {};
  for (const [key, value] of tags) {
    if (!key.startsWith('flag.')) continue;
    flags[key.slice('flag.'.length)] = value === 'true' ? true : value === 'false' ? false : value.slice(0, LIMITS.shortText);
  }
  for (const { flag, result } of event.contexts?.flags?.values ?? []) flags[flag] = typeof result === 'string' ? result.slice(0, LIMITS.shortText) : result;
  return flags;
}

type Breadcrumb = z.infer<typeof SentryBreadcrumb>;

function breadcrumbsOf(event: SentryEvent): Breadcrumb[] {
  const crumbs = event.breadcrumbs;
  if (!crumbs) return [];
  return Array.isArray(crumbs) ? crumbs : crumbs.values;
}

function isHttpCrumb(crumb: Breadcrumb): boolean {
  return crumb.type === 'http' || crumb.category === 'http' || crumb.category === 'fetch' || crumb.category === 'xhr';
}

/** Sentry's HTTP breadcrumbs: outbound calls with their status but no response body. */
function downstreamCalls(crumbs: Breadcrumb[], notes: string[]): DownstreamCall[] {
  const calls: DownstreamCall[] = [];
  for (const crumb of crumbs.filter(isHttpCrumb)) {
    const data = crumb.data ?? {};
    const method = stringOf(data.method)?.toUpperCase();
    const url = stringOf(data.url);
    const status = Number(data.status_code);
    if (!method || !url || !Number.isInteger(status) || status < 100 || status > 599) continue;
    let template: string;
    try {
      template = new URL(url).pathname;
    } catch {
      template = url;
    }
    notes.push(`no response body was recorded for ${method} ${template}`);
    calls.push({ method: (HTTP_METHODS.has(method) ? method : 'GET') as 'GET', urlTemplate: template.slice(0, 2_048), url: url.slice(0, 2_048), status, responseHeaders: {} });
    if (calls.length >= LIMITS.downstream) break;
  }
  return calls;
}

const LEVELS: Record<string, LogExcerpt['severity']> = { debug: 'debug', info: 'info', log: 'info', warning: 'warn', warn: 'warn', error: 'error', fatal: 'fatal' };

/** Non-HTTP breadcrumbs (console lines, navigation, queries) are the event's log excerpt. */
function logExcerpts(crumbs: Breadcrumb[], traceId: string | undefined, fallback: string): LogExcerpt[] {
  return crumbs
    .filter((crumb) => !isHttpCrumb(crumb) && crumb.message !== undefined)
    .slice(-LIMITS.logs)
    .map((crumb): LogExcerpt => ({
      timestamp: toIso(crumb.timestamp) ?? fallback,
      severity: LEVELS[crumb.level ?? ''] ?? 'unspecified',
      body: (crumb.message ?? '').slice(0, LIMITS.text),
      ...(traceId ? { traceId } : {}),
      attributes: crumb.category === undefined ? {} : { category: crumb.category.slice(0, LIMITS.text) },
    }));
}

function serviceOf(event: SentryEvent, tags: Map<string, string>): string {
  const fromRelease = event.release?.includes('@') ? event.release.slice(0, event.release.lastIndexOf('@')) : undefined;
  return (tags.get('service.name') ?? tags.get('service') ?? event.contexts?.app?.app_name ?? (fromRelease || undefined) ?? 'unknown_service').slice(0, 256);
}

function versionOf(release: string | undefined): string {
  if (!release) return 'unknown';
  const version = release.includes('@') ? release.slice(release.lastIndexOf('@') + 1) : release;
  return (version || 'unknown').slice(0, 256);
}

/**
 * Builds the ungated FailureEnvelope from a Sentry-style error event: the last (outermost) exception
 * is the symptom, its frames (innermost first) feed the same fingerprint as OTLP alerts, the request or
 * the extra `tracemend.input` is the entry. Throws INVALID_INPUT for a malformed event and
 * NO_FAILURE_IN_ALERT for an event without an exception.
 */
export function buildEnvelopeFromSentryEvent(value: unknown, source: AlertSource, frameMapping: FrameMapping | readonly string[] = DEFAULT_APP_ROOTS): FailureEnvelope {
  const mapping: FrameMapping = Array.isArray(frameMapping) ? { appRoots: frameMapping } : (frameMapping as FrameMapping);
  const event = parseSentryEvent(value);
  const exceptions = event.exception?.values ?? [];
  const exception = exceptions[exceptions.length - 1];
  if (exception === undefined) throw new TracemendError('NO_FAILURE_IN_ALERT', 'the Sentry event carries no exception (exception.values is empty or missing)');

  const notes: string[] = [];
  const tags = new Map(pairs(event.tags));
  const errorType = (exception.type || 'Error').slice(0, 256);
  const plainMessage = typeof event.message === 'string' ? event.message : (event.message?.formatted ?? event.message?.message);
  const message = exception.value ?? plainMessage ?? '';
  const frames = framesOf(exception, mapping);
  if (frames.length === 0) notes.push('the exception has no stack trace');
  const unmapped = unmappedFramesNote(frames, mapping);
  if (unmapped) notes.push(unmapped);

  const service = serviceOf(event, tags);
  const recordedAt = toIso(event.timestamp) ?? source.receivedAt;
  const traceId = event.contexts?.trace?.trace_id?.toLowerCase();
  const spanId = event.contexts?.trace?.span_id?.toLowerCase();
  const input = objectOf(event.extra?.['tracemend.input']);
  const env = objectOf(parseJsonText(input.env));
  const runtime = event.contexts?.runtime;
  if (runtime?.name && runtime.name !== 'node') notes.push(`the event's runtime is ${runtime.name.slice(0, 64)}; replays run on node`);
  const crumbs = breadcrumbsOf(event);
  const culture = event.contexts?.culture;

  const envelope: FailureEnvelope = {
    schemaVersion: 1,
    identity: {
      fingerprint: fingerprint(service, errorType, frames),
      ...(traceId ? { traceId } : {}),
      ...(spanId ? { spanId } : {}),
      service,
      version: versionOf(event.release),
      ...revisionField((key) => tags.get(key)),
      environment: (event.environment || 'unknown').slice(0, 256),
      firstSeen: recordedAt,
      lastSeen: recordedAt,
      occurrences: 1,
    },
    symptom: { errorType, message: message.slice(0, LIMITS.text), messageHash: messageHash(message), frames },
    entry: buildEntry(event, input, tags, notes),
    environment: {
      featureFlags: featureFlags(event, tags),
      env: Object.fromEntries(
        Object.entries(env)
          .slice(0, LIMITS.records)
          .map(([key, item]) => [key, (typeof item === 'string' ? item : JSON.stringify(item)).slice(0, LIMITS.text)]),
      ),
      ...(culture?.locale ? { locale: culture.locale.slice(0, 64) } : {}),
      ...(culture?.timezone ? { timezone: culture.timezone.slice(0, 64) } : {}),
      runtime: { name: 'node', version: (runtime?.version?.replace(/^v/, '') || 'unknown').slice(0, 64) },
    },
    timing: { recordedAt },
    downstream: downstreamCalls(crumbs, notes),
    spans: [],
    logs: logExcerpts(crumbs, traceId, recordedAt),
    provenance: {
      sources: [{ ...source, items: 1 }],
      notes: notes.map((note) => note.slice(0, LIMITS.text)).slice(0, LIMITS.records),
    },
  };
  return parseContract(FailureEnvelope, envelope, 'FailureEnvelope');
}

/** The trace id a Sentry event names in `contexts.trace`, lowercased, if any. */
export function sentryTraceId(event: SentryEvent): string | undefined {
  return event.contexts?.trace?.trace_id?.toLowerCase();
}
