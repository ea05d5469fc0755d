import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FailureEnvelope } from './envelope';
import { TracemendError } from './errors';
import { exampleFailureEnvelope } from './examples';
import { formatIssues, parseContract } from './parse';

const frames = [...exampleFailureEnvelope.symptom.frames, ...exampleFailureEnvelope.symptom.frames];
const withLongFile = {
  ...exampleFailureEnvelope,
  symptom: { ...exampleFailureEnvelope.symptom, frames: frames.map((frame, i) => (i === 3 ? { ...frame, file: 'f'.repeat(1_025) } : frame)) },
};

describe('formatIssues', () => {
  it('renders object keys with dots and array indexes in brackets', () => {
    const result = FailureEnvelope.safeParse(withLongFile);
    expect(formatIssues(result.error?.issues ?? [])).toBe('symptom.frames[3].file: Too big: expected string to have <=1024 characters');
  });

  it('names the root and joins several issues with semicolons', () => {
    expect(formatIssues(z.string().safeParse(1).error?.issues ?? [])).toBe('(root): Invalid input: expected string, received number');
    const issues = z.object({ a: z.string(), b: z.array(z.number()) }).safeParse({ a: 1, b: [1, 'x'] }).error?.issues ?? [];
    expect(formatIssues(issues)).toBe('a: Invalid input: expected string, received number; b[1]: Invalid input: expected number, received string');
  });

  it('keeps record keys that look like numbers as keys', () => {
    const issues = z.object({ env: z.record(z.string(), z.string()) }).safeParse({ env: { '3': 3 } }).error?.issues ?? [];
    expect(formatIssues(issues)).toBe('env.3: Invalid input: expected string, received number');
  });

  it('renders nothing for no issues', () => {
    expect(formatIssues([])).toBe('');
  });
});

describe('parseContract', () => {
  it('returns the parsed value, without keys the contract does not name', () => {
    const parsed = parseContract(FailureEnvelope, { ...exampleFailureEnvelope, extra: true }, 'FailureEnvelope');
    expect(parsed).toEqual(exampleFailureEnvelope);
  });

  it('throws INVALID_INPUT naming the contract and the failing path, keeping the zod error as cause', () => {
    let thrown: unknown;
    try {
      parseContract(FailureEnvelope, withLongFile, 'FailureEnvelope');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TracemendError);
    const error = thrown as TracemendError;
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.retryable).toBe(false);
    expect(error.message).toBe('FailureEnvelope is invalid: symptom.frames[3].file: Too big: expected string to have <=1024 characters');
    expect(error.cause).toBeInstanceOf(z.ZodError);
    expect((error.cause as z.ZodError).issues[0]?.path).toEqual(['symptom', 'frames', 3, 'file']);
  });

  it('uses the name it is given, so callers can say which boundary failed', () => {
    expect(() => parseContract(z.number(), 'x', 'reproduce output')).toThrow(/^reproduce output is invalid: \(root\): /);
  });
});
