// Which alert format a request carries: the route and Content-Type give the encoding, then an explicit
// `?format=` or the body's shape (JSON) or the route (OTLP protobuf) give the format.
import { TracemendError } from '@tracemend/contracts';
import { JSON_ALERT_FORMATS, detectAlertFormat, type JsonAlertFormat } from '@tracemend/ingest';
import { HttpError } from './http';

/** The formats of JSON bodies, told apart by shape. */
export const JSON_FORMATS = JSON_ALERT_FORMATS;
export type JsonFormat = JsonAlertFormat;
export const PROTOBUF_FORMATS = ['otlp-traces-protobuf', 'otlp-logs-protobuf'] as const;
export type ProtobufFormat = (typeof PROTOBUF_FORMATS)[number];

/** The formats the gateway accepts. */
export const ACCEPTED_FORMATS = [...JSON_FORMATS, ...PROTOBUF_FORMATS, 'sentry-envelope', 'log-lines'] as const;
export type AcceptedFormat = (typeof ACCEPTED_FORMATS)[number];

/** How a body is encoded, from its Content-Type. `ndjson` is one JSON log record per line. */
export type BodyEncoding = 'json' | 'protobuf' | 'sentry-envelope' | 'ndjson';

/** The routes that take alerts: the generic intake, the OTLP/HTTP signal paths and Sentry's envelope endpoint. */
export type IntakeRoute = 'alerts' | 'traces' | 'logs' | 'sentry';

const MEDIA_TYPES: Readonly<Record<string, BodyEncoding>> = {
  'application/json': 'json',
  'application/x-protobuf': 'protobuf',
  'application/protobuf': 'protobuf',
  'application/x-sentry-envelope': 'sentry-envelope',
  'application/x-ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
};

const ROUTE_ENCODINGS: Readonly<Record<IntakeRoute, readonly BodyEncoding[]>> = {
  alerts: ['json', 'protobuf', 'sentry-envelope', 'ndjson'],
  traces: ['json', 'protobuf'],
  logs: ['json', 'protobuf'],
  sentry: ['sentry-envelope'],
};

const MEDIA_TYPE_NAMES: Readonly<Record<BodyEncoding, string>> = {
  json: 'application/json',
  protobuf: 'application/x-protobuf (OTLP)',
  'sentry-envelope': 'application/x-sentry-envelope',
  ndjson: 'application/x-ndjson (JSON log lines)',
};

/**
 * The body encoding of a request from its media type (see `mediaType`); 415 naming the types the
 * route accepts otherwise. Sentry's envelope endpoint reads every body as an envelope, as Sentry
 * does: browser SDKs send envelopes as text/plain to avoid a CORS preflight.
 */
export function bodyEncoding(type: string | undefined, route: IntakeRoute): BodyEncoding {
  if (route === 'sentry') return 'sentry-envelope';
  const encoding = type === undefined ? undefined : type.endsWith('+json') ? 'json' : MEDIA_TYPES[type];
  const accepted = ROUTE_ENCODINGS[route];
  if (encoding === undefined || !accepted.includes(encoding)) {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `Content-Type must be ${accepted.map((item) => MEDIA_TYPE_NAMES[item]).join(', or ')} on this route, got ${type === undefined ? 'none' : JSON.stringify(type.slice(0, 100))}`, {
      acceptedMediaTypes: accepted.map((item) => MEDIA_TYPE_NAMES[item].split(' ')[0]),
    });
  }
  return encoding;
}

/** The format named by `?format=`, or undefined when the query names none. */
export function explicitFormat(query: URLSearchParams): AcceptedFormat | undefined {
  const format = query.get('format');
  if (format === null || format === '') return undefined;
  if ((ACCEPTED_FORMATS as readonly string[]).includes(format)) return format as AcceptedFormat;
  throw new HttpError(400, 'INVALID_QUERY', `unknown format ${JSON.stringify(format.slice(0, 64))}; accepted formats: ${ACCEPTED_FORMATS.join(', ')}`);
}

function ENCODING_OF_FORMAT(format: AcceptedFormat): BodyEncoding {
  if ((JSON_FORMATS as readonly string[]).includes(format)) return 'json';
  if ((PROTOBUF_FORMATS as readonly string[]).includes(format)) return 'protobuf';
  return format === 'log-lines' ? 'ndjson' : 'sentry-envelope';
}

/** The Content-Type a client sends an alert of `format` with to /v1/alerts (with `?format=` for protobuf). */
export function mediaTypeOfFormat(format: AcceptedFormat): string {
  return MEDIA_TYPE_NAMES[ENCODING_OF_FORMAT(format)].split(' ')[0] ?? 'application/json';
}

/** `?format=` checked against the body's encoding: a named format sent in another encoding is 415. */
export function namedFormatFor(query: URLSearchParams, encoding: BodyEncoding): AcceptedFormat | undefined {
  const named = explicitFormat(query);
  if (named !== undefined && ENCODING_OF_FORMAT(named) !== encoding) {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `format ${named} is sent as ${MEDIA_TYPE_NAMES[ENCODING_OF_FORMAT(named)]}, but the body is ${MEDIA_TYPE_NAMES[encoding]}`);
  }
  return named;
}

/**
 * The OTLP protobuf export a body is: fixed by the OTLP path, or named with `?format=` on /v1/alerts
 * (trace and log exports are the same message shape at the top, so they cannot be told apart safely).
 */
export function protobufFormat(route: IntakeRoute, query: URLSearchParams): ProtobufFormat {
  const named = namedFormatFor(query, 'protobuf');
  if (route === 'traces' || route === 'logs') {
    const fixed: ProtobufFormat = route === 'traces' ? 'otlp-traces-protobuf' : 'otlp-logs-protobuf';
    if (named !== undefined && named !== fixed) throw new HttpError(400, 'INVALID_QUERY', `format ${named} does not match the route /v1/${route}, which takes ${fixed}`);
    return fixed;
  }
  if (named === undefined) {
    throw new HttpError(400, 'INVALID_QUERY', 'an OTLP protobuf body on /v1/alerts must name its export with ?format=otlp-traces-protobuf or ?format=otlp-logs-protobuf, or be sent to /v1/traces or /v1/logs');
  }
  return named as ProtobufFormat;
}

/** The format of a parsed JSON body, by its shape (ingest's detection); 422 naming the accepted shapes when none fits. */
export function detectFormat(value: unknown): JsonFormat {
  try {
    return detectAlertFormat(value);
  } catch (error) {
    if (error instanceof TracemendError && error.code === 'UNSUPPORTED_ALERT_FORMAT') {
      throw new HttpError(422, error.code, `${error.message}; ?format= names it`, { acceptedFormats: JSON_FORMATS });
    }
    throw error;
  }
}

/** The JSON format of a body: fixed by an OTLP path, else `named` (from `namedFormatFor`) or recognised by shape. */
export function jsonFormat(route: IntakeRoute, named: AcceptedFormat | undefined, value: unknown): JsonFormat {
  if (route === 'traces') return 'otlp-traces-json';
  if (route === 'logs') return 'otlp-logs-json';
  return (named as JsonFormat | undefined) ?? detectFormat(value);
}
