import { describe, expect, expectTypeOf, it } from 'vitest';
import { ERROR_CODES, ERROR_CODE_NAMES, NON_RETRYABLE_ERROR_CODES, TracemendError, isErrorCode, type ErrorCode } from './errors';

const RETRYABLE: ErrorCode[] = ['SANDBOX_UNAVAILABLE', 'LLM_UNAVAILABLE', 'GITHUB_UNAVAILABLE', 'INTERNAL'];

describe('ERROR_CODES', () => {
  it('is an `as const` table: literal, read-only entries', () => {
    expectTypeOf(ERROR_CODES.INVALID_INPUT.retryable).toEqualTypeOf<false>();
    expectTypeOf(ERROR_CODES.SANDBOX_UNAVAILABLE.retryable).toEqualTypeOf<true>();
    expectTypeOf<ErrorCode>().not.toEqualTypeOf<string>();
    expectTypeOf<'NOT_REPRODUCIBLE'>().toExtend<ErrorCode>();
    expectTypeOf<'NOT_A_CODE'>().not.toExtend<ErrorCode>();
    // Never called: `tsc` checks that the assignment does not compile.
    const write = () => {
      // @ts-expect-error an `as const` table is read-only
      ERROR_CODES.INTERNAL.retryable = false;
    };
    void write;
    expect(Object.keys(ERROR_CODES.INVALID_INPUT)).toEqual(['retryable', 'description']);
  });

  it('names codes in SCREAMING_SNAKE_CASE with a one-sentence description', () => {
    expect(ERROR_CODE_NAMES).toEqual(Object.keys(ERROR_CODES));
    for (const code of ERROR_CODE_NAMES) {
      expect(code).toMatch(/^[A-Z]+(_[A-Z]+)*$/);
      expect(ERROR_CODES[code].description).toMatch(/^[A-Z].*\.$/);
    }
  });

  it('marks only the transient failures retryable', () => {
    expect(ERROR_CODE_NAMES.filter((code) => ERROR_CODES[code].retryable).sort()).toEqual([...RETRYABLE].sort());
  });
});

describe('NON_RETRYABLE_ERROR_CODES', () => {
  it('is a proper subset of the table: exactly the codes no retry can change', () => {
    const names = new Set<string>(ERROR_CODE_NAMES);
    expect(NON_RETRYABLE_ERROR_CODES.every((code) => names.has(code))).toBe(true);
    expect(new Set(NON_RETRYABLE_ERROR_CODES).size).toBe(NON_RETRYABLE_ERROR_CODES.length);
    expect(NON_RETRYABLE_ERROR_CODES.length).toBe(ERROR_CODE_NAMES.length - RETRYABLE.length);
    for (const code of RETRYABLE) expect(NON_RETRYABLE_ERROR_CODES).not.toContain(code);
    for (const code of ['INVALID_INPUT', 'NOT_REPRODUCIBLE', 'PRIVACY_BLOCKED', 'EGRESS_BLOCKED', 'STAGE_NOT_BUILT'] as const) {
      expect(NON_RETRYABLE_ERROR_CODES).toContain(code);
    }
  });
});

describe('isErrorCode', () => {
  it('accepts table codes only, not inherited keys or other casing', () => {
    expect(isErrorCode('INVALID_INPUT')).toBe(true);
    expect(isErrorCode('INTERNAL')).toBe(true);
    for (const value of ['invalid_input', 'toString', 'constructor', '__proto__', '', 1, null, undefined, {}]) {
      expect(isErrorCode(value), JSON.stringify(value)).toBe(false);
    }
  });
});

describe('TracemendError', () => {
  it('keeps its code, message, cause and details', () => {
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:2375');
    const error = new TracemendError('SANDBOX_UNAVAILABLE', 'the container engine did not answer', {
      cause,
      details: { attempt: 2 },
    });
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(TracemendError);
    expect(error.name).toBe('TracemendError');
    expect(error.code).toBe('SANDBOX_UNAVAILABLE');
    expect(error.message).toBe('the container engine did not answer');
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ attempt: 2 });
    expect(error.retryable).toBe(true);
    expect(error.stack).toContain('TracemendError');
  });

  it('derives retryable from the table for every code', () => {
    for (const code of ERROR_CODE_NAMES) {
      expect(new TracemendError(code, code).retryable, code).toBe(ERROR_CODES[code].retryable);
    }
  });

  it('leaves cause and details undefined when not given', () => {
    const error = new TracemendError('NO_SUSPECTS', 'no line ranked');
    expect(error.cause).toBeUndefined();
    expect(error.details).toBeUndefined();
    expect(error.retryable).toBe(false);
  });

  it('keeps a non-Error cause as given', () => {
    expect(new TracemendError('INTERNAL', 'boom', { cause: { status: 502 } }).cause).toEqual({ status: 502 });
  });
});
