import { FailureEnvelope, LIMITS, TracemendError, parseContract, type EnvelopeRef, type IngestInput } from '@tracemend/contracts';
import type { Logger } from '@tracemend/telemetry';
import { isTraceExport, parseAlert, traceIdsOf } from './alerts';
import { buildEnvelope, type AlertSource, type BuildEnvelopeInput } from './envelope';
import type { EvidenceStore } from './evidence-store';
import { isErrorRecord, logLineTraceIds } from './json-logs';
import { buildEnvelopeFromLogLines } from './log-lines-envelope';
import type { OtlpTraces } from './otlp';
import { buildEnvelopeFromSentryEvent } from './sentry';
import { sentryEventOfEnvelope } from './sentry-envelope';
import { DEFAULT_APP_ROOTS, type RepositoryLayout } from './stack';
import { catalogService, loadServiceCatalog } from './triage';
import type { VersionResolver } from './version';

export interface IngestDeps {
  store: EvidenceStore;
  logger: Logger;
  /** App-root prefixes for frames when the repository's files are unknown (defaults: DEFAULT_APP_ROOTS). */
  appRoots?: readonly string[];
  /**
   * The service catalog (read per call, like triage) and the version resolver: with both, stack frames
   * are matched to the files of the service's repository at the deployed commit.
   */
  catalog?: { file: string; resolver: VersionResolver };
}

/** The repository layout frames are matched against, or why there is none. */
type LayoutLookup = { layout: RepositoryLayout; note: string } | { layout?: undefined; note: string };

/** The files of the envelope's service at its deployed commit, per the catalog; failures become the reason. */
async function repositoryLayout(deps: IngestDeps, identity: FailureEnvelope['identity']): Promise<LayoutLookup> {
  const roots = (deps.appRoots ?? DEFAULT_APP_ROOTS).join(', ');
  const unmatched = (why: string) => ({ note: `stack frames were not matched to the repository: ${why}; they were mapped by the app roots ${roots}` });
  if (deps.catalog === undefined) return unmatched('the ingest stage was given no service catalog');
  try {
    const entry = catalogService(await loadServiceCatalog(deps.catalog.file), identity.service);
    const commit = await deps.catalog.resolver.resolve(
      { service: identity.service, version: identity.version, ...(identity.revision === undefined ? {} : { revision: identity.revision }) },
      entry,
    );
    const files = await deps.catalog.resolver.listFiles(entry, commit.sha);
    const how = commit.resolvedFrom.ref ? `${commit.resolvedFrom.how} ${commit.resolvedFrom.ref}` : commit.resolvedFrom.how;
    const root = entry.deployRoot ? `under the catalog's deployRoot ${entry.deployRoot}` : 'deploy root inferred from the frame paths';
    return {
      layout: { files, ...(entry.deployRoot ? { deployRoot: entry.deployRoot } : {}) },
      note: `stack frames were matched to the ${files.length} files of ${entry.repository.owner}/${entry.repository.name} at ${commit.sha.slice(0, 12)} (from ${how}; ${root})`,
    };
  } catch (error) {
    // The reason (git's stderr, paths) goes into the envelope's provenance, not the log.
    deps.logger.warn({ service: identity.service, code: error instanceof TracemendError ? error.code : 'GIT' }, 'stack frames not matched to the repository');
    return unmatched((error as Error).message.split('\n')[0]?.slice(0, 1_000) ?? 'unknown error');
  }
}

/** Builds the envelope with app-root frames, then again with the repository's files when the catalog knows them. */
async function withRepositoryFrames(deps: IngestDeps, build: (repository?: RepositoryLayout) => FailureEnvelope): Promise<FailureEnvelope> {
  const first = build();
  const lookup = await repositoryLayout(deps, first.identity);
  const envelope = lookup.layout ? build(lookup.layout) : first;
  const notes = [...envelope.provenance.notes, lookup.note].slice(0, LIMITS.records);
  return parseContract(FailureEnvelope, { ...envelope, provenance: { ...envelope.provenance, notes } }, 'FailureEnvelope');
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
        const source = { alertId: ref.alertId, format: ref.format, receivedAt: ref.receivedAt };
        const envelope = await withRepositoryFrames(deps, (repository) =>
          buildEnvelopeFromSentryEvent(event, source, repository ? { repository } : { appRoots: deps.appRoots ?? DEFAULT_APP_ROOTS }),
        );
        const stored = await deps.store.putEnvelope(envelope);
        deps.logger.info({ fingerprint: stored.fingerprint, service: stored.service, errorType: stored.errorType, format: ref.format }, 'envelope built');
        return stored;
      }
      const alert = parseAlert(bytes, ref.format);
      const source = { alertId: ref.alertId, format: ref.format, receivedAt: ref.receivedAt };
      const frames = (repository?: RepositoryLayout) => ({ ...(deps.appRoots ? { appRoots: deps.appRoots } : {}), ...(repository ? { repository } : {}) });
      let envelope: FailureEnvelope;
      if (alert.format === 'log-lines') {
        // Log lines join the failing trace when it has been received; alone they still name the error.
        const trace = await storedTraceOf(deps.store, logLineTraceIds(alert.body.filter(isErrorRecord)));
        if (trace) {
          const related = await relatedLogs(deps.store, traceIdsOf({ format: 'otlp-traces-json', body: trace.body }));
          if (!related.logLines.some((lines) => lines.source.alertId === ref.alertId)) related.logLines.unshift({ source, records: alert.body });
          envelope = await withRepositoryFrames(deps, (repository) => buildEnvelope({ traces: trace, ...related, ...frames(repository) }));
        } else {
          envelope = await withRepositoryFrames(deps, (repository) => buildEnvelopeFromLogLines({ source, records: alert.body, ...frames(repository) }));
        }
      } else if (isTraceExport(alert)) {
        const related = await relatedLogs(deps.store, traceIdsOf(alert));
        // Logs written beside the spans in one OTLP/JSON object join like stored ones.
        if (alert.logs) related.logs.unshift({ source, body: alert.logs });
        envelope = await withRepositoryFrames(deps, (repository) => buildEnvelope({ traces: { source, body: alert.body }, ...related, ...frames(repository) }));
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
