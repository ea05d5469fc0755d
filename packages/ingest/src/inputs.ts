// Where replay inputs are read from: the attributes, span events and log records that standard
// instrumentation (and the teams using it) record, in the precedence docs/instrumenting.md documents.
// Every value found records where it came from; two sources that disagree are noted, the first wins.
import { LIMITS, type InputProvenance } from '@tracemend/contracts';
import type { IndexedSpan } from './causal';
import type { LogLineRecord } from './json-logs';
import { anyValueToJson, attributesToJson, parseJsonText, type JsonValue, type OtlpLogs } from './otlp';
import { truncationOf } from './truncation';

/** The guide every "not recorded" note points to. */
export const INSTRUMENTING_DOC = 'docs/instrumenting.md';

/** One log record of the trace (OTLP log record or JSON log line), as inputs are read from it. */
export interface JoinedRecord {
  signal: 'log-record' | 'log-line';
  /** How a reader finds the record again, e.g. `log record 3` or `log line 12 (pino)`. */
  label: string;
  spanId?: string;
  /** Structured fields: OTLP attributes, or a log line's fields with its request as `req`. */
  fields: Record<string, JsonValue>;
  /** The record body (OTLP) or message (log line); JSON text is parsed. */
  body: JsonValue | undefined;
}

/** The provenance of the inputs read so far, and the notes a reader needs. */
export interface InputTrail {
  inputs: InputProvenance[];
  notes: string[];
}

/** A value found in one signal. */
export interface Found {
  value: JsonValue;
  signal: InputProvenance['signal'];
  source: string;
  /** The log record it was read from, when it came from one. */
  record?: JoinedRecord;
  /** Set when the recording was cut short (see truncation.ts). */
  capture?: Pick<InputProvenance, 'truncated' | 'note'>;
}

/** Scalar attribute values as text. */
export function text(value: JsonValue | undefined): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
}

function isObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A field by flat dotted key (`http.request.body`) or by nested path (`req` → `body`); JSON text is parsed. */
export function fieldAt(fields: Record<string, JsonValue>, key: string): JsonValue | undefined {
  if (key in fields) return parseJsonText(fields[key]);
  const parts = key.split('.');
  let current: JsonValue | undefined = fields;
  for (const part of parts) {
    const parsed: JsonValue | undefined = parseJsonText(current);
    if (!isObject(parsed) || !(part in parsed)) return undefined;
    current = parsed[part];
  }
  return parseJsonText(current);
}

function shortId(item: IndexedSpan): string {
  return `span ${item.id} ("${item.span.name.slice(0, 64)}")`;
}

/** Attribute values of one span, in key order. */
export function fromAttributes(item: IndexedSpan | undefined, keys: readonly string[]): Found[] {
  if (item === undefined) return [];
  return keys.flatMap((key) => {
    const value = parseJsonText(item.attributes[key]);
    return value === undefined || value === null ? [] : [{ value, signal: 'span-attribute' as const, source: `attribute ${key} on ${shortId(item)}`, ...truncationOf(item.attributes, key) }];
  });
}

/** Span events named one of `names` on the spans, each read from the first of `keys` it carries. */
export function fromEvents(items: readonly IndexedSpan[], names: readonly string[], keys: readonly string[]): Found[] {
  const found: Found[] = [];
  for (const item of items) {
    for (const event of item.span.events ?? []) {
      if (!names.includes(event.name)) continue;
      const attributes = attributesToJson(event.attributes);
      const key = keys.find((candidate) => attributes[candidate] !== undefined && attributes[candidate] !== null);
      if (key !== undefined) found.push({ value: parseJsonText(attributes[key]) ?? null, signal: 'span-event', source: `event ${event.name} (${key}) on ${shortId(item)}` });
    }
  }
  return found;
}

/**
 * Log records of the spans (or naming no span) carrying one of `keys`. `whole`, when given, also
 * accepts a record whose body is itself the value (a handler that logs its event).
 */
export function fromRecords(records: readonly JoinedRecord[], spanIds: ReadonlySet<string>, keys: readonly string[], whole?: (body: JsonValue) => boolean): Found[] {
  const found: Found[] = [];
  for (const record of records) {
    if (record.spanId !== undefined && !spanIds.has(record.spanId)) continue;
    const key = keys.find((candidate) => {
      const value = fieldAt(record.fields, candidate);
      return value !== undefined && value !== null;
    });
    if (key !== undefined) found.push({ value: fieldAt(record.fields, key) ?? null, signal: record.signal, source: `${key} of ${record.label}`, record });
    else if (whole && record.body !== undefined && whole(record.body)) found.push({ value: record.body, signal: record.signal, source: `the body of ${record.label}`, record });
  }
  return found;
}

function same(a: JsonValue, b: JsonValue): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The first value found (the list is in precedence order), recorded in the trail under `path`; other
 * sources that disagree with it are named in a note.
 */
export function pick(trail: InputTrail, path: string, found: readonly Found[]): Found | undefined {
  const [first, ...rest] = found;
  if (first === undefined) return undefined;
  trail.inputs.push({ path, signal: first.signal, source: first.source.slice(0, LIMITS.text), ...first.capture });
  const disagreeing = rest.filter((other) => !same(other.value, first.value));
  if (disagreeing.length > 0) {
    trail.notes.push(
      `${path}: ${first.source} and ${disagreeing.map((other) => other.source).join(', ')} disagree; ${first.source} is used (the precedence in ${INSTRUMENTING_DOC})`,
    );
  }
  return first;
}

/** Records a value that no signal carried and was inferred, e.g. a response body from its status. */
export function recordGuess(trail: InputTrail, path: string, source: string): void {
  trail.inputs.push({ path, signal: 'inferred', source: source.slice(0, LIMITS.text), guessed: true });
}

/** The note for a value the replay needs and no signal carried: what was looked for, where, and the guide. */
export function missingNote(what: string, lookedFor: readonly string[], consequence: string): string {
  return `${what} was not recorded; looked for ${lookedFor.join('; ')}. ${consequence}; see ${INSTRUMENTING_DOC}`;
}

/** The OTLP log records and JSON log lines of one trace, in the order they were given. */
export function joinedRecords(logs: readonly { body: OtlpLogs }[] | undefined, lines: readonly LogLineRecord[], traceId: string): JoinedRecord[] {
  const records: JoinedRecord[] = [];
  let index = 0;
  for (const { body } of logs ?? []) {
    for (const resourceLogs of body.resourceLogs ?? []) {
      for (const scope of resourceLogs.scopeLogs ?? []) {
        for (const record of scope.logRecords ?? []) {
          index += 1;
          if (record.traceId?.toLowerCase() !== traceId) continue;
          records.push({
            signal: 'log-record',
            label: `log record ${index}${record.spanId ? ` of span ${record.spanId.toLowerCase()}` : ''}`,
            ...(record.spanId ? { spanId: record.spanId.toLowerCase() } : {}),
            fields: attributesToJson(record.attributes),
            body: parseJsonText(anyValueToJson(record.body)),
          });
        }
      }
    }
  }
  for (const line of lines) {
    if (line.traceId !== traceId) continue;
    const fields: Record<string, JsonValue> = { ...line.attributes };
    if (line.request) {
      const { method, url, headers, body } = line.request;
      fields.req = { ...(method ? { method } : {}), ...(url ? { url } : {}), headers, ...(body === undefined ? {} : { body }) };
    }
    records.push({
      signal: 'log-line',
      label: `log line ${line.line} (${line.shape})`,
      ...(line.spanId ? { spanId: line.spanId } : {}),
      fields,
      body: parseJsonText(line.message),
    });
  }
  return records;
}
