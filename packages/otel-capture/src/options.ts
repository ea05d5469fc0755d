import { defaultRedactor, type Redactor } from './redact.js';

/** Where a payload is recorded; also the prefix of the span attributes it is written to. */
export type PayloadKind = 'http.request.body' | 'http.response.body' | 'faas.event' | 'messaging.message.body';

/** Settings shared by every capture hook. */
export interface CaptureOptions {
  /** Largest payload kept, in UTF-8 bytes after redaction; longer values are cut and marked truncated. Default 16 KiB. */
  maxBytes?: number;
  /** Called for every value before anything is set on a span; defaults to {@link defaultRedactor}. */
  redact?: Redactor;
}

/** Options with every default filled in. */
export interface ResolvedCaptureOptions {
  maxBytes: number;
  redact: Redactor;
}

/** Payloads above this size are rarely useful to a replay and make spans expensive to export. */
export const DEFAULT_MAX_BYTES = 16 * 1024;

/** Fills in defaults and rejects settings that would silently record nothing. */
export function resolveCaptureOptions(options: CaptureOptions = {}): ResolvedCaptureOptions {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!Number.isInteger(maxBytes) || maxBytes <= 0) {
    throw new TypeError(`otel-capture: maxBytes must be a positive integer number of bytes, got ${String(options.maxBytes)}; omit it for the 16 KiB default.`);
  }
  if (options.redact !== undefined && typeof options.redact !== 'function') {
    throw new TypeError('otel-capture: redact must be a function (value, { kind, path }) => value; omit it to use defaultRedactor.');
  }
  return { maxBytes, redact: options.redact ?? defaultRedactor };
}
