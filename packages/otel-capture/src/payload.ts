import type { Span } from '@opentelemetry/api';
import { resolveCaptureOptions, type CaptureOptions, type PayloadKind, type ResolvedCaptureOptions } from './options.js';
import { redactValue } from './redact.js';

/** How a payload's text is parsed so that the redactor sees individual fields. */
export type PayloadFormat = 'json' | 'form' | 'text';

/** A payload ready to be set on a span. */
export interface RenderedPayload {
  content: string;
  truncated: boolean;
}

const ATTRIBUTES: Record<PayloadKind, { content: string; truncated: string; size?: string }> = {
  'http.request.body': { content: 'http.request.body.content', truncated: 'http.request.body.truncated', size: 'http.request.body.size' },
  'http.response.body': { content: 'http.response.body.content', truncated: 'http.response.body.truncated', size: 'http.response.body.size' },
  'faas.event': { content: 'faas.event', truncated: 'faas.event.truncated' },
  'messaging.message.body': { content: 'messaging.message.body', truncated: 'messaging.message.body.truncated', size: 'messaging.message.body.size' },
};

const JSON_MIME = /^application\/(?:[a-z0-9.-]*[+-])?json(?:[-.][0-9.]+)?$/;

/** The span attribute names a payload kind is written to. */
export function payloadAttributes(kind: PayloadKind): { content: string; truncated: string; size?: string } {
  return ATTRIBUTES[kind];
}

/** The format of a Content-Type, or undefined for content that is not recorded (binary, multipart, unknown). */
export function formatOfContentType(contentType: string | undefined): PayloadFormat | undefined {
  if (!contentType) return undefined;
  const mime = contentType.split(';', 1)[0]!.trim().toLowerCase();
  // Also vendor JSON such as application/problem+json and the AWS SDK's application/x-amz-json-1.0.
  if (JSON_MIME.test(mime) || mime === 'application/x-ndjson') return 'json';
  if (mime === 'application/x-www-form-urlencoded') return 'form';
  if (mime.startsWith('text/') || mime === 'application/xml' || mime.endsWith('+xml') || mime === 'application/graphql') return 'text';
  return undefined;
}

/** Keeps the first `limit` bytes of a stream's chunks and counts the rest. */
export class ByteCollector {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  /** Every byte seen, kept or not. */
  total = 0;

  constructor(private readonly limit: number) {}

  /** Adds one chunk as the stream delivered it. */
  push(chunk: unknown): void {
    const buffer = Buffer.isBuffer(chunk) ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk) : Buffer.from(String(chunk), 'utf8');
    this.total += buffer.length;
    if (this.kept >= this.limit) return;
    const part = buffer.subarray(0, this.limit - this.kept);
    this.chunks.push(part);
    this.kept += part.length;
  }

  /** True when nothing was dropped. */
  get complete(): boolean {
    return this.total <= this.limit;
  }

  /** The kept bytes as UTF-8 text. */
  text(): string {
    return dropBrokenTail(Buffer.concat(this.chunks).toString('utf8'));
  }
}

/**
 * Redacts and caps a text payload. A complete JSON or form body is parsed so the redactor sees each
 * field; a cut-off one cannot be parsed and is redacted as text. Returns undefined when the redactor
 * drops the payload or throws: nothing unredacted is ever recorded.
 */
export function renderText(text: string, format: PayloadFormat, complete: boolean, kind: PayloadKind, options: ResolvedCaptureOptions): RenderedPayload | undefined {
  let content: string | undefined;
  try {
    if (complete && format === 'json') content = renderJsonText(text, kind, options);
    else if (complete && format === 'form') content = renderForm(text, kind, options);
    else content = renderWhole(text, kind, options);
  } catch {
    return undefined;
  }
  if (content === undefined) return undefined;
  return cap(content, !complete, options.maxBytes);
}

/** Redacts and caps a structured value (a Lambda event, a decoded message) as JSON text. */
export function renderValue(value: unknown, kind: PayloadKind, options: ResolvedCaptureOptions): RenderedPayload | undefined {
  if (typeof value === 'string') return renderText(value, looksLikeJson(value) ? 'json' : 'text', true, kind, options);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
    const text = decodeUtf8(value);
    if (text === undefined) return undefined;
    return renderText(text, looksLikeJson(text) ? 'json' : 'text', true, kind, options);
  }
  let content: string | undefined;
  try {
    const redacted = redactValue(value, kind, options.redact);
    content = redacted === undefined ? undefined : JSON.stringify(redacted);
  } catch {
    return undefined;
  }
  if (content === undefined) return undefined;
  return cap(content, false, options.maxBytes);
}

/** Sets a rendered payload (and its size and truncation marker) on a span that is still recording. */
export function setPayload(span: Span, kind: PayloadKind, payload: RenderedPayload | undefined, size?: number): void {
  if (!span.isRecording()) return;
  const names = ATTRIBUTES[kind];
  if (names.size && size !== undefined) span.setAttribute(names.size, size);
  if (!payload) return;
  span.setAttribute(names.content, payload.content);
  if (payload.truncated) span.setAttribute(names.truncated, true);
}

/** Redacts, caps and sets a value (object, text or UTF-8 bytes) on a span under the standard name for its kind. */
export function recordPayload(span: Span, kind: PayloadKind, value: unknown, options?: CaptureOptions): void {
  recordResolvedPayload(span, kind, value, resolveCaptureOptions(options));
}

/** {@link recordPayload} with options already resolved, for hooks that run per request. */
export function recordResolvedPayload(span: Span, kind: PayloadKind, value: unknown, options: ResolvedCaptureOptions): void {
  if (value === undefined || value === null) return;
  const size = typeof value === 'string' ? Buffer.byteLength(value) : Buffer.isBuffer(value) || value instanceof Uint8Array ? value.length : undefined;
  setPayload(span, kind, renderValue(value, kind, options), size);
}

function renderJsonText(text: string, kind: PayloadKind, options: ResolvedCaptureOptions): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // A body that claims JSON but is not (the bug may be exactly that) is kept as text.
    return renderWhole(text, kind, options);
  }
  const redacted = redactValue(parsed, kind, options.redact);
  return redacted === undefined ? undefined : JSON.stringify(redacted);
}

function renderForm(text: string, kind: PayloadKind, options: ResolvedCaptureOptions): string | undefined {
  const fields = new URLSearchParams(text);
  const root = options.redact(Object.fromEntries(fields), { kind, path: [] });
  if (root === undefined) return undefined;
  const out = new URLSearchParams();
  for (const [key, value] of fields) {
    const replaced = options.redact(value, { kind, path: [key] });
    if (replaced !== undefined) out.append(key, typeof replaced === 'string' ? replaced : JSON.stringify(replaced));
  }
  return out.toString();
}

function renderWhole(text: string, kind: PayloadKind, options: ResolvedCaptureOptions): string | undefined {
  const replaced = options.redact(text, { kind, path: [] });
  return replaced === undefined ? undefined : typeof replaced === 'string' ? replaced : JSON.stringify(replaced);
}

function cap(content: string, alreadyCut: boolean, maxBytes: number): RenderedPayload {
  if (Buffer.byteLength(content) <= maxBytes) return { content, truncated: alreadyCut };
  return { content: dropBrokenTail(Buffer.from(content, 'utf8').subarray(0, maxBytes).toString('utf8')), truncated: true };
}

// A cut in the middle of a multi-byte character decodes to U+FFFD; drop it rather than record a character that was never sent.
function dropBrokenTail(text: string): string {
  return text.endsWith('\uFFFD') ? text.slice(0, -1) : text;
}

function looksLikeJson(text: string): boolean {
  const first = text.trimStart()[0];
  return first === '{' || first === '[';
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
