// Small HTTP helpers: JSON answers, errors that carry their status, a size-capped body reader, bearer auth.
import { createHash, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The `code` of an HTTP-level rejection (stage errors use the contracts' ERROR_CODES). */
export type HttpErrorCode =
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'INVALID_JSON'
  | 'INVALID_UTF8'
  | 'JSON_TOO_DEEP'
  | 'TOO_MANY_ATTRIBUTES'
  | 'TOO_MANY_KEYS'
  | 'FORBIDDEN_KEY'
  | 'INVALID_QUERY'
  | 'INVALID_PROTOBUF'
  | 'PROTOBUF_TOO_DEEP'
  | 'INVALID_SENTRY_ENVELOPE'
  | 'INVALID_CONTENT_ENCODING'
  | 'TEMPORAL_UNAVAILABLE';

/** A request the gateway answers with `status` and `{error: {code, message, ...details}}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** How much of a refused request's unread body the gateway reads and throws away after answering. */
export interface RefusedBodyDrain {
  /** Bytes past the answer at most. */
  maxBytes: number;
  /** Milliseconds past the answer at most. */
  maxMs: number;
}

/** 64 MiB or 10 s, whichever comes first: far more than any exporter's batch, and no socket held for long. */
export const DEFAULT_REFUSED_BODY_DRAIN: RefusedBodyDrain = { maxBytes: 64 * 1024 * 1024, maxMs: 10_000 };

/**
 * Writes a JSON answer. With `drain`, a request whose body is not read to its end (refused early) gets
 * `Connection: close`, and the connection closes once the rest of the body is read and discarded, or
 * once `drain` runs out.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, options: { headers?: Record<string, string>; drain?: RefusedBodyDrain } = {}): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.setHeader('cache-control', 'no-store');
  for (const [key, value] of Object.entries(options.headers ?? {})) res.setHeader(key, value);
  if (options.drain === undefined || res.req.complete) {
    res.end(text);
    return;
  }
  res.setHeader('connection', 'close');
  res.write(text);
  endAfterDraining(res, options.drain);
}

/**
 * Ends an answer already written once the request's body is read to its end, discarding it ("lingering
 * close"). Ending it at once would close the socket with unread bytes, which resets the connection:
 * a client still sending its body (an OTLP exporter, fetch) then fails with EPIPE or ECONNRESET
 * before it reads the answer. Nothing is kept, and `drain` bounds the bytes and time a client gets.
 */
function endAfterDraining(res: ServerResponse, drain: RefusedBodyDrain): void {
  const req = res.req;
  let discarded = 0;
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    req.off('data', discard);
    req.off('end', end);
    req.off('error', end);
    res.end();
  };
  const discard = (chunk: Buffer): void => {
    discarded += chunk.byteLength;
    if (discarded > drain.maxBytes) end();
  };
  const timer = setTimeout(end, drain.maxMs);
  timer.unref();
  req.on('data', discard);
  req.once('end', end);
  req.once('error', end);
  res.once('close', end);
  req.resume();
}

/** Reads the body up to `maxBytes`; a larger body fails with 413 as soon as it is known, without buffering the rest. */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = (size: string) => new HttpError(413, 'PAYLOAD_TOO_LARGE', `the body is ${size}; the limit is ${maxBytes} bytes`);
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge(`${declared} bytes`);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) {
        req.off('data', onData);
        req.pause();
        reject(tooLarge(`more than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

const gunzipAsync = promisify(gunzip);

/** The content codings the gateway reads: none, or gzip (OTLP exporters' `compression: gzip`, Sentry's node transport). */
export function contentCoding(header: string | undefined): 'identity' | 'gzip' {
  const coding = header?.trim().toLowerCase();
  if (coding === undefined || coding === '' || coding === 'identity') return 'identity';
  if (coding === 'gzip' || coding === 'x-gzip') return 'gzip';
  throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `Content-Encoding ${JSON.stringify(coding.slice(0, 32))} is not supported; send the body uncompressed or gzip-compressed`);
}

/**
 * Inflates a gzip body, stopping as soon as the output passes `maxBytes` (a small body can inflate to
 * gigabytes): 413 for a body that inflates past the limit, 400 for one that is not valid gzip.
 */
export async function gunzipBounded(bytes: Buffer, maxBytes: number): Promise<Buffer> {
  try {
    return await gunzipAsync(bytes, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `the gzip body inflates to more than ${maxBytes} bytes; the limit is ${maxBytes} bytes`);
    }
    throw new HttpError(400, 'INVALID_CONTENT_ENCODING', `the body is not valid gzip: ${String((error as Error).message).slice(0, 200)}`);
  }
}

/** The media type of a Content-Type header, lowercased, without parameters. */
export function mediaType(header: string | undefined): string | undefined {
  const type = header?.split(';')[0]?.trim().toLowerCase();
  return type ? type : undefined;
}

/** Compares a secret with the expected one in constant time (both sides hashed to one length). */
export function secretMatcher(token: string): (given: string | undefined) => boolean {
  const expected = createHash('sha256').update(token).digest();
  return (given) => {
    const hashed = createHash('sha256')
      .update(given ?? '')
      .digest();
    return timingSafeEqual(hashed, expected) && given !== undefined;
  };
}

/** Compares a request's bearer token with the expected one in constant time. */
export function bearerMatcher(token: string): (authorization: string | undefined) => boolean {
  const matches = secretMatcher(token);
  return (authorization) => {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
    return matches(match?.[1] ?? '') && match !== null;
  };
}

/**
 * The public key a Sentry SDK authenticates with: `sentry_key` in the X-Sentry-Auth header
 * (`Sentry sentry_version=7, sentry_key=<key>, ...`) or in the query, as the SDKs send it.
 */
export function sentryKey(header: string | string[] | undefined, query: URLSearchParams): string | undefined {
  const text = Array.isArray(header) ? header[0] : header;
  const fromHeader = /(?:^|[\s,])sentry_key\s*=\s*([^,\s]+)/i.exec(text ?? '')?.[1];
  return fromHeader ?? query.get('sentry_key') ?? undefined;
}

/**
 * The OTLP/HTTP success answer on /v1/traces and /v1/logs: 200 with an empty Export*ServiceResponse
 * in the request's encoding (zero protobuf bytes, or `{}`), as OTLP exporters expect. What the
 * gateway did is in `tracemend-*` headers.
 */
export function sendOtlpAccepted(res: ServerResponse, encoding: string, answer: Record<string, unknown>): void {
  const headers: Record<string, string> = {};
  for (const [key, header] of [
    ['alertId', 'tracemend-alert-id'],
    ['incidentId', 'tracemend-incident-id'],
    ['fingerprint', 'tracemend-fingerprint'],
    ['status', 'tracemend-status'],
  ] as const) {
    if (typeof answer[key] === 'string') headers[header] = answer[key];
  }
  const body = encoding === 'protobuf' ? Buffer.alloc(0) : Buffer.from('{}');
  res.statusCode = 200;
  res.setHeader('content-type', encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json');
  res.setHeader('content-length', body.byteLength);
  res.setHeader('cache-control', 'no-store');
  for (const [key, value] of Object.entries(headers)) res.setHeader(key, value);
  res.end(body);
}
