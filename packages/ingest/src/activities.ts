import { TracemendError, type EnvelopeRef, type FailureEnvelope, type IngestInput } from '@tracemend/contracts';
import type { Logger } from '@tracemend/telemetry';
import { isTraceExport, parseAlert, traceIdsOf } from './alerts';
import { buildEnvelope, type AlertSource, type BuildEnvelopeInput } from './envelope';
import type { EvidenceStore } from './evidence-store';
import { isErrorRecord, logLineTraceIds } from './json-logs';
import { buildEnvelopeFromLogLines } from './log-lines-envelope';
import type { OtlpTraces } from './otlp';
import { buildEnvelopeFromSentryEvent } from './sentry';
import { sentryEventOfEnvelope } from './sentry-envelope';

export interface IngestDeps {
  store: EvidenceStore;
  logger: Logger;
  appRoots?: readonly string[];
}

function sourceOf(ref: { alertId: string; format: AlertSource['format']; receivedAt: string }): AlertSource {
  return { alertId: ref.alertId, format: ref.format, receivedAt: ref.receivedAt };
}

/** The stored OTLP log exports and JSON log lines that name one of the trace ids, each once. */
async function relatedLogs(store: EvidenceStore, traceIds: readonly string[]): Promise<Required<Pick<BuildEnvelopeInput, 'logs' | 'logLines'>>> {
  const related: Required<Pick<BuildEnvelopeInput, 'logs' | 'logLines'>> = { logs: [], logLines: [] };
  const seen = new Set<string>();
  for (const traceId of traceIds) {
    for (const ref of await store.alertsForTrace(traceId)) {
      if ((ref.format !== 'otlp-logs-json' && ref.format !== 'otlp-logs-protobuf' && ref.format !== 'log-lines') || seen.has(ref.alertId)) continue;
      seen.add(ref.alertId);
      const parsed = parseAlert((await store.getAlert(ref.alertId)).bytes, ref.format);
      if (parsed.format === 'otlp-logs-json' || parsed.format === 'otlp-logs-protobuf') related.logs.push({ source: sourceOf(ref), body: parsed.body });
      if (parsed.format === 'log-lines') related.logLines.push({ source: sourceOf(ref), records: parsed.body });
    }
  }
  return related;
}

/** The first stored OTLP trace export of one of the trace ids, if any. */
async function storedTraceOf(store: EvidenceStore, traceIds: readonly string[]): Promise<{ source: AlertSource; body: OtlpTraces } | undefined> {
  for (const traceId of traceIds) {
    const ref = (await store.alertsForTrace(traceId)).find((item) => item.format === 'otlp-traces-json' || item.format === 'otlp-traces-protobuf');
    if (ref === undefined) continue;
    const parsed = parseAlert((await store.getAlert(ref.alertId)).bytes, ref.format);
    if (isTraceExport(parsed)) return { source: sourceOf(ref), body: parsed.body };
  }
  return undefined;
}

/** The ingest stage: a stored raw alert (plus the log exports and log lines of its trace) → a stored envelope. */
export function createIngestActivities(deps: IngestDeps) {
  return {
    ingest: async (input: IngestInput): Promise<EnvelopeRef> => {
      const { ref, bytes } = await deps.store.getAlert(input.alert.alertId);
      if (ref.format === 'sentry-event' || ref.format === 'sentry-envelope') {
        let event: unknown;
        try {
          // The envelope reader names its own problems (framing, a missing event item).
          event = ref.format === 'sentry-envelope' ? sentryEventOfEnvelope(bytes) : JSON.parse(bytes.toString('utf8'));
        } catch (error) {
          if (error instanceof TracemendError) throw error;
          throw new TracemendError('INVALID_INPUT', `the sentry-event alert is not valid JSON: ${(error as Error).message}`);
        }
        const envelope = buildEnvelopeFromSentryEvent(event, { alertId: ref.alertId, format: ref.format, receivedAt: ref.receivedAt }, deps.appRoots);
        const stored = await deps.store.putEnvelope(envelope);
        deps.logger.info({ fingerprint: stored.fingerprint, service: stored.service, errorType: stored.errorType, format: ref.format }, 'envelope built');
        return stored;
      }
      const alert = parseAlert(bytes, ref.format);
      const source = { alertId: ref.alertId, format: ref.format, receivedAt: ref.receivedAt };
      let envelope: FailureEnvelope;
      if (alert.format === 'log-lines') {
        // Log lines join the failing trace when it has been received; alone they still name the error.
        const trace = await storedTraceOf(deps.store, logLineTraceIds(alert.body.filter(isErrorRecord)));
        if (trace) {
          const related = await relatedLogs(deps.store, traceIdsOf({ format: 'otlp-traces-json', body: trace.body }));
          if (!related.logLines.some((lines) => lines.source.alertId === ref.alertId)) related.logLines.unshift({ source, records: alert.body });
          envelope = buildEnvelope({ traces: trace, ...related, ...(deps.appRoots ? { appRoots: deps.appRoots } : {}) });
        } else {
          envelope = buildEnvelopeFromLogLines({ source, records: alert.body, ...(deps.appRoots ? { appRoots: deps.appRoots } : {}) });
        }
      } else if (isTraceExport(alert)) {
        envelope = buildEnvelope({ traces: { source, body: alert.body }, ...(await relatedLogs(deps.store, traceIdsOf(alert))), ...(deps.appRoots ? { appRoots: deps.appRoots } : {}) });
      } else {
        throw new TracemendError('NO_FAILURE_IN_ALERT', 'a log export alone carries no failing span; send the trace export of the failure');
      }
      const stored = await deps.store.putEnvelope(envelope);
      deps.logger.info(
        { fingerprint: stored.fingerprint, service: stored.service, errorType: stored.errorType, spans: envelope.spans.length, logs: envelope.logs.length },
        'envelope built',
      );
      return stored;
    },
  };
}
