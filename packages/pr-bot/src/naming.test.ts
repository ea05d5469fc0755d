import { examplePullRequestRecord } from '@tracemend/contracts/examples';
import { describe, expect, it } from 'vitest';
import { branchName, branchSlug, failingFunction, kebab, MAX_SLUG_LENGTH } from './naming';
import { pullRequestInput } from '../test/pull-request-input';

describe('branch naming', () => {
  it('names the example incident the way the contract example records it', () => {
    expect(branchName(pullRequestInput())).toBe(examplePullRequestRecord.branch);
  });

  it('kebab-cases error type and function, stripping what a ref name cannot hold', () => {
    expect(branchSlug('TypeError', 'UserService.create')).toBe('typeerror-in-userservice-create');
    expect(branchSlug('RangeError', '<anonymous>')).toBe('rangeerror-in-anonymous');
    expect(branchSlug('!!!', '???')).toBe('in');
    expect(kebab('--A..b__C--', 20)).toBe('a-b-c');
  });

  it('caps the slug at 40 characters on a word boundary and is deterministic', () => {
    const slug = branchSlug('ERR_INVALID_ARG_TYPE', 'validatePayloadAgainstSchemaAndNormalizeEverything');
    expect(slug.length).toBeLessThanOrEqual(MAX_SLUG_LENGTH);
    expect(slug).toBe('err-invalid-arg-type-in-validatepayloada');
    expect(branchSlug('TypeError', 'parseOrderLine quantity field')).toBe('typeerror-in-parseorderline-quantity');
    expect(branchSlug('ERR_INVALID_ARG_TYPE', 'validatePayloadAgainstSchemaAndNormalizeEverything')).toBe(slug);
    const unbroken = branchSlug('TypeError', 'x'.repeat(100));
    expect(unbroken).toBe(`typeerror-in-${'x'.repeat(MAX_SLUG_LENGTH - 13)}`);
  });

  it('takes the function from the signature, then the envelope, then the top suspect', () => {
    const input = pullRequestInput();
    expect(failingFunction(input)).toBe('createUser');
    input.minimal.signature.frames = [];
    input.reproduction.expected.frames = [];
    input.gated.envelope.symptom.frames = [];
    expect(failingFunction(input)).toBe('createUser');
    input.localization.suspects = [];
    expect(failingFunction(input)).toBe('unknown');
  });

  it('keeps the service and the first 8 hex digits of the fingerprint', () => {
    const input = pullRequestInput();
    input.target.service = 'Billing API';
    expect(branchName(input)).toBe('tracemend/billing-api/9a1c0e4f-typeerror-in-createuser');
  });
});
