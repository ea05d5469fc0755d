// The workflow's decisions in one place: activity timeouts and retries, which outcome a failed stage
// ends in, and when the review gate waits for an operator. Pure and deterministic.
import {
  DEFAULT_FEATURE_FLAGS_VARIABLE,
  NON_RETRYABLE_ERROR_CODES,
  type Candidate,
  type ErrorCode,
  type FailureEnvelope,
  type Outcome,
  type RepairPolicy,
  type RepoTarget,
  type RiskScore,
  type StageActivityName,
  type StageName,
} from '@tracemend/contracts';

export interface ActivityPolicy {
  startToCloseTimeout: string;
  /**
   * Set for the sandbox stages, which heartbeat several times a second: a worker that died is noticed
   * after this long, and on cancellation the workflow waits for the activity to confirm (its
   * containers are gone by then) rather than only requesting it.
   */
  heartbeatTimeout?: string;
  maximumAttempts: number;
}

/** Per-activity timeouts and retry budgets. Sandbox stages heartbeat so a cancel reaches their container. */
export const ACTIVITY_POLICIES: Record<StageActivityName, ActivityPolicy> = {
  ingest: { startToCloseTimeout: '1 minute', maximumAttempts: 3 },
  gate: { startToCloseTimeout: '1 minute', maximumAttempts: 3 },
  triage: { startToCloseTimeout: '30 seconds', maximumAttempts: 3 },
  reproduce: { startToCloseTimeout: '10 minutes', heartbeatTimeout: '10 seconds', maximumAttempts: 3 },
  minimize: { startToCloseTimeout: '20 minutes', heartbeatTimeout: '10 seconds', maximumAttempts: 2 },
  localize: { startToCloseTimeout: '10 minutes', heartbeatTimeout: '10 seconds', maximumAttempts: 2 },
  repair: { startToCloseTimeout: '5 minutes', maximumAttempts: 3 },
  verify: { startToCloseTimeout: '15 minutes', heartbeatTimeout: '10 seconds', maximumAttempts: 2 },
  openPullRequest: { startToCloseTimeout: '2 minutes', maximumAttempts: 5 },
};

/** Retry shape shared by every activity; codes no retry can change are never retried. */
export const RETRY_SHAPE = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  nonRetryableErrorTypes: NON_RETRYABLE_ERROR_CODES,
} as const;

/** The outcome a stage's non-retryable failure ends in. */
export const STAGE_FAILURE_OUTCOME: Record<StageName, Outcome> = {
  ingest: 'failed',
  'privacy-gate': 'blocked-by-privacy',
  triage: 'failed',
  reproduce: 'not-reproducible',
  minimize: 'failed',
  localize: 'no-verified-fix',
  repair: 'no-verified-fix',
  verify: 'no-verified-fix',
  review: 'failed',
  pr: 'failed',
};

/** Codes whose meaning decides the outcome wherever they are raised. */
const CODE_OUTCOME: Partial<Record<ErrorCode, Outcome>> = {
  PRIVACY_BLOCKED: 'blocked-by-privacy',
  EGRESS_BLOCKED: 'blocked-by-privacy',
  NOT_REPRODUCIBLE: 'not-reproducible',
  UNSUPPORTED_REPOSITORY: 'unsupported-repository',
};

/** The outcome of a failed stage: the code's own meaning first, then the stage's, `failed` when retries ran out. */
export function outcomeForFailure(stage: StageName, code: string | undefined, nonRetryable: boolean): Outcome {
  const byCode = code === undefined ? undefined : CODE_OUTCOME[code as ErrorCode];
  if (byCode) return byCode;
  return nonRetryable ? STAGE_FAILURE_OUTCOME[stage] : 'failed';
}

export interface ReviewRequirement {
  required: boolean;
  why: string;
}

/** Whether the review gate waits for an operator before the PR is opened. */
export function reviewRequirement(policy: RepairPolicy, risk: RiskScore | undefined, candidate: Candidate): ReviewRequirement {
  if (policy.review === 'always') return { required: true, why: 'policy requires review of every patch' };
  if (policy.reviewLlmPatches && candidate.origin === 'llm') {
    return { required: true, why: 'the patch was written by an LLM and policy requires review of LLM patches' };
  }
  if (policy.review === 'never') return { required: false, why: 'policy opens verified patches without review' };
  if (risk === undefined) return { required: true, why: 'the verifier gave no risk score' };
  if (risk.score >= policy.riskThreshold) {
    return { required: true, why: `risk ${risk.score} is at or above the review threshold ${policy.riskThreshold}` };
  }
  return { required: false, why: `risk ${risk.score} is below the review threshold ${policy.riskThreshold}` };
}

/** The guide to what tracemend reads from telemetry, named where a replay asks for more of it. */
const INSTRUMENTING_GUIDE = 'docs/instrumenting.md';

/**
 * What a replay ran without or with a stand-in, for the reason of an incident that did not reproduce:
 * inputs recorded cut short (a capped body: the bytes kept and how to record it whole), values no
 * signal carried (ingest's notes say where it looked), guessed ones (a body inferred from a status, a
 * synthesized event), and recorded feature flags set where the catalog did not say the service reads
 * them. `target` is the triaged repository, once known.
 */
export function replayCaveats(envelope: FailureEnvelope, target?: Pick<RepoTarget, 'featureFlags'>): string[] {
  const caveats: string[] = [];
  for (const input of envelope.provenance.inputs ?? []) {
    if (input.truncated === undefined) continue;
    const { marker, recordedBytes, sizeBytes } = input.truncated;
    const sizes = sizeBytes === undefined ? `${recordedBytes} bytes kept` : `${recordedBytes} of ${sizeBytes} bytes kept`;
    caveats.push(`the replay input ${input.path} was recorded cut short (${marker}, ${sizes})${input.note ? `: ${input.note}` : ''}`);
  }
  const missing = envelope.provenance.notes.filter((note) => note.includes('was not recorded'));
  caveats.push(...missing);
  for (const input of envelope.provenance.inputs ?? []) {
    if (input.guessed === true && !missing.some((note) => note.includes(input.path))) caveats.push(`${input.path} was guessed (${input.source})`);
  }
  const flags = Object.entries(envelope.environment.featureFlags);
  if (flags.length > 0 && target !== undefined && target.featureFlags === undefined) {
    caveats.push(
      `the recorded feature flags (${flags.map(([key, value]) => `${key}=${String(value)}`).join(', ')}) were set as ${DEFAULT_FEATURE_FLAGS_VARIABLE}, one JSON object; if the service reads its flags elsewhere, name where in services.${envelope.identity.service}.featureFlags {env, format} of the service catalog`,
    );
  }
  if (caveats.length > 0 && !caveats.some((caveat) => caveat.includes(INSTRUMENTING_GUIDE))) caveats.push(`see ${INSTRUMENTING_GUIDE}`);
  return caveats;
}
