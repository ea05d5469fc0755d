import { describe, expect, it } from 'vitest';
import { runContractCases } from './contract-cases';
import { FailureEnvelope } from './envelope';
import { envelopeCases } from './envelope.cases';
import { exampleFailureEnvelope } from './examples';
import { parseContract } from './parse';

runContractCases(envelopeCases);

describe('FailureEnvelope', () => {
  it('drops keys the contract does not name, so nothing unlisted crosses a stage', () => {
    const parsed = parseContract(FailureEnvelope, { ...exampleFailureEnvelope, rawBody: 'secret' }, 'FailureEnvelope');
    expect(parsed).not.toHaveProperty('rawBody');
    expect(parsed).toEqual(exampleFailureEnvelope);
  });

  it('names every failing path at once', () => {
    const value = { ...exampleFailureEnvelope, identity: { ...exampleFailureEnvelope.identity, service: '' }, spans: 'none' };
    expect(() => parseContract(FailureEnvelope, value, 'FailureEnvelope')).toThrow(
      /^FailureEnvelope is invalid: identity\.service: Too small.*; spans: Invalid input: expected array, received string$/,
    );
  });
});
