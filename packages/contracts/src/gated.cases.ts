import { casesOf, chars, repeat, type CaseTable } from './contract-cases';
import { exampleEnvelopeRef, exampleGatedEnvelope, exampleRawAlertRef } from './examples';
import { AuditReference, EnvelopeRef, GatedEnvelope, PrivacyAction, PrivacyDecision, RawAlertRef, Sensitivity } from './gated';

const privacy = exampleGatedEnvelope.privacy;
const [decision] = privacy.decisions as [PrivacyDecision];
const detectorDecision: PrivacyDecision = { path: 'entry.body.note', action: 'redact', sensitivity: 'secret', basis: 'detector', detector: 'jwt' };

export const gatedCases: CaseTable = {
  RawAlertRef: casesOf(RawAlertRef, [exampleRawAlertRef, { ...exampleRawAlertRef, serviceHint: undefined, format: 'sentry-event' }], (change) => [
    change.missing(['schemaVersion'], /expected 1/),
    change.missing(['alertId']),
    change.wrongType(['sizeBytes'], '5120'),
    change.overBound(['serviceHint'], chars(257)),
    change.overBound(['alertId'], chars(129, 'c')),
    change.outOfDomain(['format'], 'otlp-metrics-json'),
  ]),
  EnvelopeRef: casesOf(EnvelopeRef, [exampleEnvelopeRef], (change) => [
    change.missing(['schemaVersion'], /expected 1/),
    change.missing(['errorType']),
    change.wrongType(['fingerprint'], 0x9a1c0e4f),
    change.overBound(['errorType'], chars(257)),
    change.outOfDomain(['envelopeId'], 'E1E1E1E1', /lowercase hex/),
  ]),
  PrivacyAction: casesOf(PrivacyAction, ['allow', 'drop', 'hash', 'tokenize', 'redact'], (change) => [
    change.missing([]),
    change.wrongType([], true),
    change.outOfDomain([], 'encrypt'),
  ]),
  Sensitivity: casesOf(Sensitivity, ['public', 'internal', 'secret'], (change) => [
    change.missing([]),
    change.wrongType([], 0),
    change.outOfDomain([], 'confidential'),
  ]),
  PrivacyDecision: casesOf(PrivacyDecision, [decision, detectorDecision], (change) => [
    change.missing(['basis']),
    change.wrongType(['path'], ['entry', 'body', 'email']),
    change.overBound(['path'], chars(1_025)),
    change.overBound(['detector'], chars(65)),
    change.outOfDomain(['action'], 'encrypt'),
  ]),
  AuditReference: casesOf(AuditReference, [privacy.audit], (change) => [
    change.missing(['recordHash']),
    change.wrongType(['sequence'], '41'),
    change.overBound(['auditId'], chars(257)),
    change.outOfDomain(['sequence'], -1, /Too small/),
  ]),
  GatedEnvelope: casesOf(GatedEnvelope, [exampleGatedEnvelope], (change) => [
    change.missing(['schemaVersion'], /expected 1/),
    change.missing(['privacy', 'audit', 'recordHash']),
    change.missing(['envelope', 'symptom', 'frames', 1, 'file']),
    change.wrongType(['privacy', 'contract', 'version'], '3'),
    change.wrongType(['privacy', 'decisions', 2, 'action'], 7),
    change.overBound(['privacy', 'decisions'], repeat(4_097, decision)),
    change.overBound(['privacy', 'droppedUnknown'], repeat(4_097, 'entry.headers.x')),
    change.overBound(['privacy', 'detectorHits'], repeat(257, privacy.detectorHits[0])),
    change.overBound(['privacy', 'droppedUnknown', 0], chars(1_025)),
    change.overBound(['envelope', 'symptom', 'frames', 1, 'file'], chars(1_025)),
    change.outOfDomain(['privacy', 'detectorHits', 0, 'count'], 0, /Too small/),
  ]),
};
