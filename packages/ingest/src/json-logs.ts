// Structured JSON log lines (newline-delimited, as pino, bunyan and winston write them) normalized to
// one record shape, so their errors, stacks and request data can be joined to a trace by trace id.
import { LIMITS, TracemendError, type LogExcerpt } from '@tracemend/contracts';
import { toContractAttributes, type JsonValue } from './otlp';

/** The logging library whose line shape a record was read in. */
export type LogLineShape = 'pino' | 'bunyan' | 'winston';

/** The error a log line carries (pino/bunyan `err`, winston's top-level `stack`). */
export interface LogLineError {
  type: string;
  message: string;
  stack?: string;
}

/** The request a log line describes (pino-http and bunyan's `req` serializer shape). */
export interface LogLineRequest {
  method?: string;
  url?: string;
  headers: Record<string, string>;
  body?: JsonValue;
}

/** One log line, normalized. */
export interface LogLineRecord {
  /** 1-based line number in the batch, for messages a human can follow back. */
  line: number;
  shape: LogLineShape;
  /** ISO time, absent when the line's time could not be read. */
  timestamp?: string;
  severity: LogExcerpt['severity'];
  message: string;
  service?: string;
  traceId?: string;
  spanId?: string;
  error?: LogLineError;
  request?: LogLineRequest;
  /** The line's other fields. */
  attributes: Record<string, JsonValue>;
}

/** At most this many lines per batch: a batch is the lines around one failure, not a log archive. */
export const MAX_LOG_LINES = 10_000;

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ANSI = /\u001b\[[0-9;]*m/g;
/** The keys a shape's reader consumes; the rest become attributes. */
const CONSUMED = new Set([
  'level', 'time', 'timestamp', 'msg', 'message', 'v', 'err', 'error', 'stack', 'req',
  'trace_id', 'span_id', 'trace_flags', 'traceId', 'spanId', 'service', 'service.name',
  '__proto__', 'constructor', 'prototype',
]);

type JsonObject = { [key: string]: JsonValue };

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Which library wrote a parsed line, from its fields; undefined when none fits. */
export function detectLogLineShape(value: unknown): LogLineShape | undefined {
  if (!isObject(value)) return undefined;
  const { level } = value;
  // bunyan stamps every record with the format version `v` and an ISO time.
  if (typeof value.v === 'number' && typeof level === 'number' && typeof value.time === 'string' && typeof value.msg === 'string') return 'bunyan';
  if (typeof level === 'number' && (typeof value.time === 'number' || typeof value.time === 'string')) return 'pino';
  if (typeof level === 'string' && typeof value.msg === 'string' && 'time' in value) return 'pino';
  if (typeof level === 'string' && 'message' in value) return 'winston';
  return undefined;
}

/** pino and bunyan share numeric levels: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal. */
function numericSeverity(level: number): LogExcerpt['severity'] {
  if (level >= 60) return 'fatal';
  if (level >= 50) return 'error';
  if (level >= 40) return 'warn';
  if (level >= 30) return 'info';
  if (level >= 20) return 'debug';
  return level >= 1 ? 'trace' : 'unspecified';
}

/** npm and syslog level names (winston's two built-in sets) and pino's labels. */
const NAMED_LEVELS: Record<string, LogExcerpt['severity']> = {
  emerg: 'fatal', alert: 'fatal', crit: 'fatal', fatal: 'fatal',
  error: 'error', err: 'error',
  warn: 'warn', warning: 'warn',
  notice: 'info', info: 'info', http: 'info',
  verbose: 'debug', debug: 'debug',
  silly: 'trace', trace: 'trace',
};

function severityOf(level: JsonValue | undefined): LogExcerpt['severity'] {
  if (typeof level === 'number') return numericSeverity(level);
  if (typeof level === 'string') return NAMED_LEVELS[level.replace(ANSI, '').trim().toLowerCase()] ?? 'unspecified';
  return 'unspecified';
}

function isoOf(time: JsonValue | undefined): string | undefined {
  const ms = typeof time === 'number' ? time : typeof time === 'string' ? Date.parse(time) : Number.NaN;
  return Number.isFinite(ms) && ms > 0 && ms < 8.64e15 ? new Date(ms).toISOString() : undefined;
}

function stringField(record: JsonObject, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = record[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/** `TypeError: message` on a stack's first line names the error's type. */
function typeFromStack(stack: string | undefined): string | undefined {
  return /^([A-Za-z_$][\w$.]*)(?::|\s*$)/.exec(stack?.split('\n', 1)[0] ?? '')?.[1];
}

function errorOf(record: JsonObject, shape: LogLineShape, message: string): LogLineError | undefined {
  const nested = isObject(record.err) ? record.err : isObject(record.error) ? record.error : undefined;
  if (nested) {
    const stack = stringField(nested, 'stack');
    const type = stringField(nested, 'type', 'name') ?? typeFromStack(stack) ?? 'Error';
    return { type, message: stringField(nested, 'message') ?? '', ...(stack ? { stack } : {}) };
  }
  // winston's `format.errors({ stack: true })` lifts the error's stack (and message) to the top level.
  const stack = shape === 'winston' ? stringField(record, 'stack') : undefined;
  if (stack === undefined) return undefined;
  const firstLine = stack.split('\n', 1)[0] ?? '';
  const type = typeFromStack(stack) ?? 'Error';
  const fromStack = firstLine.startsWith(`${type}: `) ? firstLine.slice(type.length + 2) : message;
  return { type, message: fromStack, stack };
}

function requestOf(record: JsonObject): LogLineRequest | undefined {
  const req = record.req;
  if (!isObject(req)) return undefined;
  const headers: Record<string, string> = {};
  if (isObject(req.headers)) {
    for (const [key, value] of Object.entries(req.headers).slice(0, LIMITS.records)) {
      const joined = Array.isArray(value) ? value.filter((item) => typeof item === 'string').join(', ') : typeof value === 'string' ? value : undefined;
      if (joined !== undefined && !CONSUMED.has(key)) headers[key.toLowerCase().slice(0, LIMITS.shortText)] = joined.slice(0, LIMITS.text);
    }
  }
  const method = stringField(req, 'method');
  const url = stringField(req, 'url', 'originalUrl');
  return { ...(method ? { method: method.toUpperCase() } : {}), ...(url ? { url } : {}), headers, ...(req.body !== undefined ? { body: req.body } : {}) };
}

function idOf(record: JsonObject, pattern: RegExp, ...keys: string[]): string | undefined {
  const value = stringField(record, ...keys)?.toLowerCase();
  return value !== undefined && pattern.test(value) && !/^0+$/.test(value) ? value : undefined;
}

/** Normalizes one parsed log line of a known shape. */
function normalizeLogLine(record: JsonObject, shape: LogLineShape, line: number): LogLineRecord {
  const message = (shape === 'winston' ? stringField(record, 'message') : stringField(record, 'msg')) ?? '';
  const timestamp = isoOf(shape === 'winston' ? record.timestamp : record.time);
  const error = errorOf(record, shape, message);
  const request = requestOf(record);
  const traceId = idOf(record, TRACE_ID, 'trace_id', 'traceId');
  const spanId = idOf(record, SPAN_ID, 'span_id', 'spanId');
  const service = stringField(record, 'service.name', 'service', 'name');
  const attributes: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(record)) {
    if (!CONSUMED.has(key) && Object.keys(attributes).length < LIMITS.records) attributes[key] = value;
  }
  return {
    line,
    shape,
    ...(timestamp ? { timestamp } : {}),
    severity: severityOf(record.level),
    message,
    ...(service ? { service } : {}),
    ...(traceId ? { traceId } : {}),
    ...(spanId ? { spanId } : {}),
    ...(error ? { error } : {}),
    ...(request ? { request } : {}),
    attributes,
  };
}

/**
 * Parses newline-delimited JSON log lines written by pino, bunyan or winston. Blank lines are
 * skipped; a line that is not JSON, not an object or not of a known shape fails with INVALID_INPUT
 * naming its line number.
 */
export function parseLogLines(text: string): LogLineRecord[] {
  const records: LogLineRecord[] = [];
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const lineText = raw.trim();
    if (lineText === '') continue;
    if (records.length >= MAX_LOG_LINES) {
      throw new TracemendError('INVALID_INPUT', `the log-lines alert holds more than ${MAX_LOG_LINES} lines; send the lines around one failure`);
    }
    const line = index + 1;
    let value: unknown;
    try {
      value = JSON.parse(lineText);
    } catch (error) {
      throw new TracemendError('INVALID_INPUT', `log line ${line} is not JSON: ${(error as Error).message.slice(0, 200)}`, { cause: error });
    }
    const shape = detectLogLineShape(value);
    if (shape === undefined || !isObject(value)) {
      throw new TracemendError(
        'INVALID_INPUT',
        `log line ${line} is not a pino, bunyan or winston record: expected a JSON object with a numeric "level" and "time" (pino, bunyan) or a string "level" and "message" (winston)`,
      );
    }
    records.push(normalizeLogLine(value, shape, line));
  }
  if (records.length === 0) throw new TracemendError('INVALID_INPUT', 'the log-lines alert holds no log lines');
  return records;
}

/**
 * Whether a record reports a failure: it carries an error (`err`, `error` or winston's `stack`) at
 * error level or above (or with no readable level). A warning with an error is a handled one.
 */
export function isErrorRecord(record: LogLineRecord): boolean {
  return record.error !== undefined && (record.severity === 'error' || record.severity === 'fatal' || record.severity === 'unspecified');
}

/** A record as the envelope's log excerpt. */
export function logLineExcerpt(record: LogLineRecord, fallbackTime: string): LogExcerpt {
  const attributes: Record<string, JsonValue> = { 'log.shape': record.shape, 'log.line': record.line, ...record.attributes };
  if (record.error) {
    attributes['exception.type'] = record.error.type;
    attributes['exception.message'] = record.error.message;
    if (record.error.stack) attributes['exception.stacktrace'] = record.error.stack;
  }
  return {
    timestamp: record.timestamp ?? fallbackTime,
    severity: record.severity,
    body: record.message.slice(0, LIMITS.text),
    ...(record.traceId ? { traceId: record.traceId } : {}),
    ...(record.spanId ? { spanId: record.spanId } : {}),
    attributes: toContractAttributes(attributes, LIMITS.records, LIMITS.text),
  };
}

/** The trace ids a batch of log lines names, sorted. */
export function logLineTraceIds(records: readonly LogLineRecord[]): string[] {
  return [...new Set(records.flatMap((record) => (record.traceId ? [record.traceId] : [])))].sort();
}
