// The privacy-gate stage with its real dependencies, apart from the other stages: the CLI's
// `tracemend gate` builds this alone, without Docker, Temporal or the sandbox.
import { join } from 'node:path';
import { createEvidenceStore, dataContractPath, loadServiceCatalog, type EvidenceStore } from '@tracemend/ingest';
import { createAuditLog, createPrivacyGateActivities, createRawValueRegistry, createVaultWriter, privacyStateFiles, rawValueHasher, type RawValueRegistry } from '@tracemend/privacy-gate';
import type { Logger } from '@tracemend/telemetry';
import type { WorkerConfig } from './env';
import { workerTokenKey } from './token-key';

/** The worker's evidence store: the state folder's `evidence`, sealed under the configured key or the local one. */
export function workerEvidenceStore(config: Pick<WorkerConfig, 'stateDir' | 'evidenceKey'>): EvidenceStore {
  return createEvidenceStore(join(config.stateDir, 'evidence'), config.evidenceKey === undefined ? {} : { key: config.evidenceKey });
}

/** What building the gate stage made, for the stages that share the store, the key's hasher and the registry. */
export interface GateStage {
  readonly activities: ReturnType<typeof createPrivacyGateActivities>;
  readonly store: EvidenceStore;
  readonly registry: RawValueRegistry;
  readonly hashOf: ReturnType<typeof rawValueHasher>;
}

/**
 * The gate stage: the token key (configured, else the local one), the MAC-chained audit log, the vault
 * when a vault key is set, and the raw-value hashes kept in the store and in `registry` for the egress guard.
 */
export async function buildGateStage(config: WorkerConfig, logger: Logger, store: EvidenceStore = workerEvidenceStore(config), rawValues?: RawValueRegistry): Promise<GateStage> {
  const key = await workerTokenKey(config);
  // Raw-value hashes are keyed by the token key: the registry must hash with the same one.
  const hashOf = rawValueHasher(key);
  const registry = rawValues ?? createRawValueRegistry({ hashOf });
  const privacyFiles = privacyStateFiles(config.stateDir);
  const audit = createAuditLog({ file: privacyFiles.audit, key, auditId: 'privacy' });
  const vault = config.vaultKey === undefined ? undefined : createVaultWriter({ file: privacyFiles.vault, key: config.vaultKey });
  const activities = createPrivacyGateActivities({
    loadEnvelope: (id) => store.getEnvelope(id),
    contractFile: async (service) => dataContractPath(await loadServiceCatalog(config.catalogFile), service),
    key,
    audit,
    saveRawValueHashes: async (auditHash, hashes) => {
      registry.add(auditHash, hashes);
      await store.putRawValueHashes(auditHash, hashes);
    },
    vault,
    logger,
  });
  return { activities, store, registry, hashOf };
}
