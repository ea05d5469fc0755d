import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  allHandlersFinished,
  condition,
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import {
  ApproveRequest,
  DEFAULT_REPAIR_POLICY,
  OccurrenceSignal,
  RejectRequest,
  RepairIncidentInput,
  STAGE_ACTIVITIES,
  formatIssues,
  type Candidate,
  type EnvelopeRef,
  type GatedEnvelope,
  type IncidentOutcome,
  type IncidentStatus,
  type Localization,
  type Outcome,
  type PullRequestRecord,
  type RepairPolicy,
  type ReviewState,
  type StageActivities,
  type StageActivityName,
  type StageName,
  type StageRecord,
  type Verification,
} from '@tracemend/contracts';
import {
  approveSignal,
  approveUpdate,
  occurrenceSignal,
  rejectSignal,
  rejectUpdate,
  searchAttributeKeys,
  statusQuery,
} from './definitions';
import { ACTIVITY_POLICIES, RETRY_SHAPE, outcomeForFailure, replayCaveats as caveatsOf, reviewRequirement } from './policy';

/** A stage that ended the incident: carries the outcome it maps to. */
class StageFailure extends Error {
  constructor(
    readonly stage: StageName,
    readonly outcome: Outcome,
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

const stageActivities = proxyActivities<StageActivities>({ startToCloseTimeout: '1 minute' });

/** Call-site options of one activity: its queue, timeouts and retries, and the summary the Temporal UI shows. */
function activityOptions(name: StageActivityName, summary: string): ActivityOptions {
  const policy = ACTIVITY_POLICIES[name];
  return {
    taskQueue: STAGE_ACTIVITIES[name].taskQueue,
    startToCloseTimeout: policy.startToCloseTimeout,
    ...(policy.heartbeatTimeout
      ? { heartbeatTimeout: policy.heartbeatTimeout, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED }
      : {}),
    retry: { ...RETRY_SHAPE, nonRetryableErrorTypes: [...RETRY_SHAPE.nonRetryableErrorTypes], maximumAttempts: policy.maximumAttempts },
    summary,
  };
}

const short = (text: string, length = 12) => text.slice(0, length);

/**
 * Turns one production failure into exactly one recorded outcome: ingest, gate, triage, reproduce,
 * minimize, localize, repair and verify (bounded loop), the review gate, then the pull request.
 */
export async function repairIncident(rawInput: RepairIncidentInput): Promise<IncidentOutcome> {
  const parsed = RepairIncidentInput.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.create({
      type: 'INVALID_INPUT',
      message: `RepairIncidentInput is invalid: ${formatIssues(parsed.error.issues)}`,
      nonRetryable: true,
    });
  }
  const input = parsed.data;
  const policy: RepairPolicy = { ...DEFAULT_REPAIR_POLICY, ...input.policy };
  const { workflowId } = workflowInfo();
  const startedAt = new Date().toISOString();

  const stages: StageRecord[] = [];
  let current: IncidentStatus['stage'] = 'ingest';
  let occurrences = input.occurrences;
  let identity: EnvelopeRef | undefined;
  let review: ReviewState | undefined;
  let outcome: IncidentOutcome | undefined;
  /** Why a replay may not match though the bug is real (inputs recorded cut short); said when it does not. */
  let replayCaveats: string[] = [];

  const status = (): IncidentStatus => ({
    schemaVersion: 1,
    incidentId: input.incidentId,
    stage: current,
    occurrences,
    ...(identity ? { fingerprint: identity.fingerprint, service: identity.service, errorType: identity.errorType } : {}),
    stages,
    ...(review ? { review } : {}),
    ...(outcome ? { outcome } : {}),
  });

  const showDetails = () => {
    const rows = stages.map((record) => {
      const time = record.durationMs === undefined ? '…' : `${Math.round(record.durationMs)} ms`;
      return `| ${record.stage} | ${record.status} | ${time} | ${record.summary.replace(/\|/g, '\\|')} |`;
    });
    const head = identity
      ? `**${identity.errorType}** in **${identity.service}** · fingerprint \`${short(identity.fingerprint)}\``
      : `alert \`${short(input.alert.alertId)}\` (${input.alert.format})`;
    const reviewLine =
      review?.state === 'waiting'
        ? `\n\n**Waiting for review**: ${review.why}. Send the \`approve\` signal ({"reviewer": "you"}) or \`reject\` ({"reviewer": "you", "reason": "…"}).`
        : '';
    setCurrentDetails(
      `${head} · occurrences ${occurrences} · stage **${current}**${reviewLine}\n\n| stage | status | time | summary |\n|---|---|---|---|\n${rows.join('\n')}`,
    );
  };

  setHandler(statusQuery, status);
  setHandler(occurrenceSignal, (signal) => {
    if (!OccurrenceSignal.safeParse(signal).success) {
      log.warn('ignored a malformed occurrence signal');
      return;
    }
    occurrences += 1;
    showDetails();
  });

  const decide = (decision: 'approved' | 'rejected', reviewer: string, note: string | undefined): ReviewState => {
    review = {
      ...(review ?? { why: '' }),
      state: decision,
      decidedAt: new Date().toISOString(),
      reviewer,
      ...(note === undefined ? {} : { note }),
    };
    log.info('review decided', { decision, reviewer });
    return review;
  };
  const assertWaiting = () => {
    if (review?.state !== 'waiting') {
      throw new Error(`incident ${input.incidentId} is not waiting for review (stage: ${current}, review: ${review?.state ?? 'not reached'})`);
    }
  };

  setHandler(approveUpdate, (request) => decide('approved', request.reviewer, request.comment), {
    validator: (request) => {
      const result = ApproveRequest.safeParse(request);
      if (!result.success) throw new Error(`ApproveRequest is invalid: ${formatIssues(result.error.issues)}`);
      assertWaiting();
    },
  });
  setHandler(rejectUpdate, (request) => decide('rejected', request.reviewer, request.reason), {
    validator: (request) => {
      const result = RejectRequest.safeParse(request);
      if (!result.success) throw new Error(`RejectRequest is invalid: ${formatIssues(result.error.issues)}`);
      assertWaiting();
    },
  });
  setHandler(approveSignal, (request) => {
    const parsedRequest = ApproveRequest.safeParse(request);
    if (!parsedRequest.success || review?.state !== 'waiting') {
      log.warn('ignored an approve signal', { waiting: review?.state === 'waiting', valid: parsedRequest.success });
      return;
    }
    decide('approved', parsedRequest.data.reviewer, parsedRequest.data.comment);
  });
  setHandler(rejectSignal, (request) => {
    const parsedRequest = RejectRequest.safeParse(request);
    if (!parsedRequest.success || review?.state !== 'waiting') {
      log.warn('ignored a reject signal', { waiting: review?.state === 'waiting', valid: parsedRequest.success });
      return;
    }
    decide('rejected', parsedRequest.data.reviewer, parsedRequest.data.reason);
  });

  const enter = (stage: StageName, summary: string): StageRecord => {
    current = stage;
    const record: StageRecord = { stage, status: 'running', startedAt: new Date().toISOString(), summary };
    stages.push(record);
    upsertSearchAttributes([{ key: searchAttributeKeys.stage, value: stage }]);
    showDetails();
    return record;
  };
  const leave = (record: StageRecord, status: StageRecord['status'], summary: string, errorCode?: string) => {
    const endedAt = new Date();
    record.status = status;
    record.endedAt = endedAt.toISOString();
    record.durationMs = endedAt.getTime() - Date.parse(record.startedAt);
    record.summary = summary.slice(0, 4_000);
    if (errorCode !== undefined) record.errorCode = errorCode;
    showDetails();
  };

  /** Runs one activity as a recorded stage; a failure becomes a StageFailure carrying its outcome. */
  async function runStage<K extends StageActivityName>(
    stage: StageName,
    name: K,
    stageInput: Parameters<StageActivities[K]>[0],
    activitySummary: string,
    summarize: (result: Awaited<ReturnType<StageActivities[K]>>) => string,
  ): Promise<Awaited<ReturnType<StageActivities[K]>>> {
    const record = enter(stage, activitySummary);
    try {
      const call = stageActivities[name] as unknown as {
        executeWithOptions(options: ActivityOptions, args: [typeof stageInput]): Promise<Awaited<ReturnType<StageActivities[K]>>>;
      };
      const result = await call.executeWithOptions(activityOptions(name, activitySummary), [stageInput]);
      leave(record, 'succeeded', summarize(result));
      return result;
    } catch (error) {
      // Also when the cancelled activity ended otherwise (e.g. its worker died and it timed out meanwhile).
      if (isCancellation(error) || CancellationScope.current().consideredCancelled) {
        leave(record, 'failed', 'cancelled by an operator');
        throw isCancellation(error) ? error : new CancelledFailure('cancelled by an operator');
      }
      const { code, nonRetryable, message } = describeFailure(error);
      leave(record, 'failed', `${code ?? 'error'}: ${message}`, code);
      throw new StageFailure(stage, outcomeForFailure(stage, code, nonRetryable), `${stage} failed: ${message}`, code);
    }
  }

  // The caveats are kept whole; the reason before them is cut to fit.
  const withCaveats = (result: Outcome, reason: string): string => {
    const caveats = result === 'not-reproducible' ? replayCaveats.join('; ').slice(0, 2_000) : '';
    return caveats === '' ? reason.slice(0, 4_000) : `${reason.slice(0, 4_000 - caveats.length - 2)}; ${caveats}`;
  };

  const finish = (result: Outcome, reason: string, extra: Partial<IncidentOutcome> = {}): IncidentOutcome => {
    current = 'done';
    outcome = {
      schemaVersion: 1,
      incidentId: input.incidentId,
      workflowId,
      outcome: result,
      reason: withCaveats(result, reason) || result,
      ...(identity ? { fingerprint: identity.fingerprint, service: identity.service, errorType: identity.errorType } : {}),
      occurrences,
      stages,
      ...(review ? { review } : {}),
      startedAt,
      endedAt: new Date().toISOString(),
      ...extra,
    };
    upsertSearchAttributes([
      { key: searchAttributeKeys.outcome, value: result },
      { key: searchAttributeKeys.stage, value: 'done' },
    ]);
    showDetails();
    log.info('incident ended', { outcome: result });
    return outcome;
  };

  /**
   * A cancelled workflow is an operator stopping the incident: it ends `rejected-by-operator` with the
   * stage it stopped in, never silently. Sandbox stages confirm the cancel only after their containers are gone.
   */
  const cancelled = (): IncidentOutcome => {
    const stoppedIn = current;
    for (const record of stages) if (record.status === 'running') leave(record, 'failed', 'cancelled by an operator');
    if (review?.state === 'waiting') review = { ...review, state: 'rejected', decidedAt: new Date().toISOString(), note: 'the workflow was cancelled' };
    return finish('rejected-by-operator', `cancelled by an operator during the ${stoppedIn} stage; the incident was stopped before a pull request`);
  };

  showDetails();
  let ended: IncidentOutcome;
  try {
    ended = await pipeline();
  } catch (error) {
    if (isCancellation(error)) ended = cancelled();
    else if (error instanceof StageFailure) ended = finish(error.outcome, error.message);
    else throw error;
  }
  // Let in-flight update handlers answer before the workflow completes, even after a cancel.
  await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  return ended;

  async function pipeline(): Promise<IncidentOutcome> {
    const { incidentId } = input;
    identity = await runStage('ingest', 'ingest', { incidentId, alert: input.alert }, `ingest ${input.alert.format} alert`, (ref) =>
      `${ref.errorType} in ${ref.service}@${short(ref.version)} · fingerprint ${short(ref.fingerprint)}`,
    );
    upsertSearchAttributes([
      { key: searchAttributeKeys.service, value: identity.service },
      { key: searchAttributeKeys.errorType, value: identity.errorType },
    ]);

    const gated: GatedEnvelope = await runStage('privacy-gate', 'gate', { incidentId, envelope: identity }, `gate ${identity.service} envelope`, (g) =>
      `contract ${g.privacy.contract.id} v${g.privacy.contract.version}: ${g.privacy.decisions.length} field decisions, ` +
      `${g.privacy.droppedUnknown.length} unknown fields dropped, ${g.privacy.detectorHits.length} detector hits; audit #${g.privacy.audit.sequence}`,
    );

    replayCaveats = caveatsOf(gated.envelope);

    const target = await runStage('triage', 'triage', { incidentId, gated }, `find the repository of ${identity.service}`, (t) =>
      `${t.repository.owner}/${t.repository.name}@${short(t.sha)} on ${t.baseBranch}; tests with ${t.test.runner}` +
        (t.test.detectedFrom === undefined ? '' : ` (read from ${t.test.detectedFrom})`),
    );
    replayCaveats = caveatsOf(gated.envelope, target);

    // The reason carries the rate: "reproduced in 5 of 5 runs (100%): …" or "matched in 1 of 5 runs (20%), below …".
    const reproduction = await runStage('reproduce', 'reproduce', { incidentId, gated, target }, `replay ${identity.errorType} in the sandbox`, (r) => r.reason);
    if (!reproduction.reproduced) {
      return finish('not-reproducible', `the replay did not produce the recorded signature: ${reproduction.reason}`);
    }

    const minimal = await runStage('minimize', 'minimize', { incidentId, gated, target, reproduction }, 'minimize the failing input', (m) =>
      `minimal input after ${m.testsRun} sandbox runs (${m.cacheHits} cached); test ${m.testFile.path}`,
    );

    const localization: Localization = await runStage('localize', 'localize', { incidentId, target, minimal }, 'rank suspicious lines', (l) => {
      const top = l.suspects[0];
      return top
        ? `top suspect ${top.file}:${top.line}${top.function ? ` (${top.function})` : ''} score ${top.score.toFixed(2)} of ${l.suspects.length}`
        : 'no suspects';
    });
    if (localization.suspects.length === 0) {
      return finish('no-verified-fix', 'fault localization ranked no line of the repository');
    }

    const rejected: { candidate: Candidate; verification: Verification }[] = [];
    const verifyErrors: string[] = [];
    const tried = new Set<string>();
    let chosen: { candidate: Candidate; verification: Verification } | undefined;
    for (let round = 1; round <= policy.maxRepairRounds && chosen === undefined; round++) {
      const set = await runStage(
        'repair',
        'repair',
        { incidentId, target, symptom: gated.envelope.symptom, minimal, localization, round, maxCandidates: policy.maxCandidatesPerRound, rejected },
        `repair round ${round}`,
        (s) => {
          const llm = s.candidates.filter((c) => c.origin === 'llm').length;
          return `round ${round}: ${s.candidates.length} candidates (${s.candidates.length - llm} template, ${llm} LLM)`;
        },
      );
      // A later round that only repeats candidates already judged has nothing new to offer.
      const fresh = set.candidates.filter((c) => !tried.has(c.id)).slice(0, policy.maxCandidatesPerRound);
      if (fresh.length === 0) break;
      for (const candidate of fresh) {
        tried.add(candidate.id);
        try {
          const verification = await runStage('verify', 'verify', { incidentId, target, minimal, candidate }, `verify candidate ${candidate.id}`, (v) =>
            `${candidate.id}: ${v.verdict}${v.risk ? `, risk ${v.risk.score}` : ''} (${v.reason})`,
          );
          if (verification.verdict === 'verified') {
            chosen = { candidate, verification };
            break;
          }
          rejected.push({ candidate, verification });
        } catch (error) {
          // A candidate the verifier could not judge is skipped; a verifier that is down ends the incident.
          if (!(error instanceof StageFailure) || error.outcome !== 'no-verified-fix') throw error;
          verifyErrors.push(`${candidate.id}: ${error.message}`);
        }
      }
    }
    if (chosen === undefined) {
      const judged = rejected.map((r) => `${r.candidate.id}: ${r.verification.reason}`).concat(verifyErrors);
      return finish('no-verified-fix', judged.length > 0 ? `no candidate verified: ${judged.join('; ')}` : 'repair produced no candidate');
    }

    const { candidate, verification } = chosen;
    const risk = verification.risk;
    if (risk) upsertSearchAttributes([{ key: searchAttributeKeys.risk, value: risk.score }]);
    const riskExtra = risk ? { risk } : {};

    const requirement = reviewRequirement(policy, risk, candidate);
    if (requirement.required) {
      const record = enter('review', `waiting for an operator: ${requirement.why}`);
      review = { state: 'waiting', why: requirement.why, requestedAt: new Date().toISOString() };
      showDetails();
      const decided = await condition(() => review?.state !== 'waiting', policy.reviewTimeoutSeconds * 1_000);
      if (!decided) {
        review = { ...review, state: 'expired', decidedAt: new Date().toISOString() };
        leave(record, 'failed', `no decision within ${policy.reviewTimeoutSeconds} s`);
        return finish('review-expired', `no operator decided within ${policy.reviewTimeoutSeconds} s (${requirement.why})`, riskExtra);
      }
      const decision = review;
      if (decision.state === 'rejected') {
        leave(record, 'failed', `rejected by ${decision.reviewer ?? 'an operator'}`);
        return finish('rejected-by-operator', `rejected by ${decision.reviewer ?? 'an operator'}: ${decision.note ?? ''}`, riskExtra);
      }
      leave(record, 'succeeded', `approved by ${decision.reviewer ?? 'an operator'}`);
    } else {
      review = { state: 'not-required', why: requirement.why };
      const record = enter('review', requirement.why);
      leave(record, 'skipped', requirement.why);
    }

    const pr: PullRequestRecord = await runStage(
      'pr',
      'openPullRequest',
      { incidentId, gated, target, reproduction, minimal, localization, candidate, verification },
      `open the pull request for ${candidate.id}`,
      (p) => `#${p.number} ${p.created ? 'opened' : 'updated'} on ${p.branch}`,
    );
    const madeBy = candidate.template === undefined ? candidate.origin : `${candidate.origin} ${candidate.template}`;
    return finish('pr-opened', `verified ${madeBy} patch ${candidate.id} ${pr.created ? 'opened' : 'updated'} as pull request #${pr.number}`, {
      ...riskExtra,
      pr: { url: pr.url, number: pr.number, branch: pr.branch },
    });
  }
}

/** Reads the error code, retryability and message out of an activity failure. */
function describeFailure(error: unknown): { code: string | undefined; nonRetryable: boolean; message: string } {
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure) {
    const cause = error.cause;
    const code = cause.type ?? undefined;
    const nonRetryable = cause.nonRetryable || (code !== undefined && RETRY_SHAPE.nonRetryableErrorTypes.includes(code as never));
    return { code, nonRetryable, message: cause.message };
  }
  if (error instanceof ActivityFailure) {
    return { code: undefined, nonRetryable: false, message: error.cause?.message ?? error.message };
  }
  throw error;
}
