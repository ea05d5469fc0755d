// The one intake path: which format an alert is, how it is parsed, which failure (fingerprint) it
// describes once joined with the evidence already stored for its traces, and which trace ids it
// carries. The gateway answers requests with it and the ingest activity builds envelopes with it,
// so an alert the gateway accepts is one ingest can read, and the other way round.
import { TracemendError, type AlertFormat, type FailureEnvelope, type RawAlertRef } from '@tracemend/contracts';
import { isAlertmanagerWebhook, parseAlertmanagerWebhook, type AlertmanagerWebhook } from './alertmanager';
import { detectOtlpJson, isTraceExport, otlpJsonAlert, parseAlert, traceIdsOf, type ParsedAlert } from './alerts';
import { buildEnvelope, type AlertSource, type BuildEnvelopeInput } from './envelope';
import type { EvidenceStore } from './evidence-store';
import { detectLogLineShape, isErrorRecord, logLineTraceIds, type LogLineRecord } from './json-logs';
import { buildEnvelopeFromLogLines } from './log-lines-envelope';
import type { OtlpTraces } from './otlp';
import { DEFAULT_OTLP_PROTOBUF_LIMITS, type OtlpProtobufLimits } from './otlp-protobuf';
import { buildEnvelopeFromSentryEvent, isSentryEvent, parseSentryEvent, sentryTraceId } from './sentry';
import { parseSentryEnvelope, sentryEventOfEnvelope } from './sentry-envelope';
import { frameMappingOf, type RepositoryLayout } from './stack';

/** The JSON alert formats, told apart by shape. */
export const JSON_ALERT_FORMATS = ['otlp-traces-json', 'otlp-logs-json', 'alertmanager', 'sentry-event'] as const;
export type JsonAlertFormat = (typeof JSON_ALERT_FORMATS)[number];

const SHAPES =
  'OTLP/JSON traces {"resourceSpans": [...]} (optionally with "resourceLogs" beside it), OTLP/JSON logs {"resourceLogs": [...]}, an Alertmanager webhook {"version": "4", "alerts": [...]} or a Sentry event {"exception": {"values": [...]}}';

/** The format of a parsed JSON body by its shape; UNSUPPORTED_ALERT_FORMAT naming the accepted shapes when none fits. */
export function detectAlertFormat(value: unknown): JsonAlertFormat {
  const otlp = detectOtlpJson(value);
  if (otlp) return otlp;
  if (isAlertmanagerWebhook(value)) return 'alertmanager';
  if (isSentryEvent(value)) return 'sentry-event';
  throw new TracemendError('UNSUPPORTED_ALERT_FORMAT', `the body is not an alert format tracemend reads; send ${SHAPES}, or name the format (${JSON_ALERT_FORMATS.join(', ')})`);
}

/** A line of `text` as a JSON object, or undefined. */
function jsonObjectLine(line: string | undefined): Record<string, unknown> | undefined {
  if (line === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The format of an alert given as text (a file, standard input): a JSON body by its shape (see
 * `detectAlertFormat`, with `json` the parsed body), JSON log lines (one pino, bunyan or winston
 * record per line) or a Sentry envelope (a header line, then an item header naming its `type`).
 * OTLP protobuf is binary and names no export, so it is never guessed. Throws
 * UNSUPPORTED_ALERT_FORMAT naming `name` and the accepted shapes when none fits.
 */
export function detectAlertText(text: string, name = 'the alert'): { format: AlertFormat; json?: unknown } {
  let json: unknown;
  let parseError: string | undefined;
  try {
    json = JSON.parse(text);
  } catch (error) {
    parseError = (error as Error).message.replace(/\s+/g, ' ').slice(0, 200);
  }
  if (parseError === undefined) {
    // One log record alone is a JSON body too.
    if (detectOtlpJson(json) === undefined && !isAlertmanagerWebhook(json) && !isSentryEvent(json) && detectLogLineShape(json) !== undefined) return { format: 'log-lines' };
    return { format: detectAlertFormat(json), json };
  }
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  if (detectLogLineShape(jsonObjectLine(lines[0])) !== undefined) return { format: 'log-lines' };
  const item = jsonObjectLine(lines[1]);
  if (jsonObjectLine(lines[0]) !== undefined && typeof item?.type === 'string') return { format: 'sentry-envelope' };
  throw new TracemendError(
    'UNSUPPORTED_ALERT_FORMAT',
    `${name} is not JSON: ${parseError}; nor is it JSON log lines (one pino, bunyan or winston record per line) or a Sentry envelope (a header line, then items); OTLP protobuf is sent to the gateway's /v1/traces or /v1/logs`,
  );
}

/**
 * Envelope item types Sentry SDKs send besides errors (performance, release health, their own
 * bookkeeping). Sentry's ingestion accepts them; they describe no failure, so there is nothing to do.
 */
export const SENTRY_TELEMETRY_ITEMS: ReadonlySet<string> = new Set([
  'transaction',
  'span',
  'session',
  'sessions',
  'client_report',
  'check_in',
  'profile',
  'profile_chunk',
  'replay_event',
  'replay_recording',
  'statsd',
  'metric_meta',
  'log',
  'otel_log',
]);

/** What an alert comes to. */
export type AlertReading =
  /** A failure: `envelope` gives the fingerprint; `basis` is the stored alert ingest should start from when it is not this one (log lines joined to a stored trace). */
  | { kind: 'failure'; format: AlertFormat; traceIds: string[]; envelope: FailureEnvelope; basis?: RawAlertRef }
  /** Evidence to keep for its traces (log exports, a trace with no failure yet); `reason` says why it is no incident (yet). */
  | { kind: 'evidence'; format: AlertFormat; traceIds: string[]; reason: string }
  /** An Alertmanager webhook: its alerts point at failures by trace id or by service and time. */
  | { kind: 'webhook'; format: 'alertmanager'; traceIds: string[]; webhook: AlertmanagerWebhook }
  /** A Sentry envelope of SDK telemetry only (`itemTypes`): accepted, nothing to do. */
  | { kind: 'ignored'; format: 'sentry-envelope'; traceIds: string[]; itemTypes: string[] };

/** How stack frames are mapped to repository paths: the repository's files when known, else the app roots (ingest's defaults when unset). */
export interface FrameSettings {
  appRoots?: readonly string[];
  repository?: RepositoryLayout;
}

export interface ReadAlertInput extends FrameSettings {
  /** The evidence already stored, which the alert is joined with; without one the alert is read alone. */
  store?: EvidenceStore;
  bytes: Uint8Array;
  format: AlertFormat;
  /** The alert's id (its content hash) and receive time, for provenance. */
  source: Pick<AlertSource, 'alertId' | 'receivedAt'>;
  /** The body already parsed as JSON, when the caller checked it (so it is not parsed twice). */
  json?: unknown;
  limits?: OtlpProtobufLimits;
}

function sourceOf(ref: Pick<RawAlertRef, 'alertId' | 'format' | 'receivedAt'>): AlertSource {
  return { alertId: ref.alertId, format: ref.format, receivedAt: ref.receivedAt };
}

/** The stored OTLP log exports and JSON log lines that name one of the trace ids, each once. */
/**
 * Stored exports of one trace read for its logs, newest first. Each alert of a trace reads them again,
 * so an exporter that keeps re-sending one trace (or a sender with the token doing so on purpose) must
 * not make every later alert slower than the last.
 */
export const MAX_RELATED_EXPORTS = 64;

const LOG_CARRYING = new Set<string>(['otlp-logs-json', 'otlp-logs-protobuf', 'log-lines', 'otlp-traces-json']);

async function relatedLogs(store: EvidenceStore | undefined, traceIds: readonly string[], skip: string): Promise<Required<Pick<BuildEnvelopeInput, 'logs' | 'logLines'>>> {
  const related: Required<Pick<BuildEnvelopeInput, 'logs' | 'logLines'>> = { logs: [], logLines: [] };
  if (store === undefined) return related;
  const seen = new Set<string>([skip]);
  for (const traceId of traceIds) {
    const stored = (await store.alertsForTrace(traceId)).filter((ref) => LOG_CARRYING.has(ref.format) && ref.alertId !== skip);
    const newest = new Set([...stored].sort((a, b) => b.receivedAt.localeCompare(a.receivedAt)).slice(0, MAX_RELATED_EXPORTS));
    for (const ref of stored) {
      if (!newest.has(ref)) continue;
      if (seen.has(ref.alertId)) continue;
      seen.add(ref.alertId);
      const parsed = parseAlert((await store.getAlert(ref.alertId)).bytes, ref.format);
      if (parsed.format === 'otlp-logs-json' || parsed.format === 'otlp-logs-protobuf') related.logs.push({ source: sourceOf(ref), body: parsed.body });
      else if (parsed.format === 'log-lines') related.logLines.push({ source: sourceOf(ref), records: parsed.body });
      else if (isTraceExport(parsed) && parsed.logs) related.logs.push({ source: sourceOf(ref), body: parsed.logs });
    }
  }
  return related;
}

/** The first stored OTLP trace export of one of the trace ids, if any. */
async function storedTraceOf(store: EvidenceStore | undefined, traceIds: readonly string[]): Promise<{ ref: RawAlertRef; body: OtlpTraces } | undefined> {
  if (store === undefined) return undefined;
  for (const traceId of traceIds) {
    const ref = (await store.alertsForTrace(traceId)).find((item) => item.format === 'otlp-traces-json' || item.format === 'otlp-traces-protobuf');
    if (ref === undefined) continue;
    const parsed = parseAlert((await store.getAlert(ref.alertId)).bytes, ref.format);
    if (isTraceExport(parsed)) return { ref, body: parsed.body };
  }
  return undefined;
}

/** Only the settings given, so builders apply their own defaults for the rest. */
function framesOf(settings: FrameSettings): FrameSettings {
  return { ...(settings.appRoots ? { appRoots: settings.appRoots } : {}), ...(settings.repository ? { repository: settings.repository } : {}) };
}

/** A trace export joined with its own logs and the logs stored for its traces. */
async function traceEnvelope(store: EvidenceStore | undefined, alert: Extract<ParsedAlert, { body: OtlpTraces }>, source: AlertSource, frames: FrameSettings): Promise<FailureEnvelope> {
  const related = await relatedLogs(store, traceIdsOf(alert), source.alertId);
  if (alert.logs) related.logs.unshift({ source, body: alert.logs });
  return buildEnvelope({ traces: { source, body: alert.body }, ...related, ...frames });
}

/** Log lines: joined to the stored failing trace of their error lines when there is one, else read alone. */
async function logLinesEnvelope(
  store: EvidenceStore | undefined,
  records: LogLineRecord[],
  source: AlertSource,
  frames: FrameSettings,
): Promise<{ envelope: FailureEnvelope; basis?: RawAlertRef }> {
  const trace = await storedTraceOf(store, logLineTraceIds(records.filter(isErrorRecord)));
  if (trace) {
    const related = await relatedLogs(store, traceIdsOf({ format: 'otlp-traces-json', body: trace.body }), source.alertId);
    related.logLines.unshift({ source, records });
    return { envelope: buildEnvelope({ traces: { source: sourceOf(trace.ref), body: trace.body }, ...related, ...frames }), basis: trace.ref };
  }
  return { envelope: buildEnvelopeFromLogLines({ source, records, ...frames }) };
}

/** Whether an error means "this alert describes no failure" rather than "this alert is broken". */
function isNoFailure(error: unknown): error is TracemendError {
  return error instanceof TracemendError && error.code === 'NO_FAILURE_IN_ALERT';
}

/** Runs a reader; anything that is not a stage error means the body could not be read (INVALID_INPUT naming the format). */
function reading<T>(format: AlertFormat, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof TracemendError) throw error;
    throw new TracemendError('INVALID_INPUT', `the ${format} alert could not be read: ${String((error as Error).message).slice(0, 500)}`, { cause: error });
  }
}

async function readingAsync<T>(format: AlertFormat, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof TracemendError) throw error;
    throw new TracemendError('INVALID_INPUT', `the ${format} alert could not be read: ${String((error as Error).message).slice(0, 500)}`, { cause: error });
  }
}

function jsonOf(input: ReadAlertInput): unknown {
  if (input.json !== undefined) return input.json;
  try {
    return JSON.parse(Buffer.from(input.bytes).toString('utf8'));
  } catch (error) {
    throw new TracemendError('INVALID_INPUT', `the ${input.format} alert is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Reads an alert of any accepted format: parses it, joins it with the evidence stored for its
 * traces and says what it comes to (a failure with its envelope, evidence to keep, a webhook, or
 * Sentry telemetry to ignore). Malformed bodies throw INVALID_INPUT / NO_FAILURE_IN_ALERT /
 * UNSUPPORTED_ALERT_FORMAT naming the problem.
 */
export async function readAlert(input: ReadAlertInput): Promise<AlertReading> {
  const { store, bytes, format } = input;
  const frames = framesOf(input);
  const source: AlertSource = { ...input.source, format };
  switch (format) {
    case 'sentry-event':
    case 'sentry-envelope': {
      if (format === 'sentry-envelope') {
        const items = parseSentryEnvelope(bytes).items.map((item) => String(item.header.type));
        if (!items.includes('event') && items.length > 0 && items.every((type) => SENTRY_TELEMETRY_ITEMS.has(type))) return { kind: 'ignored', format, traceIds: [], itemTypes: [...new Set(items)] };
      }
      const event = format === 'sentry-envelope' ? sentryEventOfEnvelope(bytes) : jsonOf(input);
      const envelope = reading(format, () => buildEnvelopeFromSentryEvent(event, source, frameMappingOf(frames)));
      const traceId = reading(format, () => sentryTraceId(parseSentryEvent(event)));
      return { kind: 'failure', format, envelope, traceIds: traceId ? [traceId] : envelope.identity.traceId ? [envelope.identity.traceId] : [] };
    }
    case 'alertmanager': {
      const webhook = reading(format, () => parseAlertmanagerWebhook(jsonOf(input)));
      return { kind: 'webhook', format, webhook, traceIds: [] };
    }
    default:
      break;
  }
  const alert = reading(format, () =>
    input.json !== undefined && (format === 'otlp-traces-json' || format === 'otlp-logs-json') ? otlpJsonAlert(format, input.json) : parseAlert(bytes, format, input.limits ?? DEFAULT_OTLP_PROTOBUF_LIMITS),
  );
  const traceIds = reading(format, () => traceIdsOf(alert));
  if (isTraceExport(alert)) {
    try {
      return { kind: 'failure', format, traceIds, envelope: await readingAsync(format, () => traceEnvelope(store, alert, source, frames)) };
    } catch (error) {
      if (!isNoFailure(error)) throw error;
      return { kind: 'evidence', format, traceIds, reason: `${error.message}; the export is kept so error logs or alerts of its traces can join it` };
    }
  }
  if (alert.format === 'log-lines') {
    if (!alert.body.some(isErrorRecord)) return { kind: 'evidence', format, traceIds, reason: 'no line reports an error; the lines join the failing trace they name' };
    const { envelope, basis } = await readingAsync(format, () => logLinesEnvelope(store, alert.body, source, frames));
    return { kind: 'failure', format, traceIds, envelope, ...(basis ? { basis } : {}) };
  }
  return { kind: 'evidence', format, traceIds, reason: 'a log export joins the failing trace it names' };
}

/** The envelope of a reading that is a failure; NO_FAILURE_IN_ALERT saying why any other reading starts no incident. */
export function envelopeOfReading(reading_: AlertReading): FailureEnvelope {
  switch (reading_.kind) {
    case 'failure':
      return reading_.envelope;
    case 'evidence':
      throw new TracemendError('NO_FAILURE_IN_ALERT', reading_.format.startsWith('otlp-logs') ? 'a log export alone carries no failing span; send the trace export of the failure' : reading_.reason);
    case 'webhook':
      throw new TracemendError('NO_FAILURE_IN_ALERT', 'an Alertmanager webhook points at failures; start the incident from the trace export or event it names');
    case 'ignored':
      throw new TracemendError('NO_FAILURE_IN_ALERT', `the Sentry envelope has no "event" item (it has items of type ${reading_.itemTypes.join(', ')}); only error events describe a failure`);
  }
}

/**
 * The FailureEnvelope of a stored alert, joined with the evidence stored for its traces (the
 * ingest activity's reading). Throws NO_FAILURE_IN_ALERT when the alert describes no failure.
 */
export async function buildAlertEnvelope(store: EvidenceStore, ref: RawAlertRef, bytes: Uint8Array, frames: FrameSettings = {}): Promise<FailureEnvelope> {
  return envelopeOfReading(await readAlert({ store, bytes, format: ref.format, source: ref, ...framesOf(frames) }));
}

/** The stored formats that can describe a failure on their own or joined with their trace's logs. */
const FAILURE_FORMATS: ReadonlySet<AlertFormat> = new Set<AlertFormat>(['otlp-traces-json', 'otlp-traces-protobuf', 'sentry-event', 'sentry-envelope', 'log-lines']);

/** The failure a stored alert of `traceId` describes (its envelope and the alert to start from), if the store has one. */
export async function failureOfTrace(store: EvidenceStore, traceId: string, appRoots?: readonly string[]): Promise<{ envelope: FailureEnvelope; alert: RawAlertRef } | undefined> {
  for (const ref of await store.alertsForTrace(traceId)) {
    if (!FAILURE_FORMATS.has(ref.format)) continue;
    const { bytes } = await store.getAlert(ref.alertId);
    let reading_: AlertReading;
    try {
      reading_ = await readAlert({ store, bytes, format: ref.format, source: ref, ...(appRoots ? { appRoots } : {}) });
    } catch {
      continue;
    }
    if (reading_.kind === 'failure' && reading_.envelope.identity.traceId === traceId.toLowerCase()) return { envelope: reading_.envelope, alert: reading_.basis ?? ref };
  }
  return undefined;
}

/**
 * The failures of `service` stored with a failure time inside `window` (an alert that names no trace
 * id, found by its service label and time), one per fingerprint: the latest alert of each.
 */
export async function failuresOfService(
  store: EvidenceStore,
  service: string,
  window: { from: string; to: string },
  appRoots?: readonly string[],
): Promise<{ envelope: FailureEnvelope; alert: RawAlertRef }[]> {
  const byFingerprint = new Map<string, { envelope: FailureEnvelope; alert: RawAlertRef }>();
  const from = Date.parse(window.from);
  const to = Date.parse(window.to);
  for (const ref of await store.alertsForService(service)) {
    if (!FAILURE_FORMATS.has(ref.format)) continue;
    let reading_: AlertReading;
    try {
      reading_ = await readAlert({ store, bytes: (await store.getAlert(ref.alertId)).bytes, format: ref.format, source: ref, ...(appRoots ? { appRoots } : {}) });
    } catch {
      continue;
    }
    if (reading_.kind !== 'failure' || reading_.envelope.identity.service !== service) continue;
    const at = Date.parse(reading_.envelope.identity.lastSeen);
    if (Number.isNaN(at) || at < from || at > to) continue;
    byFingerprint.set(reading_.envelope.identity.fingerprint, { envelope: reading_.envelope, alert: reading_.basis ?? ref });
  }
  return [...byFingerprint.values()];
}
