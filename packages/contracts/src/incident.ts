import { z } from 'zod';
import { RawAlertRef } from './gated';
import { RiskScore } from './pipeline';
import { boundedString, HexId, Identifier, IsoDateTime, LIMITS, SchemaVersion } from './primitives';

/** Every incident ends in exactly one of these. */
export const OUTCOMES = [
  'pr-opened',
  'not-reproducible',
  'blocked-by-privacy',
  'no-verified-fix',
  'unsupported-repository',
  'rejected-by-operator',
  'review-expired',
  'failed',
] as const;
export const Outcome = z.enum(OUTCOMES);
export type Outcome = z.infer<typeof Outcome>;

/** The stages of `repairIncident`, in order. */
export const STAGES = [
  'ingest',
  'privacy-gate',
  'triage',
  'reproduce',
  'minimize',
  'localize',
  'repair',
  'verify',
  'review',
  'pr',
] as const;
export const StageName = z.enum(STAGES);
export type StageName = z.infer<typeof StageName>;

/** One stage as it ran: what the `status` query and the outcome report. */
export const StageRecord = z.object({
  stage: StageName,
  status: z.enum(['running', 'succeeded', 'failed', 'skipped']),
  startedAt: IsoDateTime,
  endedAt: IsoDateTime.optional(),
  durationMs: z.number().nonnegative().optional(),
  summary: boundedString(LIMITS.text),
  errorCode: Identifier.optional(),
});
export type StageRecord = z.infer<typeof StageRecord>;

/** When the review gate waits for an operator, and how the repair loop is bounded. */
export const RepairPolicy = z.object({
  review: z.enum(['always', 'risk-threshold', 'never']),
  riskThreshold: z.number().int().min(0).max(100),
  reviewLlmPatches: z.boolean(),
  reviewTimeoutSeconds: z.number().int().positive().max(30 * 24 * 3600),
  maxRepairRounds: z.number().int().positive().max(5),
  maxCandidatesPerRound: z.number().int().positive().max(LIMITS.candidates),
});
export type RepairPolicy = z.infer<typeof RepairPolicy>;

export const DEFAULT_REPAIR_POLICY: RepairPolicy = {
  review: 'risk-threshold',
  riskThreshold: 40,
  reviewLlmPatches: true,
  reviewTimeoutSeconds: 24 * 3600,
  maxRepairRounds: 2,
  maxCandidatesPerRound: 5,
};

/** The input of the `repairIncident` workflow. The raw alert stays in the alert store; only its reference travels. */
export const RepairIncidentInput = z.object({
  schemaVersion: SchemaVersion,
  incidentId: Identifier,
  alert: RawAlertRef,
  occurrences: z.number().int().nonnegative().max(1_000_000),
  policy: RepairPolicy.partial().optional(),
});
export type RepairIncidentInput = z.infer<typeof RepairIncidentInput>;

/** A duplicate alert for a running incident. */
export const OccurrenceSignal = z.object({
  alertId: HexId,
  receivedAt: IsoDateTime,
});
export type OccurrenceSignal = z.infer<typeof OccurrenceSignal>;

export const ApproveRequest = z.object({
  reviewer: Identifier,
  comment: boundedString(LIMITS.text).optional(),
});
export type ApproveRequest = z.infer<typeof ApproveRequest>;

export const RejectRequest = z.object({
  reviewer: Identifier,
  reason: z.string().trim().min(1, 'a rejection needs a reason').max(LIMITS.text),
});
export type RejectRequest = z.infer<typeof RejectRequest>;

/** The review gate's state. */
export const ReviewState = z.object({
  state: z.enum(['not-required', 'waiting', 'approved', 'rejected', 'expired']),
  why: boundedString(LIMITS.text),
  requestedAt: IsoDateTime.optional(),
  decidedAt: IsoDateTime.optional(),
  reviewer: Identifier.optional(),
  note: boundedString(LIMITS.text).optional(),
});
export type ReviewState = z.infer<typeof ReviewState>;

/** The one recorded ending of an incident, with its reason and artifacts. */
export const IncidentOutcome = z.object({
  schemaVersion: SchemaVersion,
  incidentId: Identifier,
  workflowId: Identifier,
  outcome: Outcome,
  reason: z.string().min(1).max(LIMITS.text),
  fingerprint: HexId.optional(),
  service: Identifier.optional(),
  errorType: Identifier.optional(),
  occurrences: z.number().int().nonnegative(),
  stages: z.array(StageRecord).max(LIMITS.stages),
  review: ReviewState.optional(),
  pr: z.object({ url: z.url().max(2_048), number: z.number().int().positive(), branch: boundedString() }).optional(),
  risk: RiskScore.optional(),
  startedAt: IsoDateTime,
  endedAt: IsoDateTime,
});
export type IncidentOutcome = z.infer<typeof IncidentOutcome>;

/** What the workflow's `status` query returns. */
export const IncidentStatus = z.object({
  schemaVersion: SchemaVersion,
  incidentId: Identifier,
  stage: z.union([StageName, z.literal('done')]),
  occurrences: z.number().int().nonnegative(),
  fingerprint: HexId.optional(),
  service: Identifier.optional(),
  errorType: Identifier.optional(),
  stages: z.array(StageRecord).max(LIMITS.stages),
  review: ReviewState.optional(),
  outcome: IncidentOutcome.optional(),
});
export type IncidentStatus = z.infer<typeof IncidentStatus>;

/** Temporal task queues: stages run where their resources are. */
export const TASK_QUEUES = {
  workflows: 'tracemend-workflows',
  ingest: 'ingest',
  sandbox: 'sandbox',
  llm: 'llm',
} as const;
export type TaskQueue = (typeof TASK_QUEUES)[keyof typeof TASK_QUEUES];

/** Custom search attributes the Temporal namespace must have (infra registers them on the dev server). */
export const SEARCH_ATTRIBUTES = {
  service: { name: 'TracemendService', type: 'Keyword' },
  errorType: { name: 'TracemendErrorType', type: 'Keyword' },
  stage: { name: 'TracemendStage', type: 'Keyword' },
  risk: { name: 'TracemendRisk', type: 'Int' },
  outcome: { name: 'TracemendOutcome', type: 'Keyword' },
} as const;

/** The workflow id of an incident: one workflow per fingerprint-level incident id. */
export function incidentWorkflowId(incidentId: string): string {
  return `incident-${incidentId}`;
}
