import { TracemendError, type AlertFormat } from '@tracemend/contracts';
import { logLineTraceIds, parseLogLines, type LogLineRecord } from './json-logs';
import type { OtlpLogs, OtlpTraces } from './otlp';
import { DEFAULT_OTLP_PROTOBUF_LIMITS, decodeOtlpLogsProtobuf, decodeOtlpTracesProtobuf, type OtlpProtobufLimits } from './otlp-protobuf';

/** A parsed alert body the ingest stage can read. */
export type ParsedAlert =
  /** `logs`: the log records of a JSON export that carries both signals (`{resourceSpans, resourceLogs}`). */
  | { format: 'otlp-traces-json' | 'otlp-traces-protobuf'; body: OtlpTraces; logs?: OtlpLogs }
  | { format: 'otlp-logs-json' | 'otlp-logs-protobuf'; body: OtlpLogs }
  | { format: 'log-lines'; body: LogLineRecord[] };

function parseJson(bytes: Uint8Array, format: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new TracemendError('INVALID_INPUT', `the ${format} alert is not valid JSON: ${(error as Error).message}`);
  }
}

/** Which OTLP/JSON export a body is, from its top-level key; a body with both signals reads as traces (its logs come along). */
export function detectOtlpJson(value: unknown): 'otlp-traces-json' | 'otlp-logs-json' | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  if (Array.isArray((value as OtlpTraces).resourceSpans)) return 'otlp-traces-json';
  if (Array.isArray((value as OtlpLogs).resourceLogs)) return 'otlp-logs-json';
  return undefined;
}

/** Parses a stored alert of a format ingest reads; other formats fail with UNSUPPORTED_ALERT_FORMAT. */
export function parseAlert(bytes: Uint8Array, format: AlertFormat, limits: OtlpProtobufLimits = DEFAULT_OTLP_PROTOBUF_LIMITS): ParsedAlert {
  // Both OTLP encodings decode to the same shape; the protobuf decoder enforces `limits` as it goes.
  if (format === 'otlp-traces-protobuf') return { format, body: decodeOtlpTracesProtobuf(bytes, limits) };
  if (format === 'otlp-logs-protobuf') return { format, body: decodeOtlpLogsProtobuf(bytes, limits) };
  if (format === 'log-lines') return { format, body: parseLogLines(Buffer.from(bytes).toString('utf8')) };
  if (format !== 'otlp-traces-json' && format !== 'otlp-logs-json') {
    throw new TracemendError('UNSUPPORTED_ALERT_FORMAT', `ingest reads OTLP traces and logs (JSON or protobuf) and JSON log lines; ${format} is not one of them`);
  }
  return otlpJsonAlert(format, parseJson(bytes, format));
}

/** An OTLP/JSON export already parsed as JSON, checked for its top-level array. */
export function otlpJsonAlert(format: 'otlp-traces-json' | 'otlp-logs-json', value: unknown): ParsedAlert {
  const detected = detectOtlpJson(value);
  if (detected !== format) {
    const key = format === 'otlp-traces-json' ? 'resourceSpans' : 'resourceLogs';
    throw new TracemendError('INVALID_INPUT', `the ${format} alert has no "${key}" array at the top level`);
  }
  if (format === 'otlp-logs-json') return { format, body: value as OtlpLogs };
  // Some tools write both signals into one object; the logs are read with the traces, not dropped.
  const { resourceLogs } = value as OtlpLogs;
  return Array.isArray(resourceLogs) ? { format, body: value as OtlpTraces, logs: { resourceLogs } } : { format, body: value as OtlpTraces };
}

/** The trace ids an OTLP/JSON export or a batch of log lines mentions, so logs can be joined to their failing trace. */
export function traceIdsOf(alert: ParsedAlert): string[] {
  if (alert.format === 'log-lines') return logLineTraceIds(alert.body);
  const ids = new Set<string>();
  const logs = isTraceExport(alert) ? alert.logs : alert.body;
  if (isTraceExport(alert)) {
    for (const rs of alert.body.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) for (const span of ss.spans ?? []) if (span.traceId) ids.add(span.traceId.toLowerCase());
  }
  for (const rl of logs?.resourceLogs ?? []) for (const sl of rl.scopeLogs ?? []) for (const record of sl.logRecords ?? []) if (record.traceId) ids.add(record.traceId.toLowerCase());
  return [...ids].sort();
}

/** Whether a parsed alert is an OTLP trace export, in either encoding. */
export function isTraceExport(alert: ParsedAlert): alert is Extract<ParsedAlert, { format: 'otlp-traces-json' | 'otlp-traces-protobuf' }> {
  return alert.format === 'otlp-traces-json' || alert.format === 'otlp-traces-protobuf';
}
