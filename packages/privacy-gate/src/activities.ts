import type { GatedEnvelope, GateInput as GateActivityInput, FailureEnvelope } from '@tracemend/contracts';
import type { Logger } from '@tracemend/telemetry';
import type { AuditLog } from './audit';
import { loadDataContract } from './contract';
import { gateEnvelopeDetailed } from './gate';
import type { TokenKey } from './tokenize';
import type { VaultWriter } from './vault';

export interface PrivacyGateDeps {
  /** Reads the ungated envelope the ingest stage stored. */
  loadEnvelope(envelopeId: string): Promise<FailureEnvelope>;
  /** The data contract file of a service (from the service catalog). */
  contractFile(service: string): Promise<string>;
  key: TokenKey;
  audit: AuditLog;
  /** Keeps the keyed hashes of the removed raw values for the egress guard, by audit record hash. */
  saveRawValueHashes(auditRecordHash: string, hashes: string[]): Promise<void>;
  /** Appends token → raw value for operators to reveal; absent means no mapping is kept anywhere. */
  vault?: VaultWriter;
  logger: Logger;
}

/** The privacy-gate stage: the only place an ungated envelope is read and released in gated form. */
export function createPrivacyGateActivities(deps: PrivacyGateDeps) {
  return {
    gate: async (input: GateActivityInput): Promise<GatedEnvelope> => {
      const envelope = await deps.loadEnvelope(input.envelope.envelopeId);
      const contract = await loadDataContract(await deps.contractFile(envelope.identity.service));
      const { gated, rawValueHashes, tokenized } = await gateEnvelopeDetailed({ envelope, contract, key: deps.key, audit: deps.audit, incidentId: input.incidentId });
      await deps.saveRawValueHashes(gated.privacy.audit.recordHash, rawValueHashes);
      await deps.vault?.record(tokenized.map((mapping) => ({ ...mapping, keyId: gated.privacy.tokenKeyId, incidentId: input.incidentId })));
      deps.logger.info(
        {
          contract: `${contract.service}@${contract.version}`,
          decisions: gated.privacy.decisions.length,
          droppedUnknown: gated.privacy.droppedUnknown.length,
          detectorHits: gated.privacy.detectorHits.reduce((sum, hit) => sum + hit.count, 0),
          audit: gated.privacy.audit.sequence,
          vaulted: deps.vault === undefined ? 0 : tokenized.length,
        },
        'envelope gated',
      );
      return gated;
    },
  };
}
