export {
  DataContract,
  DataContractField,
  compileContract,
  loadDataContract,
  loadDataContractForService,
  parseDataContract,
} from './contract';
export type { CompiledField } from './contract';
export { DETECTOR_NAMES, detect, isHighEntropy, isSecretKeyName, redactText, shannonEntropy } from './detectors';
export type { DetectorKind, DetectorMatch } from './detectors';
export { CARD_TOKEN_PREFIX, TOKEN_TYPES, createTokenizer, luhnValid } from './tokenize';
export type { TokenKey, TokenType, Tokenizer } from './tokenize';
export {
  AuditEntry,
  AuditRecord,
  DetectorHit,
  GENESIS_HASH,
  appendAudit,
  canonicalJson,
  createAuditLog,
  hashRecord,
  verifyAuditLog,
} from './audit';
export type { AuditBreak, AuditLog, AuditVerification } from './audit';
export { gateEnvelope, gateEnvelopeDetailed } from './gate';
export type { GateInput, GateResult } from './gate';
export { hashRawValue, scanForLeaks } from './egress';
export type { LeakFinding } from './egress';
export { DATA_ROOTS, formatPath, matchPattern, parsePattern } from './paths';
export type { PatternSegment } from './paths';
export { createPrivacyGateActivities } from './activities';
export type { PrivacyGateDeps } from './activities';
