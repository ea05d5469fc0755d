import { z } from 'zod';
import { Symptom } from './envelope';
import { EnvelopeRef, GatedEnvelope, RawAlertRef } from './gated';
import { TASK_QUEUES, type TaskQueue } from './incident';
import {
  Candidate,
  CandidateSet,
  Localization,
  MinimalRepro,
  PullRequestRecord,
  RepoTarget,
  Reproduction,
  Verification,
} from './pipeline';
import { Identifier, LIMITS } from './primitives';

const Incident = { incidentId: Identifier };

export const IngestInput = z.object({ ...Incident, alert: RawAlertRef });
export type IngestInput = z.infer<typeof IngestInput>;

export const GateInput = z.object({ ...Incident, envelope: EnvelopeRef });
export type GateInput = z.infer<typeof GateInput>;

export const TriageInput = z.object({ ...Incident, gated: GatedEnvelope });
export type TriageInput = z.infer<typeof TriageInput>;

export const ReproduceInput = z.object({ ...Incident, gated: GatedEnvelope, target: RepoTarget });
export type ReproduceInput = z.infer<typeof ReproduceInput>;

export const MinimizeInput = z.object({ ...Incident, gated: GatedEnvelope, target: RepoTarget, reproduction: Reproduction });
export type MinimizeInput = z.infer<typeof MinimizeInput>;

export const LocalizeInput = z.object({ ...Incident, target: RepoTarget, minimal: MinimalRepro });
export type LocalizeInput = z.infer<typeof LocalizeInput>;

export const RepairInput = z.object({
  ...Incident,
  target: RepoTarget,
  /**
   * What production reported, after the privacy gate: the message as the runtime wrote it (the
   * signature's normalized form masks the quoted property of `(setting 'x')` and the legacy forms)
   * and frames with their columns.
   */
  symptom: Symptom,
  minimal: MinimalRepro,
  localization: Localization,
  round: z.number().int().positive(),
  maxCandidates: z.number().int().positive().max(LIMITS.candidates),
  rejected: z.array(z.object({ candidate: Candidate, verification: Verification })).max(LIMITS.candidates * 5),
});
export type RepairInput = z.infer<typeof RepairInput>;

export const VerifyInput = z.object({ ...Incident, target: RepoTarget, minimal: MinimalRepro, candidate: Candidate });
export type VerifyInput = z.infer<typeof VerifyInput>;

export const PullRequestInput = z.object({
  ...Incident,
  gated: GatedEnvelope,
  target: RepoTarget,
  reproduction: Reproduction,
  minimal: MinimalRepro,
  localization: Localization,
  candidate: Candidate,
  verification: Verification,
});
export type PullRequestInput = z.infer<typeof PullRequestInput>;

/**
 * Every activity of `repairIncident`: its input and output contracts and the task queue it runs on.
 * The worker parses both sides of every call against this table; the workflow takes its types from it.
 */
export const STAGE_ACTIVITIES = {
  ingest: { input: IngestInput, output: EnvelopeRef, taskQueue: TASK_QUEUES.ingest },
  gate: { input: GateInput, output: GatedEnvelope, taskQueue: TASK_QUEUES.ingest },
  triage: { input: TriageInput, output: RepoTarget, taskQueue: TASK_QUEUES.ingest },
  reproduce: { input: ReproduceInput, output: Reproduction, taskQueue: TASK_QUEUES.sandbox },
  minimize: { input: MinimizeInput, output: MinimalRepro, taskQueue: TASK_QUEUES.sandbox },
  localize: { input: LocalizeInput, output: Localization, taskQueue: TASK_QUEUES.sandbox },
  repair: { input: RepairInput, output: CandidateSet, taskQueue: TASK_QUEUES.llm },
  verify: { input: VerifyInput, output: Verification, taskQueue: TASK_QUEUES.sandbox },
  openPullRequest: { input: PullRequestInput, output: PullRequestRecord, taskQueue: TASK_QUEUES.ingest },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType; taskQueue: TaskQueue }>;

export type StageActivityName = keyof typeof STAGE_ACTIVITIES;

/** The activity functions `repairIncident` calls, typed from their contracts. */
export type StageActivities = {
  [K in StageActivityName]: (
    input: z.infer<(typeof STAGE_ACTIVITIES)[K]['input']>,
  ) => Promise<z.infer<(typeof STAGE_ACTIVITIES)[K]['output']>>;
};
