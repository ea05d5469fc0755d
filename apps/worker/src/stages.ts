// Where the stage packages are built with real clients and handed to the workers.
import { join } from 'node:path';
import type { StageActivities } from '@tracemend/contracts';
import { createEvidenceStore, createIngestActivities, createTriageActivities, dataContractPath, loadServiceCatalog } from '@tracemend/ingest';
import { createAuditLog, createPrivacyGateActivities } from '@tracemend/privacy-gate';
import type { Logger } from '@tracemend/telemetry';
import type { WorkerConfig } from './env';
import { localTokenKey } from './token-key';

/**
 * Builds the stage implementations this version of tracemend has. A stage without an
 * implementation here is absent: the worker registers it failing with STAGE_NOT_BUILT.
 */
export async function buildStages(config: WorkerConfig, logger: Logger): Promise<Partial<StageActivities>> {
  const store = createEvidenceStore(join(config.stateDir, 'evidence'));
  const key = config.tokenKey ?? (await localTokenKey(join(config.stateDir, 'keys')));
  const audit = createAuditLog({ file: join(config.stateDir, 'audit', 'privacy.jsonl'), auditId: 'privacy' });
  return {
    ...createIngestActivities({ store, logger }),
    ...createPrivacyGateActivities({
      loadEnvelope: (id) => store.getEnvelope(id),
      contractFile: async (service) => dataContractPath(await loadServiceCatalog(config.catalogFile), service),
      key,
      audit,
      saveRawValueHashes: (auditHash, hashes) => store.putRawValueHashes(auditHash, hashes),
      logger,
    }),
    ...createTriageActivities({ catalogFile: config.catalogFile }),
  };
}
