// JSON log lines with no trace to join → FailureEnvelope, from the error line's own stack.
import { FailureEnvelope, LIMITS, TracemendError, parseContract } from '@tracemend/contracts';
import { NO_TRACE } from './causal';
import { buildEntry, frameEntry, type AlertSource } from './envelope';
import { fingerprint, messageHash } from './fingerprint';
import { isErrorRecord, logLineExcerpt, type LogLineRecord } from './json-logs';
import type { JsonValue } from './otlp';
import { revisionField } from './revision';
import { frameMappingOf, parseV8Stack, unmappedFramesNote, type RepositoryLayout } from './stack';

export interface BuildEnvelopeFromLogLinesInput {
  source: AlertSource;
  records: readonly LogLineRecord[];
  appRoots?: readonly string[];
  /** The repository's files at the deployed commit: frames are matched to them instead of `appRoots`. */
  repository?: RepositoryLayout;
  /** Why no trace was joined, for provenance; a default names the error line's trace id. */
  noTraceReason?: string;
}

function stringAttribute(record: LogLineRecord, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value: JsonValue | undefined = record.attributes[key];
    if (typeof value === 'string' && value !== '') return value.slice(0, LIMITS.shortText);
  }
  return undefined;
}

/** The first error line with a stack (later errors are often its consequences), else the first error line. */
function errorRecordOf(records: readonly LogLineRecord[]): LogLineRecord {
  const errors = records.filter(isErrorRecord);
  const chosen = errors.find((record) => record.error?.stack) ?? errors[0];
  if (chosen === undefined) {
    throw new TracemendError('NO_FAILURE_IN_ALERT', `none of the ${records.length} log lines reports an error (an error or fatal line with "err", "error" or "stack")`);
  }
  return chosen;
}

/** The lines around the error, at most LIMITS.logs of them, so the error line is always among them. */
function window(records: readonly LogLineRecord[], chosen: LogLineRecord): readonly LogLineRecord[] {
  if (records.length <= LIMITS.logs) return records;
  const at = records.indexOf(chosen);
  const start = Math.max(0, Math.min(at - Math.floor(LIMITS.logs * 0.75), records.length - LIMITS.logs));
  return records.slice(start, start + LIMITS.logs);
}

/**
 * Builds the ungated FailureEnvelope from JSON log lines alone: the first error line's `err` (or
 * winston's `stack`) is the symptom, its logged `req` the entry, and provenance says no trace was
 * joined. Throws NO_FAILURE_IN_ALERT when no line reports an error.
 */
export function buildEnvelopeFromLogLines(input: BuildEnvelopeFromLogLinesInput): FailureEnvelope {
  const mapping = frameMappingOf(input);
  const record = errorRecordOf(input.records);
  const error = record.error ?? { type: 'Error', message: record.message };
  const notes: string[] = [
    input.noTraceReason ?? (record.traceId ? `no trace was joined: no trace export of trace ${record.traceId} was available` : 'no trace was joined: the error line names no trace id'),
  ];
  const frames = parseV8Stack(error.stack ?? '', mapping);
  if (frames.length === 0) notes.push(`log line ${record.line} carries no stack trace`);
  const unmapped = unmappedFramesNote(frames, mapping);
  if (unmapped) notes.push(unmapped);
  const service = (record.service ?? input.records.find((item) => item.service)?.service ?? 'unknown_service').slice(0, LIMITS.shortText);
  const recordedAt = record.timestamp ?? input.source.receivedAt;
  const request = record.request ?? input.records.find((item) => item.request && (item.traceId === undefined || item.traceId === record.traceId))?.request;
  const entry = request?.url !== undefined ? buildEntry([], notes, request) : frameEntry(frames, notes);
  const message = error.message || record.message;

  const envelope: FailureEnvelope = {
    schemaVersion: 1,
    identity: {
      fingerprint: fingerprint(service, error.type, frames),
      ...(record.traceId ? { traceId: record.traceId } : {}),
      ...(record.spanId ? { spanId: record.spanId } : {}),
      service,
      version: stringAttribute(record, 'service.version', 'version') ?? 'unknown',
      ...revisionField((key) => record.attributes[key]),
      environment: stringAttribute(record, 'deployment.environment.name', 'deployment.environment', 'environment', 'env') ?? 'unknown',
      firstSeen: recordedAt,
      lastSeen: recordedAt,
      occurrences: 1,
    },
    symptom: { errorType: error.type.slice(0, LIMITS.shortText), message: message.slice(0, LIMITS.text), messageHash: messageHash(message), frames },
    entry,
    environment: { featureFlags: {}, env: {}, runtime: { name: 'node', version: 'unknown' } },
    timing: { recordedAt },
    downstream: [],
    spans: [],
    logs: window(input.records, record).map((item) => logLineExcerpt(item, recordedAt)),
    provenance: {
      sources: [{ ...input.source, items: input.records.length }],
      notes: notes.map((note) => note.slice(0, LIMITS.text)).slice(0, LIMITS.records),
      trace: NO_TRACE,
    },
  };
  return parseContract(FailureEnvelope, envelope, 'FailureEnvelope');
}
