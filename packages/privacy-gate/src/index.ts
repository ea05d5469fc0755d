export {
  DATA_CONTRACT_FORMAT_VERSION,
  DATA_CONTRACT_SCHEMA_FILE,
  DataContract,
  DataContractField,
  compileContract,
  dataContractJsonSchema,
  loadDataContract,
  loadDataContractForService,
  parseDataContract,
} from './contract';
export type { CompiledField } from './contract';
export { canonicalToken, DETECTOR_NAMES, detect, isHighEntropy, isSecretKeyName, redactText, shannonEntropy } from './detectors';
export type { DetectOptions, DetectorKind, DetectorMatch, IssuedTokenCheck, ValueLikeTokenType } from './detectors';
export {
  CARD_TOKEN_PREFIX,
  DATE_SHIFT_MAX_WEEKS,
  DATE_SHIFT_MIN_WEEKS,
  TOKEN_TYPES,
  createKeyring,
  createTokenizer,
  isTokenKeyring,
  luhnValid,
} from './tokenize';
export type { Keyring, TokenKey, TokenKeyring, TokenType, Tokenizer } from './tokenize';
export {
  AuditEntry,
  AuditRecord,
  DetectorHit,
  GENESIS_HASH,
  appendAudit,
  canonicalJson,
  createAuditLog,
  auditHeadFile,
  macRecord,
  verifyAuditLog,
} from './audit';
export type { AuditBreak, AuditLog, AuditVerification } from './audit';
export { gateEnvelope, gateEnvelopeDetailed, previewGate } from './gate';
export type { GateDecision, GateInput, GatePreview, GateResult } from './gate';
export { createLogLineGuard, createRawValueRegistry, issuedTokenCheck, issuedTokenInput, knownRawValues, rawValueHasher, redactLeaks, scanForLeaks } from './egress';
export type { KnownRawValueHashes, LeakFinding, LogLineGuardOptions, RawValueHasher, RawValueRegistry, RawValueRegistryOptions } from './egress';
export { DATA_ROOTS, formatPath, matchPattern, parsePattern } from './paths';
export type { PatternSegment } from './paths';
// The vault's reader is deliberately not exported here: the operator CLI imports it from
// `@tracemend/privacy-gate/vault`, so no stage reaches a raw value through this entry point.
export { createVaultWriter } from './vault';
export type { VaultEntry, VaultKey, VaultWriter } from './vault';
export type { TokenMapping } from './token-log';
export { privacyStateFiles } from './state-files';
export { createPrivacyGateActivities } from './activities';
export type { PrivacyGateDeps } from './activities';
