import { isIPv4, isIPv6 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createKeyring, createTokenizer, DATE_SHIFT_MAX_WEEKS, DATE_SHIFT_MIN_WEEKS, luhnValid, phoneDigits } from './tokenize';

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
    ['date', '1987-04-23', /^\d{4}-\d{2}-\d{2}$/],
    ['date', '2026-11-20T11:03:44.981Z', /^\d{4}-\d{2}-\d{2}T11:03:44\.981Z$/],
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
    expect(tokenizer.token('2026-02-30', 'date')).toMatch(/^tok_/);
    expect(tokenizer.token('20.11.2026', 'date')).toMatch(/^tok_/);
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

// Strict enough to reject what the gate must never emit: a host without a dot, spaces, a second @.
const VALID_EMAIL = /^[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}$/;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
// Fictional NANP numbers: +1, an area code 2xx-9xx, exchange 555, line 0100-0199.
const FICTIONAL_PHONE = /^\+1[2-9]\d{2}55501\d{2}$/;
const DOC_V4 = [/^192\.0\.2\.\d+$/, /^198\.51\.100\.\d+$/, /^203\.0\.113\.\d+$/];

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((parts) => parts.join('.'));
const ipv6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((groups) => groups.map((group) => group.toString(16)).join(':'));
const cardDigits = fc.integer({ min: 12, max: 19 }).chain((length) => fc.stringMatching(new RegExp(`^[0-9]{${length}}$`)));
const isoDate = fc
  .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2199-12-31T23:59:59Z'), noInvalidDate: true })
  .chain((date) =>
    fc.constantFrom(
      date.toISOString(),
      date.toISOString().slice(0, 10),
      date.toISOString().slice(0, 19),
      `${date.toISOString().slice(0, 19)}+02:00`,
      `${date.toISOString().slice(0, 10)} ${date.toISOString().slice(11, 16)}`,
    ),
  );

/** The calendar date of an ISO text as UTC midnight milliseconds. */
function dayOf(text: string): number {
  return Date.UTC(Number(text.slice(0, 4)), Number(text.slice(5, 7)) - 1, Number(text.slice(8, 10)));
}

describe('token formats (property)', () => {
  it('email tokens are valid addresses at example.com', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (email) => {
        const token = tokenizer.token(email, 'email');
        expect(token).toMatch(VALID_EMAIL);
        expect(token.endsWith('@example.com')).toBe(true);
      }),
    );
  });

  it('uuid tokens are v4 UUIDs with the RFC 4122 variant', () => {
    fc.assert(
      fc.property(fc.uuid(), (uuid) => {
        expect(tokenizer.token(uuid, 'uuid')).toMatch(UUID_V4);
      }),
    );
  });

  it('card tokens are Luhn-valid test numbers whatever the input length', () => {
    fc.assert(
      fc.property(cardDigits, (digits) => {
        const token = tokenizer.token(digits, 'card');
        expect(token).toMatch(/^424242\d{10}$/);
        expect(luhnValid(token)).toBe(true);
      }),
    );
  });

  it('ip tokens are addresses in the documentation ranges', () => {
    fc.assert(
      fc.property(ipv4, ipv6, (v4, v6) => {
        const token4 = tokenizer.token(v4, 'ip');
        expect(isIPv4(token4)).toBe(true);
        expect(DOC_V4.some((range) => range.test(token4))).toBe(true);
        expect(Number(token4.split('.')[3])).toBeGreaterThanOrEqual(1);
        expect(Number(token4.split('.')[3])).toBeLessThanOrEqual(254);
        const token6 = tokenizer.token(v6, 'ip');
        expect(isIPv6(token6)).toBe(true);
        expect(token6.startsWith('2001:db8:')).toBe(true);
      }),
    );
  });

  it('phone tokens are fictional NANP numbers in E.164', () => {
    const phone = fc.oneof(
      fc.stringMatching(/^\+[1-9]\d{6,14}$/),
      fc.tuple(fc.stringMatching(/^[1-9]\d{0,2}$/), fc.stringMatching(/^\d{3}$/), fc.stringMatching(/^\d{4}$/)).map(([cc, a, b]) => `+${cc} (${a}) ${b}-${a}`),
    );
    fc.assert(
      fc.property(phone, (value) => {
        const token = tokenizer.token(value, 'phone');
        expect(token).toMatch(FICTIONAL_PHONE);
        expect(token.length).toBeLessThanOrEqual(16);
      }),
    );
  });

  it('date tokens keep the format and shift by the same whole weeks within the documented range', () => {
    const shifts = new Set<number>();
    fc.assert(
      fc.property(isoDate, (value) => {
        const token = tokenizer.token(value, 'date');
        // Same shape: only the calendar date changes, the time and zone stay as written.
        expect(token.length).toBe(value.length);
        expect(token.slice(10)).toBe(value.slice(10));
        expect(Number.isNaN(Date.parse(token.replace(' ', 'T')))).toBe(false);
        const days = (dayOf(token) - dayOf(value)) / 86_400_000;
        expect(days % 7).toBe(0);
        expect(Math.abs(days)).toBeGreaterThanOrEqual(DATE_SHIFT_MIN_WEEKS * 7);
        expect(Math.abs(days)).toBeLessThanOrEqual(DATE_SHIFT_MAX_WEEKS * 7);
        expect(new Date(dayOf(token)).getUTCDay()).toBe(new Date(dayOf(value)).getUTCDay());
        shifts.add(days);
      }),
    );
    // One offset per key: order and intervals between an incident's dates survive.
    expect(shifts.size).toBe(1);
  });

  it('date tokens differ between keys and keep years below 100 and leap days', () => {
    const shiftOf = (t: typeof tokenizer): number => (dayOf(t.token('2026-11-20', 'date')) - dayOf('2026-11-20')) / 86_400_000;
    const offsets = new Set(
      Array.from({ length: 12 }, (_, i) => shiftOf(createTokenizer({ id: `k${i}`, secret: `date-shift-test-key-${i}-0123456789abcdef` }))),
    );
    expect(offsets.size).toBeGreaterThan(1);
    expect(tokenizer.token('0050-06-15', 'date')).toMatch(/^00(?:49|50)-\d{2}-\d{2}$/);
    expect(tokenizer.token('2024-02-29', 'date')).toMatch(/^2024-\d{2}-\d{2}$/);
  });
});

describe('createKeyring', () => {
  const previous = { id: 'k-2026-10', secret: 'previous-test-token-key-0123456789abcdef' };
  const current = { id: 'k-2026-11', secret: 'current-test-token-key-0123456789abcdefgh' };
  const ring = createKeyring({ current, previous: [previous] });

  it('tokenizes with the current key only', () => {
    expect(ring.current.keyId).toBe('k-2026-11');
    expect(ring.keyIds).toEqual(['k-2026-11', 'k-2026-10']);
    expect(ring.current.token('ann@corp.io', 'email')).toBe(createTokenizer(current).token('ann@corp.io', 'email'));
  });

  it('tells which key made a token or a hash, including one made before the rotation', () => {
    const before = createTokenizer(previous);
    expect(ring.keyIdOf('ann@corp.io', 'email', before.token('ann@corp.io', 'email'))).toBe('k-2026-10');
    expect(ring.keyIdOf('ann@corp.io', 'email', ring.current.token('ann@corp.io', 'email'))).toBe('k-2026-11');
    expect(ring.keyIdOf('ann@corp.io', 'hash', before.hash('ann@corp.io'))).toBe('k-2026-10');
    expect(ring.keyIdOf('ann@corp.io', 'email', tokenizer.token('ann@corp.io', 'email'))).toBeUndefined();
    expect(ring.tokenizer('k-2026-10')?.token('1987-04-23', 'date')).toBe(before.token('1987-04-23', 'date'));
    expect(ring.tokenizer('k-unknown')).toBeUndefined();
  });

  it('refuses a repeated key id or a secret reused under a new id', () => {
    expect(() => createKeyring({ current, previous: [current] })).toThrow(/appears twice/);
    expect(() => createKeyring({ current, previous: [{ id: 'k-copy', secret: current.secret }] })).toThrow(/share one secret/);
    expect(() => createKeyring({ current: { id: 'k', secret: 'short' } })).toThrow(/shorter than 32 bytes/);
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
