import { FailureEnvelope, LIMITS, TracemendError, parseContract, type EnvelopeRef, type IngestInput } from '@tracemend/contracts';
import type { Logger } from '@tracemend/telemetry';
import type { EvidenceStore } from './evidence-store';
import { buildAlertEnvelope } from './intake';
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
async function withRepositoryFrames(deps: IngestDeps, build: (repository?: RepositoryLayout) => Promise<FailureEnvelope>): Promise<FailureEnvelope> {
  const first = await build();
  const lookup = await repositoryLayout(deps, first.identity);
  const envelope = lookup.layout ? await build(lookup.layout) : first;
  const notes = [...envelope.provenance.notes, lookup.note].slice(0, LIMITS.records);
  return parseContract(FailureEnvelope, { ...envelope, provenance: { ...envelope.provenance, notes } }, 'FailureEnvelope');
}

/** The ingest stage: a stored raw alert (plus the log exports and log lines of its trace) → a stored envelope. */
export function createIngestActivities(deps: IngestDeps) {
  return {
    ingest: async (input: IngestInput): Promise<EnvelopeRef> => {
      const { ref, bytes } = await deps.store.getAlert(input.alert.alertId);
      // The gateway's reading of the alert (intake.ts), so both agree on what is a failure.
      const envelope = await withRepositoryFrames(deps, (repository) =>
        buildAlertEnvelope(deps.store, ref, bytes, { ...(deps.appRoots ? { appRoots: deps.appRoots } : {}), ...(repository ? { repository } : {}) }),
      );
      const stored = await deps.store.putEnvelope(envelope);
      deps.logger.info(
        { fingerprint: stored.fingerprint, service: stored.service, errorType: stored.errorType, format: ref.format, spans: envelope.spans.length, logs: envelope.logs.length },
        'envelope built',
      );
      return stored;
    },
  };
}
