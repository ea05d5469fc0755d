import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTokenizer, luhnValid, phoneDigits } from './tokenize';

const key = { id: 'k-test', secret: 'test-only-token-key-0123456789abcdef' };
const tokenizer = createTokenizer(key);
const other = createTokenizer({ id: 'k-other', secret: 'another-test-token-key-fedcba9876543210' });

describe('createTokenizer', () => {
  it('refuses an empty key id or a short secret', () => {
    expect(() => createTokenizer({ id: '', secret: key.secret })).toThrow(/empty/);
    expect(() => createTokenizer({ id: 'k', secret: 'too-short' })).toThrow(/shorter than 32 bytes/);
    expect(createTokenizer({ id: 'k', secret: new Uint8Array(32).fill(7) }).keyId).toBe('k');
  });

  it.each([
    ['email', 'Jonas.Berger@Posteo.de', /^u[0-9a-f]{8}@example\.com$/],
    ['phone', '+49 30 1234567', /^\+1[2-9]\d{2}55501\d{2}$/],
    ['name', 'Jonas Berger', /^Name [0-9a-f]{6}$/],
    ['uuid', 'B7E3F1A2-9C4D-4E5F-8A6B-1C2D3E4F5A6B', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/],
    ['ip', '81.224.17.5', /^(?:192\.0\.2|198\.51\.100|203\.0\.113)\.(?:\d{1,3})$/],
    ['ip', '2a02:8108:1:2::7', /^2001:db8:(?:[0-9a-f]{1,4}:){5}[0-9a-f]{1,4}$/],
    ['card', '4111-1111-1111-1111', /^4242-42\d{2}-\d{4}-\d{4}$/],
    ['text', 'ord_20261120_88412', /^tok_[0-9a-f]{12}$/],
    ['number', '88412', /^\d{5}$/],
  ] as const)('%s tokens keep their format (%s)', (type, value, shape) => {
    const token = tokenizer.token(value, type);
    expect(token).toMatch(shape);
    expect(token).not.toBe(value);
    expect(tokenizer.token(value, type)).toBe(token);
    expect(other.token(value, type)).not.toBe(token);
  });

  it('emits Luhn-valid card tokens with the test prefix, keeping the grouping', () => {
    const token = tokenizer.token('4111 1111 1111 1111', 'card');
    expect(token).toMatch(/^4242 42\d{2} \d{4} \d{4}$/);
    expect(luhnValid(token.replace(/ /g, ''))).toBe(true);
    expect(luhnValid(tokenizer.token('378282246310005', 'card'))).toBe(true);
  });

  it('normalizes before tokenizing: email case, phone formatting', () => {
    expect(tokenizer.token('ANN@CORP.IO', 'email')).toBe(tokenizer.token('ann@corp.io', 'email'));
    expect(tokenizer.token('+46 70-123 45 67', 'phone')).toBe(tokenizer.token('+46701234567', 'phone'));
  });

  it('falls back to a text token when a value does not parse as its type', () => {
    expect(tokenizer.token('not an email', 'email')).toMatch(/^tok_[0-9a-f]{12}$/);
    expect(tokenizer.token('12', 'phone')).toMatch(/^tok_/);
    expect(tokenizer.token('999.1.1.1', 'ip')).toMatch(/^tok_/);
  });

  it('keeps sign and digit count of number tokens and hashes as sha256:<hex16>', () => {
    expect(String(Math.abs(tokenizer.numberToken(-4821)))).toHaveLength(4);
    expect(tokenizer.numberToken(-4821)).toBeLessThan(0);
    expect(tokenizer.numberToken(7)).toBeGreaterThanOrEqual(0);
    expect(tokenizer.hash('ann@corp.io')).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(tokenizer.hash('ann@corp.io')).not.toBe(other.hash('ann@corp.io'));
    expect(tokenizer.hash(42)).not.toBe(tokenizer.hash('42'));
  });

  it('property: email and phone tokens are always valid and deterministic', () => {
    fc.assert(
      fc.property(fc.emailAddress(), fc.stringMatching(/^\+[1-9]\d{7,14}$/), (email, phone) => {
        const emailToken = tokenizer.token(email, 'email');
        expect(emailToken).toMatch(/^u[0-9a-f]{8}@example\.com$/);
        expect(tokenizer.token(email, 'email')).toBe(emailToken);
        expect(tokenizer.token(phone, 'phone')).toMatch(/^\+[1-9]\d{10}$/);
      }),
    );
  });
});

describe('helpers', () => {
  it('luhnValid', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('')).toBe(false);
  });

  it('phoneDigits', () => {
    expect(phoneDigits('+1 (415) 555-2671')).toBe('14155552671');
    expect(phoneDigits('call me')).toBeUndefined();
  });
});
