// Small HTTP helpers: JSON answers, errors that carry their status, a size-capped body reader, bearer auth.
import { createHash, timingSafeEqual } from 'node:crypto';
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

/** Writes a JSON answer. `close` asks the client to drop the connection (the rest of its body is not read). */
export function sendJson(res: ServerResponse, status: number, body: unknown, options: { headers?: Record<string, string>; close?: boolean } = {}): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.setHeader('cache-control', 'no-store');
  for (const [key, value] of Object.entries(options.headers ?? {})) res.setHeader(key, value);
  if (options.close) res.setHeader('connection', 'close');
  res.end(text);
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

/** The media type of a Content-Type header, lowercased, without parameters. */
export function mediaType(header: string | undefined): string | undefined {
  const type = header?.split(';')[0]?.trim().toLowerCase();
  return type ? type : undefined;
}

/** Compares a request's bearer token with the expected one in constant time (both sides hashed to one length). */
export function bearerMatcher(token: string): (authorization: string | undefined) => boolean {
  const expected = createHash('sha256').update(token).digest();
  return (authorization) => {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
    const given = createHash('sha256')
      .update(match?.[1] ?? '')
      .digest();
    return timingSafeEqual(given, expected) && match !== null;
  };
}
