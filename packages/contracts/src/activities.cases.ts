import {
  GateInput,
  IngestInput,
  LocalizeInput,
  MinimizeInput,
  PullRequestInput,
  RepairInput,
  ReproduceInput,
  TriageInput,
  VerifyInput,
} from './activities';
import { casesOf, chars, repeat, type CaseTable } from './contract-cases';
import {
  exampleCandidate,
  exampleEnvelopeRef,
  exampleGatedEnvelope,
  exampleLocalization,
  exampleMinimalRepro,
  exampleRawAlertRef,
  exampleRepoTarget,
  exampleReproduction,
  exampleVerification,
} from './examples';

const incidentId = '9a1c0e4f2b7d3c5a';
const rejected = { candidate: exampleCandidate, verification: { ...exampleVerification, verdict: 'rejected' } };
const repairInput = {
  incidentId,
  target: exampleRepoTarget,
  symptom: exampleGatedEnvelope.envelope.symptom,
  minimal: exampleMinimalRepro,
  localization: exampleLocalization,
  round: 2,
  maxCandidates: 5,
  rejected: [rejected],
};

export const activitiesCases: CaseTable = {
  IngestInput: casesOf(IngestInput, [{ incidentId, alert: exampleRawAlertRef }], (change) => [
    change.missing(['incidentId']),
    change.missing(['alert', 'schemaVersion'], /expected 1/),
    change.wrongType(['alert', 'sizeBytes'], '5120'),
    change.overBound(['incidentId'], chars(257)),
    change.overBound(['alert', 'serviceHint'], chars(257)),
  ]),
  GateInput: casesOf(GateInput, [{ incidentId, envelope: exampleEnvelopeRef }], (change) => [
    change.missing(['envelope']),
    change.wrongType(['envelope', 'service'], 1),
    change.overBound(['envelope', 'envelopeId'], chars(129, 'e')),
  ]),
  TriageInput: casesOf(TriageInput, [{ incidentId, gated: exampleGatedEnvelope }], (change) => [
    change.missing(['gated', 'privacy', 'tokenKeyId']),
    change.wrongType(['gated', 'envelope', 'symptom', 'frames', 1, 'line'], '95'),
    change.overBound(['gated', 'envelope', 'symptom', 'frames', 1, 'file'], chars(1_025)),
  ]),
  ReproduceInput: casesOf(ReproduceInput, [{ incidentId, gated: exampleGatedEnvelope, target: exampleRepoTarget }], (change) => [
    change.missing(['target']),
    change.wrongType(['target', 'test', 'runner'], 1),
    change.overBound(['target', 'test', 'command'], repeat(65, 'x')),
  ]),
  MinimizeInput: casesOf(
    MinimizeInput,
    [{ incidentId, gated: exampleGatedEnvelope, target: exampleRepoTarget, reproduction: exampleReproduction }],
    (change) => [
      change.missing(['reproduction', 'expected']),
      change.wrongType(['reproduction', 'rate'], '1'),
      change.overBound(['reproduction', 'reason'], chars(4_097)),
    ],
  ),
  LocalizeInput: casesOf(LocalizeInput, [{ incidentId, target: exampleRepoTarget, minimal: exampleMinimalRepro }], (change) => [
    change.missing(['minimal', 'testFile']),
    change.wrongType(['minimal', 'cacheHits'], '4'),
    change.overBound(['minimal', 'testFile', 'content'], chars(262_145)),
  ]),
  RepairInput: casesOf(RepairInput, [repairInput, { ...repairInput, round: 1, rejected: [] }], (change) => [
    change.missing(['localization']),
    change.missing(['symptom', 'message']),
    change.missing(['rejected', 0, 'verification']),
    change.wrongType(['round'], '2'),
    change.overBound(['rejected'], repeat(101, rejected)),
    change.overBound(['maxCandidates'], 21),
    change.overBound(['localization', 'suspects', 0, 'context', 'lines'], repeat(201, '')),
  ]),
  VerifyInput: casesOf(VerifyInput, [{ incidentId, target: exampleRepoTarget, minimal: exampleMinimalRepro, candidate: exampleCandidate }], (change) => [
    change.missing(['candidate', 'editPlan']),
    change.wrongType(['candidate', 'editPlan', 'edits', 0, 'startLine'], '21'),
    change.overBound(['candidate', 'editPlan', 'edits', 0, 'after'], chars(65_537)),
  ]),
  PullRequestInput: casesOf(
    PullRequestInput,
    [
      {
        incidentId,
        gated: exampleGatedEnvelope,
        target: exampleRepoTarget,
        reproduction: exampleReproduction,
        minimal: exampleMinimalRepro,
        localization: exampleLocalization,
        candidate: exampleCandidate,
        verification: exampleVerification,
      },
    ],
    (change) => [
      change.missing(['verification']),
      change.missing(['gated', 'privacy', 'audit']),
      change.wrongType(['verification', 'checks', 'fuzz', 'variants'], '40'),
      change.overBound(['verification', 'checks', 'fuzz', 'newSignatures'], repeat(257, 'abcdef12')),
      change.overBound(['gated', 'privacy', 'decisions', 0, 'path'], chars(1_025)),
    ],
  ),
};
