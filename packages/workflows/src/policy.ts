// The workflow's decisions in one place: activity timeouts and retries, which outcome a failed stage
// ends in, and when the review gate waits for an operator. Pure and deterministic.
import {
  NON_RETRYABLE_ERROR_CODES,
  type Candidate,
  type ErrorCode,
  type FailureEnvelope,
  type Outcome,
  type RepairPolicy,
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

/**
 * The replay inputs that were recorded cut short (a capped body), each with its path, the bytes kept
 * and how to record it whole: a failed replay of such an input explains itself.
 */
export function incompleteInputs(envelope: FailureEnvelope): string[] {
  return (envelope.provenance.inputs ?? []).flatMap((input) => {
    if (input.truncated === undefined) return [];
    const { marker, recordedBytes, sizeBytes } = input.truncated;
    const sizes = sizeBytes === undefined ? `${recordedBytes} bytes kept` : `${recordedBytes} of ${sizeBytes} bytes kept`;
    return [`the replay input ${input.path} was recorded cut short (${marker}, ${sizes})${input.note ? `: ${input.note}` : ''}`];
  });
}
