// The OTLP/JSON shapes tracemend reads (ExportTraceServiceRequest / ExportLogsServiceRequest as the
// OTLP/HTTP JSON exporters send them), and their conversion to plain JSON values.
import type { AttributeValue } from '@tracemend/contracts';

export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: string;
}

export interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}

export interface OtlpEvent {
  timeUnixNano?: string | number;
  name: string;
  attributes?: OtlpKeyValue[];
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number | string;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: OtlpKeyValue[];
  events?: OtlpEvent[];
  status?: { code?: number | string; message?: string };
}

export interface OtlpResource {
  attributes?: OtlpKeyValue[];
}

export interface OtlpTraces {
  resourceSpans?: { resource?: OtlpResource; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

export interface OtlpLogRecord {
  timeUnixNano?: string | number;
  observedTimeUnixNano?: string | number;
  severityNumber?: number | string;
  severityText?: string;
  body?: OtlpAnyValue;
  attributes?: OtlpKeyValue[];
  traceId?: string;
  spanId?: string;
}

export interface OtlpLogs {
  resourceLogs?: { resource?: OtlpResource; scopeLogs?: { logRecords?: OtlpLogRecord[] }[] }[];
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** An OTLP AnyValue as plain JSON; int64 values beyond 2^53 stay strings. */
export function anyValueToJson(value: OtlpAnyValue | undefined): JsonValue {
  if (value === undefined) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) {
    const n = Number(value.intValue);
    return Number.isSafeInteger(n) ? n : String(value.intValue);
  }
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(anyValueToJson);
  if (value.kvlistValue !== undefined) {
    const out: Record<string, JsonValue> = {};
    for (const kv of value.kvlistValue.values ?? []) out[kv.key] = anyValueToJson(kv.value);
    return out;
  }
  if (value.bytesValue !== undefined) return value.bytesValue;
  return null;
}

/** Attributes as a record of plain JSON values. */
export function attributesToJson(attributes: OtlpKeyValue[] | undefined): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const kv of attributes ?? []) out[kv.key] = anyValueToJson(kv.value);
  return out;
}

/** Attributes in the contract's shape: scalars and flat arrays; nested values become JSON text. */
export function toContractAttributes(record: Record<string, JsonValue>, maxEntries: number, maxText: number): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [key, value] of Object.entries(record).slice(0, maxEntries)) {
    const k = key.slice(0, 256);
    if (typeof value === 'string') out[k] = value.slice(0, maxText);
    else if (typeof value === 'number' || typeof value === 'boolean') out[k] = value;
    else if (Array.isArray(value) && value.every((item) => typeof item !== 'object' || item === null)) {
      const flat = value.filter((item): item is string | number | boolean => item !== null).slice(0, 256);
      // A single-valued header array (http.request.header.*) reads best as its one value.
      out[k] = flat.length === 1 && typeof flat[0] === 'string' ? flat[0].slice(0, maxText) : flat.map((item) => (typeof item === 'string' ? item.slice(0, maxText) : item));
    } else if (value !== null) out[k] = JSON.stringify(value).slice(0, maxText);
  }
  return out;
}

/** OTLP's unix-nanosecond timestamps as ISO strings (millisecond precision). */
export function nanosToIso(nanos: string | number | undefined): string | undefined {
  if (nanos === undefined) return undefined;
  const ms = Number(BigInt(String(nanos)) / 1_000_000n);
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  return new Date(ms).toISOString();
}

export function nanosToMs(nanos: string | number | undefined): number | undefined {
  if (nanos === undefined) return undefined;
  return Number(BigInt(String(nanos))) / 1_000_000;
}

const SPAN_KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
export type SpanKindName = (typeof SPAN_KINDS)[number];

/** OTLP span kinds arrive as numbers (JSON exporters) or enum names (protobuf JSON mapping). */
export function spanKindName(kind: number | string | undefined): SpanKindName {
  if (typeof kind === 'number') return SPAN_KINDS[kind] ?? 'unspecified';
  if (typeof kind === 'string') {
    const name = kind.replace(/^SPAN_KIND_/, '').toLowerCase();
    return (SPAN_KINDS as readonly string[]).includes(name) ? (name as SpanKindName) : 'unspecified';
  }
  return 'unspecified';
}

export function statusCodeName(code: number | string | undefined): 'unset' | 'ok' | 'error' {
  if (code === 2 || code === 'STATUS_CODE_ERROR') return 'error';
  if (code === 1 || code === 'STATUS_CODE_OK') return 'ok';
  return 'unset';
}

export function severityName(severityNumber: number | string | undefined, text: string | undefined): 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'unspecified' {
  const n = Number(severityNumber ?? 0);
  if (n >= 21) return 'fatal';
  if (n >= 17) return 'error';
  if (n >= 13) return 'warn';
  if (n >= 9) return 'info';
  if (n >= 5) return 'debug';
  if (n >= 1) return 'trace';
  const t = (text ?? '').toLowerCase();
  if (['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(t)) return t as 'trace';
  if (t === 'warning') return 'warn';
  return 'unspecified';
}

/** A value recorded as JSON text (a request body in a span event) parsed back; other text stays text. */
export function parseJsonText(value: JsonValue | undefined): JsonValue | undefined {
  if (typeof value !== 'string') return value ?? undefined;
  try {
    return JSON.parse(value) as JsonValue;
  } catch {
    return value;
  }
}

/** The request methods an HTTP entry or a recorded call may carry; anything else replays as GET. */
export const HTTP_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
