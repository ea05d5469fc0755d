import { describe, expect, it } from 'vitest';
import { rejectionOf, runContractCases } from './contract-cases';
import { exampleIncidentOutcome } from './examples';
import { DEFAULT_REPAIR_POLICY, IncidentOutcome, OUTCOMES, Outcome, RepairPolicy, STAGES, StageName, incidentWorkflowId } from './incident';
import { incidentCases } from './incident.cases';
import { parseContract } from './parse';

runContractCases(incidentCases);

const EIGHT_OUTCOMES = [
  'pr-opened',
  'not-reproducible',
  'blocked-by-privacy',
  'no-verified-fix',
  'unsupported-repository',
  'rejected-by-operator',
  'review-expired',
  'failed',
];

describe('IncidentOutcome', () => {
  it('knows exactly the eight outcomes', () => {
    expect([...OUTCOMES]).toEqual(EIGHT_OUTCOMES);
    expect(Outcome.options).toEqual(EIGHT_OUTCOMES);
  });

  it.each(EIGHT_OUTCOMES)('accepts %s with its reason', (outcome) => {
    const value = { ...exampleIncidentOutcome, outcome, reason: `ended as ${outcome}` };
    expect(parseContract(IncidentOutcome, value, 'IncidentOutcome').outcome).toBe(outcome);
  });

  it.each(['succeeded', 'cancelled', 'timed-out', 'PR-OPENED', ''])('rejects the outcome %j', (outcome) => {
    const error = rejectionOf(IncidentOutcome, { ...exampleIncidentOutcome, outcome }, 'IncidentOutcome');
    expect(error.message).toMatch(/^IncidentOutcome is invalid: outcome: Invalid option/);
  });

  it.each(EIGHT_OUTCOMES)('requires a reason for %s', (outcome) => {
    const { reason: _reason, ...withoutReason } = { ...exampleIncidentOutcome, outcome };
    expect(rejectionOf(IncidentOutcome, withoutReason, 'IncidentOutcome').message).toContain('reason: Invalid input');
    expect(rejectionOf(IncidentOutcome, { ...withoutReason, reason: '' }, 'IncidentOutcome').message).toContain('reason: Too small');
  });
});

describe('stages and policy', () => {
  it('lists the ten stages in pipeline order', () => {
    expect(StageName.options).toEqual([...STAGES]);
    expect(STAGES[0]).toBe('ingest');
    expect(STAGES[STAGES.length - 1]).toBe('pr');
    expect(new Set(STAGES).size).toBe(10);
  });

  it('ships a default policy that is itself valid', () => {
    expect(parseContract(RepairPolicy, DEFAULT_REPAIR_POLICY, 'RepairPolicy')).toEqual(DEFAULT_REPAIR_POLICY);
  });

  it('derives the workflow id from the incident id', () => {
    expect(incidentWorkflowId('9a1c0e4f2b7d3c5a')).toBe('incident-9a1c0e4f2b7d3c5a');
    expect(exampleIncidentOutcome.workflowId).toBe(incidentWorkflowId(exampleIncidentOutcome.incidentId));
  });
});
