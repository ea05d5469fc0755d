import { describe, expect, it } from 'vitest';
import { bearerMatcher, mediaType } from './http';

describe('bearerMatcher', () => {
  const matches = bearerMatcher('s3cret-token-value');

  it('accepts exactly the configured bearer token', () => {
    expect(matches('Bearer s3cret-token-value')).toBe(true);
    expect(matches('bearer s3cret-token-value')).toBe(true);
  });

  it('refuses a missing, wrong, prefixed or differently-schemed token', () => {
    expect(matches(undefined)).toBe(false);
    expect(matches('')).toBe(false);
    expect(matches('Bearer s3cret-token-valuE')).toBe(false);
    expect(matches('Bearer s3cret-token-value-and-more')).toBe(false);
    expect(matches('Basic s3cret-token-value')).toBe(false);
    expect(matches('s3cret-token-value')).toBe(false);
    expect(bearerMatcher('')('Bearer ')).toBe(false);
  });
});

describe('mediaType', () => {
  it('drops parameters and case', () => {
    expect(mediaType('Application/JSON; charset=utf-8')).toBe('application/json');
    expect(mediaType('application/x-protobuf')).toBe('application/x-protobuf');
    expect(mediaType(undefined)).toBeUndefined();
    expect(mediaType('  ')).toBeUndefined();
  });
});
