import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveSealingKey, seal, unseal } from './sealing';

describe('seal / unseal', () => {
  const key = deriveSealingKey(randomBytes(32), 'test-store', 'purpose v1');

  it('opens what it sealed only under the same key and associated data, and never on an altered byte', () => {
    const sealed = seal(key, 'mara.lindqvist@corp-mail.se', 'alerts/abc.body');
    expect(sealed.ciphertext.toString('latin1')).not.toContain('mara');
    expect(unseal(key, sealed, 'alerts/abc.body')?.toString('utf8')).toBe('mara.lindqvist@corp-mail.se');
    expect(unseal(key, sealed, 'envelopes/abc.json')).toBeUndefined();
    expect(unseal(deriveSealingKey(randomBytes(32), 'test-store', 'purpose v1'), sealed, 'alerts/abc.body')).toBeUndefined();
    const altered = { ...sealed, ciphertext: Buffer.from(sealed.ciphertext) };
    altered.ciphertext[0] = altered.ciphertext[0]! ^ 1;
    expect(unseal(key, altered, 'alerts/abc.body')).toBeUndefined();
    expect(unseal(key, { ...sealed, nonce: sealed.nonce.subarray(1) }, 'alerts/abc.body')).toBeUndefined();
  });

  it('derives different keys for different purposes from one secret', () => {
    const secret = randomBytes(32);
    expect(deriveSealingKey(secret, 'store', 'a').equals(deriveSealingKey(secret, 'store', 'b'))).toBe(false);
    expect(deriveSealingKey(secret, 'store', 'a').equals(deriveSealingKey(secret, 'store', 'a'))).toBe(true);
  });
});
