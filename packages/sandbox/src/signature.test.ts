import { describe, expect, it } from 'vitest';
import { describeSignature, failureSignature, signaturesMatch } from './signature';

const frames = [
  { function: 'normalizePreferences', file: 'src/users.ts', inApp: true },
  { function: 'Layer.handle', file: '/work/node_modules/router/lib/layer.js', inApp: false },
  { function: 'buildUser', file: 'src/users.ts', inApp: true },
  { function: 'createUser', file: 'src/app.ts', inApp: true },
  { function: 'main', file: 'src/server.ts', inApp: true },
];

describe('failureSignature', () => {
  it('keeps the type, the normalized message and the top three in-app frames', () => {
    const signature = failureSignature({ errorType: 'TypeError', message: 'User 42 has no "sms" channel', frames });
    expect(signature.errorType).toBe('TypeError');
    expect(signature.normalizedMessage).toBe('User <n> has no "<v>" channel');
    expect(signature.frames).toEqual([
      { function: 'normalizePreferences', file: 'src/users.ts' },
      { function: 'buildUser', file: 'src/users.ts' },
      { function: 'createUser', file: 'src/app.ts' },
    ]);
    expect(signature.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('matches occurrences that differ only in values and line numbers, not in type or frames', () => {
    const a = failureSignature({ errorType: 'TypeError', message: 'User 42 has no "sms" channel', frames });
    const b = failureSignature({ errorType: 'TypeError', message: 'User 7 has no "push" channel', frames });
    const otherType = failureSignature({ errorType: 'RangeError', message: 'User 42 has no "sms" channel', frames });
    const otherFrame = failureSignature({ errorType: 'TypeError', message: 'User 42 has no "sms" channel', frames: frames.slice(2) });
    expect(signaturesMatch(a, b)).toBe(true);
    expect(signaturesMatch(a, otherType)).toBe(false);
    expect(signaturesMatch(a, otherFrame)).toBe(false);
  });

  it('describes a signature by its top frame', () => {
    expect(describeSignature(failureSignature({ errorType: 'TypeError', message: 'x is null', frames }))).toBe(
      'TypeError "x is null" at normalizePreferences (src/users.ts)',
    );
    expect(describeSignature(failureSignature({ errorType: 'Error', message: 'boom', frames: [] }))).toBe('Error "boom" outside the repository code');
  });
});
