import { TracemendError, type EnvelopeRef, type IngestInput } from '@tracemend/contracts';
import type { Logger } from '@tracemend/telemetry';
import { parseAlert, traceIdsOf } from './alerts';
import { buildEnvelope } from './envelope';
import type { EvidenceStore } from './evidence-store';
import type { OtlpLogs } from './otlp';
import { buildEnvelopeFromSentryEvent } from './sentry';

export interface IngestDeps {
  store: EvidenceStore;
  logger: Logger;
  appRoots?: readonly string[];
}

/** The ingest stage: a stored raw alert (plus the log exports of its trace) → a stored envelope. */
export function createIngestActivities(deps: IngestDeps) {
  return {
    ingest: async (input: IngestInput): Promise<EnvelopeRef> => {
      const { ref, bytes } = await deps.store.getAlert(input.alert.alertId);
      if (ref.format === 'sentry-event') {
        let event: unknown;
        try {
          event = JSON.parse(bytes.toString('utf8'));
        } catch (error) {
          throw new TracemendError('INVALID_INPUT', `the sentry-event alert is not valid JSON: ${(error as Error).message}`);
        }
        const envelope = buildEnvelopeFromSentryEvent(event, { alertId: ref.alertId, format: ref.format, receivedAt: ref.receivedAt }, deps.appRoots);
        const stored = await deps.store.putEnvelope(envelope);
        deps.logger.info({ fingerprint: stored.fingerprint, service: stored.service, errorType: stored.errorType, format: ref.format }, 'envelope built');
        return stored;
      }
      const alert = parseAlert(bytes, ref.format);
      if (alert.format !== 'otlp-traces-json') {
        throw new TracemendError('NO_FAILURE_IN_ALERT', 'a log export alone carries no failing span; send the trace export of the failure');
      }
      const logs: { source: { alertId: string; format: 'otlp-logs-json'; receivedAt: string }; body: OtlpLogs }[] = [];
      for (const traceId of traceIdsOf(alert)) {
        for (const related of await deps.store.alertsForTrace(traceId)) {
          if (related.format !== 'otlp-logs-json' || logs.some((log) => log.source.alertId === related.alertId)) continue;
          const parsed = parseAlert((await deps.store.getAlert(related.alertId)).bytes, related.format);
          if (parsed.format === 'otlp-logs-json') logs.push({ source: { alertId: related.alertId, format: related.format, receivedAt: related.receivedAt }, body: parsed.body });
        }
      }
      const envelope = buildEnvelope({
        traces: { source: { alertId: ref.alertId, format: ref.format, receivedAt: ref.receivedAt }, body: alert.body },
        logs,
        ...(deps.appRoots ? { appRoots: deps.appRoots } : {}),
      });
      const stored = await deps.store.putEnvelope(envelope);
      deps.logger.info(
        { fingerprint: stored.fingerprint, service: stored.service, errorType: stored.errorType, spans: envelope.spans.length, logs: envelope.logs.length },
        'envelope built',
      );
      return stored;
    },
  };
}
