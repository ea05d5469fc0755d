export {
  LIMITS,
  SCHEMA_VERSION,
  SchemaVersion,
  Attributes,
  AttributeValue,
  GitSha,
  HexId,
  Identifier,
  IsoDateTime,
  boundedJson,
  boundedRecord,
  boundedString,
  utf8ByteLength,
} from './primitives';
export { ERROR_CODES, ERROR_CODE_NAMES, NON_RETRYABLE_ERROR_CODES, TracemendError, isErrorCode } from './errors';
export type { ErrorCode } from './errors';
export {
  AlertFormat,
  DownstreamCall,
  Entry,
  FailureEnvelope,
  Frame,
  FunctionEntry,
  HttpEntry,
  InputProvenance,
  LogExcerpt,
  MessageEntry,
  Provenance,
  RuntimeEnvironment,
  SpanExcerpt,
  Symptom,
  Timing,
  TraceProvenance,
} from './envelope';
export {
  AuditReference,
  EnvelopeRef,
  GatedEnvelope,
  PrivacyAction,
  PrivacyDecision,
  RawAlertRef,
  Sensitivity,
} from './gated';
export {
  Candidate,
  CandidateSet,
  Edit,
  FailureSignature,
  Localization,
  MinimalRepro,
  PullRequestRecord,
  RepoTarget,
  Reproduction,
  RiskFactorName,
  RiskScore,
  Suspect,
  SupportFile,
  TestFile,
  TestRunner,
  Verification,
} from './pipeline';
export {
  ApproveRequest,
  DEFAULT_REPAIR_POLICY,
  IncidentOutcome,
  IncidentStatus,
  OUTCOMES,
  OccurrenceSignal,
  Outcome,
  RejectRequest,
  RepairIncidentInput,
  RepairPolicy,
  ReviewState,
  SEARCH_ATTRIBUTES,
  STAGES,
  StageName,
  StageRecord,
  TASK_QUEUES,
  incidentWorkflowId,
} from './incident';
export type { TaskQueue } from './incident';
export {
  GateInput,
  IngestInput,
  LocalizeInput,
  MinimizeInput,
  PullRequestInput,
  RepairInput,
  ReproduceInput,
  STAGE_ACTIVITIES,
  TriageInput,
  VerifyInput,
} from './activities';
export type { StageActivities, StageActivityName } from './activities';
export { CatalogService, ServiceCatalog, VersionConfig } from './catalog';
export { DEFAULT_FEATURE_FLAGS_VARIABLE, FaasEventShape, FeatureFlagsConfig, FunctionHandlerConfig, HttpAppConfig, MessageEnvelopeShape, MessageHandlerConfig, ModuleExport } from './entry-config';
export { applyFileEdits, editsByFile } from './edits';
export { formatIssues, parseContract } from './parse';
export { normalizeErrorMessage } from './signature';
