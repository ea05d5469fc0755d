export { createIngestActivities } from './activities';
export type { IngestDeps } from './activities';
export { detectOtlpJson, otlpJsonAlert, parseAlert, traceIdsOf } from './alerts';
export type { ParsedAlert } from './alerts';
export { buildEnvelope } from './envelope';
export type { AlertSource, BuildEnvelopeInput } from './envelope';
export { createEvidenceStore } from './evidence-store';
export type { AlertEvent, EvidenceKey, EvidenceStore, EvidenceStoreOptions, PendingAlert, PurgeReport } from './evidence-store';
export { fingerprint, messageHash } from './fingerprint';
export type { JsonValue, OtlpLogs, OtlpTraces } from './otlp';
export {
  DEFAULT_APP_ROOTS,
  frameFileName,
  frameOrigin,
  mapFrames,
  mapFramesByAppRoots,
  mapFramesToRepository,
  parseV8Frames,
  parseV8Stack,
  repoPath,
} from './stack';
export type { FrameMapping, FrameOrigin, RepositoryLayout, RepositoryMapping } from './stack';
export { REVISION_ATTRIBUTES, revisionOf } from './revision';
export { catalogService, createTriageActivities, dataContractPath, loadServiceCatalog, resolveTarget } from './triage';
export { GitCommandError, createGitRepositories, parseRemoteTags } from './git';
export type { GitOptions, GitRepositories, RemoteTag } from './git';
export { candidateTags, createVersionResolver, resolveVersion } from './version';
export type { ReportedVersion, ResolvedCommit, VersionResolver } from './version';
export type { LoadedCatalog } from './triage';
export { AlertmanagerWebhook, alertService, alertTraceId, alertWindow, alertmanagerTraceIds, isAlertmanagerWebhook, parseAlertmanagerWebhook } from './alertmanager';
export type { AlertmanagerAlert, AlertmanagerTraceRef } from './alertmanager';
export { SentryEvent, buildEnvelopeFromSentryEvent, isSentryEvent, parseSentryEvent, sentryTraceId } from './sentry';
export { isTraceExport } from './alerts';
export { DEFAULT_OTLP_PROTOBUF_LIMITS, decodeOtlpLogsProtobuf, decodeOtlpTracesProtobuf } from './otlp-protobuf';
export type { OtlpProtobufLimits } from './otlp-protobuf';
export { ProtobufDecodeError } from './protobuf-wire';
export type { ProtobufProblem } from './protobuf-wire';
export { MAX_SENTRY_ENVELOPE_ITEMS, parseSentryEnvelope, sentryEventItem, sentryEventOfEnvelope } from './sentry-envelope';
export type { SentryEnvelope, SentryEnvelopeItem, SentryEnvelopeProblem } from './sentry-envelope';
export { MAX_LOG_LINES, detectLogLineShape, isErrorRecord, logLineTraceIds, parseLogLines } from './json-logs';
export type { LogLineError, LogLineRecord, LogLineRequest, LogLineShape } from './json-logs';
export { buildEnvelopeFromLogLines } from './log-lines-envelope';
export type { BuildEnvelopeFromLogLinesInput } from './log-lines-envelope';
export { JSON_ALERT_FORMATS, SENTRY_TELEMETRY_ITEMS, buildAlertEnvelope, detectAlertFormat, detectAlertText, envelopeOfReading, failureOfTrace, failuresOfService, readAlert } from './intake';
export type { AlertReading, FrameSettings, JsonAlertFormat, ReadAlertInput } from './intake';
