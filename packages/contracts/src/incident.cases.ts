import { casesOf, chars, repeat, type CaseTable } from './contract-cases';
import { exampleIncidentOutcome, exampleIncidentStatus, exampleRepairIncidentInput } from './examples';
import {
  ApproveRequest,
  DEFAULT_REPAIR_POLICY,
  IncidentOutcome,
  IncidentStatus,
  OccurrenceSignal,
  Outcome,
  RejectRequest,
  RepairIncidentInput,
  RepairPolicy,
  ReviewState,
  StageName,
  StageRecord,
  type StageRecord as StageRecordType,
} from './incident';

const [stage] = exampleIncidentOutcome.stages as [StageRecordType];
const running: StageRecordType = { stage: 'reproduce', status: 'running', startedAt: stage.startedAt, summary: 'replaying in the sandbox' };
const waiting = { state: 'waiting', why: 'LLM-origin patch needs review', requestedAt: stage.startedAt } as const;
const notReproducible: IncidentOutcome = {
  ...exampleIncidentOutcome,
  outcome: 'not-reproducible',
  reason: 'no replay produced the recorded signature in 5 runs',
  review: undefined,
  pr: undefined,
  risk: undefined,
};

export const incidentCases: CaseTable = {
  Outcome: casesOf(Outcome, ['pr-opened', 'failed'], (change) => [
    change.missing([]),
    change.wrongType([], 7),
    change.outOfDomain([], 'succeeded'),
  ]),
  StageName: casesOf(StageName, ['ingest', 'privacy-gate', 'pr'], (change) => [
    change.missing([]),
    change.wrongType([], null),
    change.outOfDomain([], 'done'),
  ]),
  StageRecord: casesOf(StageRecord, [stage, running, { ...stage, status: 'failed', errorCode: 'NOT_REPRODUCIBLE' }], (change) => [
    change.missing(['startedAt']),
    change.missing(['summary']),
    change.wrongType(['durationMs'], '40'),
    change.overBound(['summary'], chars(4_097)),
    change.overBound(['errorCode'], chars(257)),
    change.outOfDomain(['status'], 'done'),
  ]),
  RepairPolicy: casesOf(RepairPolicy, [DEFAULT_REPAIR_POLICY, { ...DEFAULT_REPAIR_POLICY, review: 'always', maxRepairRounds: 5 }], (change) => [
    change.missing(['riskThreshold']),
    change.wrongType(['reviewLlmPatches'], 'true'),
    change.overBound(['maxRepairRounds'], 6),
    change.overBound(['maxCandidatesPerRound'], 21),
    change.overBound(['reviewTimeoutSeconds'], 30 * 24 * 3600 + 1),
    change.outOfDomain(['review'], 'sometimes'),
  ]),
  RepairIncidentInput: casesOf(
    RepairIncidentInput,
    [{ ...exampleRepairIncidentInput, policy: { review: 'never' } }, exampleRepairIncidentInput],
    (change) => [
      change.missing(['schemaVersion'], /expected 1/),
      change.missing(['alert', 'alertId']),
      change.wrongType(['occurrences'], '1'),
      change.wrongType(['policy'], 'never'),
      change.overBound(['incidentId'], chars(257)),
      change.overBound(['occurrences'], 1_000_001),
      change.overBound(['policy', 'maxRepairRounds'], 6),
    ],
  ),
  OccurrenceSignal: casesOf(OccurrenceSignal, [{ alertId: 'c0ffee00c0ffee00', receivedAt: stage.startedAt }], (change) => [
    change.missing(['receivedAt']),
    change.wrongType(['alertId'], 12),
    change.overBound(['alertId'], chars(129, 'c')),
    change.outOfDomain(['receivedAt'], 'yesterday', /datetime/),
  ]),
  ApproveRequest: casesOf(ApproveRequest, [{ reviewer: 'ana' }, { reviewer: 'ana', comment: 'looks right' }], (change) => [
    change.missing(['reviewer']),
    change.wrongType(['comment'], 1),
    change.overBound(['comment'], chars(4_097)),
    change.overBound(['reviewer'], chars(257)),
  ]),
  RejectRequest: casesOf(RejectRequest, [{ reviewer: 'ana', reason: 'patch hides the real bug' }], (change) => [
    change.missing(['reason']),
    change.wrongType(['reviewer'], { name: 'ana' }),
    change.overBound(['reason'], chars(4_097)),
    change.outOfDomain(['reason'], '   ', /a rejection needs a reason/),
  ]),
  ReviewState: casesOf(ReviewState, [exampleIncidentOutcome.review, waiting], (change) => [
    change.missing(['why']),
    change.wrongType(['reviewer'], ['ana']),
    change.overBound(['note'], chars(4_097)),
    change.overBound(['why'], chars(4_097)),
    change.outOfDomain(['state'], 'pending'),
  ]),
  IncidentOutcome: casesOf(IncidentOutcome, [exampleIncidentOutcome, notReproducible], (change) => [
    change.missing(['schemaVersion'], /expected 1/),
    change.missing(['reason']),
    change.missing(['outcome']),
    change.wrongType(['stages'], stage),
    change.wrongType(['pr', 'number'], '1'),
    change.overBound(['stages'], repeat(129, stage)),
    change.overBound(['reason'], chars(4_097)),
    change.overBound(['pr', 'branch'], chars(257)),
    change.overBound(['risk', 'score'], 101),
    change.outOfDomain(['reason'], '', /Too small/),
    change.outOfDomain(['outcome'], 'succeeded'),
  ]),
  IncidentStatus: casesOf(
    IncidentStatus,
    [exampleIncidentStatus, { schemaVersion: 1, incidentId: 'i1', stage: 'reproduce', occurrences: 3, stages: [stage, running] }],
    (change) => [
      change.missing(['schemaVersion'], /expected 1/),
      change.missing(['outcome', 'reason']),
      change.wrongType(['occurrences'], '1'),
      change.overBound(['stages'], repeat(129, stage)),
      change.overBound(['outcome', 'stages', 0, 'summary'], chars(4_097)),
      change.outOfDomain(['stage'], 'finished', /Invalid/),
    ],
  ),
};
