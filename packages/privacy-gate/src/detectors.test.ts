import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codePointEntropy, detect, detectUngated, isHighEntropy, isSecretKeyName, profileText, redactText, shannonEntropy } from './detectors';
import { base64Runs } from './decode';
import { createTokenizer } from './tokenize';

const tokenizer = createTokenizer({ id: 'k-test', secret: 'test-only-token-key-0123456789abcdef' });
const names = (text: string) => detect(text).map((match) => match.detector);
const spans = (text: string) => detect(text).map((match) => text.slice(match.start, match.end));

describe('detect: positives', () => {
  it.each([
    ['email', 'contact jonas.berger+shop@posteo.de today', 'jonas.berger+shop@posteo.de'],
    ['email', 'to:<A.B_c@mail.co.uk>', 'A.B_c@mail.co.uk'],
    ['phone', 'call +46701234567 now', '+46701234567'],
    ['phone', 'call +44 20 7946 0958.', '+44 20 7946 0958'],
    ['phone', 'call +1 (415) 555-2671 or later', '+1 (415) 555-2671'],
    ['phone', 'US (415) 555-2671', '(415) 555-2671'],
    ['phone', 'tel +49-30-1234567', '+49-30-1234567'],
    ['stripe-key', 'key sk_live_51NfT8qL2bX9vK3mQ7pR4sW6yZ0aC5dE8', 'sk_live_51NfT8qL2bX9vK3mQ7pR4sW6yZ0aC5dE8'],
    ['stripe-key', 'key=sk_test_4eC39HqLyjWDarjtT1zdp7dc', 'sk_test_4eC39HqLyjWDarjtT1zdp7dc'],
    ['github-token', 'ghp_16C7e42F292c6912E7710c838347Ae178B4a here', 'ghp_16C7e42F292c6912E7710c838347Ae178B4a'],
    ['github-token', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz'],
    ['aws-access-key', 'AKIAIOSFODNN7EXAMPLE used', 'AKIAIOSFODNN7EXAMPLE'],
    ['slack-token', 'xoxb-1234567890-abcdefghij', 'xoxb-1234567890-abcdefghij'],
    ['slack-token', 'xoxp-2222-3333-abcdefABCDEF', 'xoxp-2222-3333-abcdefABCDEF'],
    [
      'jwt',
      'auth eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U end',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    ],
    ['bearer', 'Authorization: Bearer abc.def-ghi', 'abc.def-ghi'],
    ['basic-auth', 'Authorization: Basic dXNlcjpwYXNzd29yZA==', 'dXNlcjpwYXNzd29yZA=='],
    ['url-credentials', 'postgres://app:s3cr3t@db.internal:5432/app', 'app:s3cr3t'],
    ['url-credentials', 'fetch https://user:pass@api.example.net/x', 'user:pass'],
    ['credential-assignment', 'login failed password=hunter2 for user', 'hunter2'],
    ['card', 'card 4111 1111 1111 1111 declined', '4111 1111 1111 1111'],
    ['card', 'card 5555555555554444', '5555555555554444'],
    ['ipv4', 'from 81.224.17.5 at', '81.224.17.5'],
    ['ipv6', 'client 2a02:8108:1dc0:7e00:5d2a:9c3f:1b7e:44a1 connected', '2a02:8108:1dc0:7e00:5d2a:9c3f:1b7e:44a1'],
    ['ipv6', 'from [2a00:1450:4001:82b::200e]:443', '2a00:1450:4001:82b::200e'],
    ['ipv6', 'peer ::ffff:5b2a:c3f1 closed', '::ffff:5b2a:c3f1'],
    ['ipv4', 'peer ::ffff:81.224.17.5 closed', '81.224.17.5'],
    ['iban', 'pay to DE89 3704 0044 0532 0130 00 today', 'DE89 3704 0044 0532 0130 00'],
    ['iban', '"iban":"GB82WEST12345698765432"', 'GB82WEST12345698765432'],
    ['ssn', 'ssn 536-22-8173 on file', '536-22-8173'],
    ['gcp-api-key', 'key=AIzaSyD4x9Qp2Lm7Rt4Vb8Nc1Kd6Hs3Jf5Wg0Ya', 'AIzaSyD4x9Qp2Lm7Rt4Vb8Nc1Kd6Hs3Jf5Wg0Ya'],
    ['gcp-service-account', '{"type":"service_account","private_key_id":"3f1a9c2e7b4d8f0a6c5e1b9d2f7a4c8e0b3d6f19"}', '3f1a9c2e7b4d8f0a6c5e1b9d2f7a4c8e0b3d6f19'],
    [
      'slack-webhook',
      'post https://hooks.slack.com/services/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 ok',
      'https://hooks.slack.com/services/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',
    ],
    ['stripe-key', 'whsec_Zx9Qp2Lm7Rt4Vb8Nc1Kd6Hs3Jf5 sig', 'whsec_Zx9Qp2Lm7Rt4Vb8Nc1Kd6Hs3Jf5'],
    [
      'aws-secret-key',
      'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    ],
    [
      'aws-secret-key',
      '{"SecretAccessKey":"Zx9Qp2Lm7Rt4Vb8Nc1Kd6Hs3Jf5Wg0Ya1b2c3d4e"}',
      'Zx9Qp2Lm7Rt4Vb8Nc1Kd6Hs3Jf5Wg0Ya1b2c3d4e',
    ],
    [
      'sendgrid-key',
      '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 ok',
      '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',
    ],
    ['twilio-key', 'twilio SK2a9c4e6f8b0d1a3c5e7f9b2d4a6c8e0f used', 'SK2a9c4e6f8b0d1a3c5e7f9b2d4a6c8e0f'],
    ['npm-token', '//registry.npmjs.org/:_authToken=npm_Zx9Qp2Lm7Rt4Vb8Nc1Kd6Hs3Jf5Wg0Ya1b2c', 'npm_Zx9Qp2Lm7Rt4Vb8Nc1Kd6Hs3Jf5Wg0Ya1b2c'],
    ['high-entropy', 'token Zx9Qp2Lm7Rt4Vb8Nc1Kd6Hs3Jf5Wg0Ya', 'Zx9Qp2Lm7Rt4Vb8Nc1Kd6Hs3Jf5Wg0Ya'],
    ['ssn', 'customer SSN: 536228173 verified', '536228173'],
    ['ssn', '{"ssn":"536 22 8173"}', '536 22 8173'],
    ['ssn', 'taxpayer id 536228173 on the W-9', '536228173'],
    ['ssn', 'Social Security Number is 536-22-8173', '536-22-8173'],
    ['card', 'card 2223 0031 2200 3222 declined', '2223 0031 2200 3222'],
    ['card', 'mastercard 2720123456789010', '2720123456789010'],
    ['card', 'mir 2200123456789019', '2200123456789019'],
    ['card', 'rupay 8172000012345679', '8172000012345679'],
    ['card', 'troy 9792123456789018', '9792123456789018'],
    ['card', 'uatp 123456789012347', '123456789012347'],
    ['session-id', 'Cookie: JSESSIONID=1A2B3C4D5E6F70819A2B3C4D5E6F7081; Path=/', '1A2B3C4D5E6F70819A2B3C4D5E6F7081'],
    ['session-id', 'set PHPSESSID=9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c', '9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c'],
    ['session-id', '{"session_id":"0f3c2a91b7d84e6f"}', '"0f3c2a91b7d84e6f"'],
    ['session-id', 'GET /cart?sid=a81f29c04be7d613 200', 'a81f29c04be7d613'],
    ['mailgun-key', 'mail via key-3ax6xnjp29jd6fds4gc373sgvjxteol0 ok', 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0'],
    ['mailgun-key', 'MAILGUN key-0123456789abcdef0123456789abcdef', 'key-0123456789abcdef0123456789abcdef'],
    ['password-in-text', 'the new password is Tr0ub4dor&3 for jonas', 'Tr0ub4dor&3'],
    ['password-in-text', 'pwd for admin was changed to Winter2025?', 'Winter2025?'],
    ['password-in-text', 'your PIN is 4831', '4831'],
  ])('%s in %j', (detector, text, found) => {
    expect(names(text)).toContain(detector);
    expect(spans(text)).toContain(found);
  });

  it('finds a PEM private key block', () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1234\nabcd==\n-----END RSA PRIVATE KEY-----';
    expect(detect(`key:\n${pem}\nrest`)).toEqual([{ detector: 'pem-private-key', kind: 'secret', start: 5, end: 5 + pem.length }]);
  });

  it('finds every password of a list in prose', () => {
    const text = 'temporary passwords: Summer2024!, Winter2025? and Spring#26, rotate them';
    expect(spans(text)).toEqual(['Summer2024!', 'Winter2025?', 'Spring#26']);
    expect(names(text)).toEqual(['password-in-text', 'password-in-text', 'password-in-text']);
  });

  it('prefers the specific detector when findings overlap', () => {
    expect(names('Authorization: Bearer sk_live_51NfT8qL2bX9vK3mQ7pR4sW6yZ0aC5dE8')).toEqual(['stripe-key']);
    expect(names('https://ann:pw@host.example.org')).toEqual(['url-credentials']);
  });
});

describe('detect: hard negatives', () => {
  it.each([
    ['a UUID', 'request 6f1c2d3e-4b5a-4978-8a6b-5c4d3e2f1a0b failed'],
    ['a git SHA', 'deployed 4f9cbcb0ae4ccc89df59b14ea6af829e231f18b3'],
    ['a SHA-256 hash', 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    ['a key=hex pair', '<!-- tracemend fingerprint=0ac7f00aaaba9670432c36c267ea36bf -->'],
    ['version strings', 'node 20.20.2, vitest 4.1.12, semver 1.2.3-beta.4+build.5'],
    ['ISO timestamps', 'at 2026-11-20T11:03:44.981Z and 2026-11-20T12:03:44+01:00'],
    ['an epoch in ms', 'ts=1763636624981'],
    ['a source location', 'at normalizePreferences (/srv/app/src/users.ts:58:14)'],
    ['a URL path', 'http://inventory.internal:8080/v1/inventory/DESK-19'],
    ['identifiers', 'processTicksAndRejections TracemendErrorHandlerFactory'],
    ['a trace id', '4bf92f3577b34da6a3ce929d0e0e4736'],
    ['text and name tokens', 'tok_0123456789ab Name a1b2c3'],
    ['documentation and loopback IPs', '192.0.2.7 198.51.100.9 203.0.113.42 127.0.0.1'],
    ['a short number', 'HTTP 404 after 12 ms, qty 3'],
    ['a user agent', 'AcmeShop-iOS/5.12.0 (iPhone15,2; iOS 18.1)'],
    ['loopback and documentation IPv6', '::1 and 2001:db8::7 and [2001:db8:85a3::8a2e:370:7334] and fe80::1'],
    ['an IPv4-mapped loopback address', 'remoteAddress ::ffff:127.0.0.1 closed'],
    ['clock times and C++ scopes', 'at 12:34:56, std::vector, Foo::bar::baz'],
    ['an IBAN that fails mod 97', 'GB82WEST12345698765433'],
    ['an IBAN-shaped product code', 'SKU AB12CDEF3456GHIJ78'],
    ['SSNs that are never issued or are examples', '000-12-3456 666-12-3456 912-34-5678 536-00-8173 078-05-1120'],
    ['a date range with dashes', '2026-11-20 and 2026-12-01'],
    ['a twilio-shaped word in prose', 'SKIP 32 tests'],
    ['a non-AWS 40-char value', 'commit=4f9cbcb0ae4ccc89df59b14ea6af829e231f18b3'],
    ['a workflow id of a word and a fingerprint', 'workflowId=incident-1e34040183772f4e189b09cef77497d2'],
    ['an id of words and a UUID', 'job_incident-050ed164-9bb2-4c97-a7cd-d620f2ceda7b'],
    ['nine digits without a word naming an SSN', 'order 536228173 shipped; tin-can 536228173x'],
    ['an example SSN after its name', 'ssn 123456789 and SSN: 078051120'],
    ['a Luhn-valid number outside every card range', 'order 7000123412341237 and 2100123456789012'],
    ['messages about passwords', 'password is required; the password was reset; pin is 12'],
    ['short session counters', 'session_id=42 sid=7 sessionId: 1001'],
    ['an account sid beside a session word', 'AccountSid AC1234 in session'],
  ])('%s', (_name, text) => {
    expect(detect(text)).toEqual([]);
  });
});

describe('detect: values shaped like the gate\'s tokens', () => {
  // A token and a real value of the same shape: a Visa number may start with the card-token prefix.
  const token = redactText('card 4000 0566 5566 5556, mail ann@corp.io, tel +46701234567', tokenizer).text;
  const lookAlikes = 'card 4242 4212 3456 7897, mail u0f0f0f0f@example.com, tel +12125550188';

  it('are findings unless the registry confirms them, and a confirmed token holds its span', () => {
    expect(names(lookAlikes)).toEqual(['card', 'email', 'phone']);
    expect(names(token)).toEqual(['card', 'email', 'phone']);
    const issued = redactText('card 4000 0566 5566 5556, mail ann@corp.io, tel +46701234567', tokenizer);
    const registry = new Set(issued.text.match(/4242[\d ]+\d|u[0-9a-f]{8}@example\.com|\+1\d{10}/g)!.map((value) => value.replace(/ /g, '')));
    const confirms = (_type: string, value: string) => registry.has(value.replace(/ /g, ''));
    expect(detect(token, { issuedTokens: confirms })).toEqual([]);
    expect(names(`${token} ${lookAlikes}`)).toHaveLength(6);
    expect(detect(`${token} ${lookAlikes}`, { issuedTokens: confirms }).map((match) => match.detector)).toEqual(['card', 'email', 'phone']);
  });

  it('are tokenized like raw values, while a token issued inside an encoded part is not tokenized again', () => {
    const { text, hits } = redactText(lookAlikes, tokenizer);
    expect(Object.fromEntries(hits)).toEqual({ card: 1, email: 1, phone: 1 });
    expect(text).not.toContain('4242 4212 3456 7897');
    const nested = redactText(`batch=${JSON.stringify(JSON.stringify({ card: '4111 1111 1111 1111' }))}`, tokenizer);
    expect(Object.fromEntries(nested.hits)).toEqual({ card: 1 });
  });
});

describe('redactText', () => {
  it('replaces personal data with tokens and secrets with markers, counting each', () => {
    const { text, hits, found } = redactText('mail ann@corp.io key sk_test_4eC39HqLyjWDarjtT1zdp7dc tel +46701234567', tokenizer);
    expect(text).toMatch(/^mail u[0-9a-f]{8}@example\.com key \[redacted:stripe-key\] tel \+1\d{3}55501\d{2}$/);
    expect(Object.fromEntries(hits)).toEqual({ email: 1, 'stripe-key': 1, phone: 1 });
    expect(found).toEqual(['ann@corp.io', 'sk_test_4eC39HqLyjWDarjtT1zdp7dc', '+46701234567']);
  });

  it('leaves clean text untouched', () => {
    expect(redactText("Cannot read properties of undefined (reading 'push')", tokenizer).text).toBe(
      "Cannot read properties of undefined (reading 'push')",
    );
  });

  it('gives a formatted and a compact phone number the same token', () => {
    expect(redactText('+46 70 123 45 67', tokenizer).text).toBe(redactText('+46701234567', tokenizer).text);
  });
});

describe('entropy and key names', () => {
  it('measures entropy in bits per character', () => {
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBe(2);
  });

  it('flags random-looking runs but not hex, UUID-like or wordy ones', () => {
    expect(isHighEntropy('Zx9Qp2Lm7Rt4Vb8Nc1Kd6Hs3Jf5Wg0Ya')).toBe(true);
    expect(isHighEntropy('4f9cbcb0ae4ccc89df59b14ea6af829e231f18b3')).toBe(false);
    expect(isHighEntropy('6f1c2d3e-4b5a-4978-8a6b-5c4d3e2f1a0b')).toBe(false);
    expect(isHighEntropy('leaderboard-refresh-job')).toBe(false);
    expect(isHighEntropy('incident-0ac7f00aaaba9670432c36c267ea36bf')).toBe(false);
    // A random part beside a word is still a secret.
    expect(isHighEntropy('session-Zx9Qp2Lm7Rt4Vb8Nc1Kd6Hs3Jf5Wg0Ya')).toBe(true);
  });

  it.each([
    ['password', true],
    ['x-api-key', true],
    ['paymentToken', true],
    ['SLACK_WEBHOOK_TOKEN', true],
    ['client_secret', true],
    ['newsletter', false],
    ['tokenizer', false],
    ['displayName', false],
    ['passport', false],
  ])('isSecretKeyName(%j) is %s', (key, expected) => {
    expect(isSecretKeyName(key)).toBe(expected);
  });
});

// Pieces that put every detector, and every gate's edge, into random texts: values, near-misses and separators.
const FRAGMENTS = [
  'ann@corp.io', 'u1a2b3c4d@example.com', '+46 70 123 45 67', '+1 (415) 555-2671', '(415) 555-2671', '+12025550143',
  '4111 1111 1111 1111', '5555555555554444', '4242424242424242', '4111111111111112', 'DE89 3704 0044 0532 0130 00',
  'GB82WEST12345698765432', 'GB82WEST12345698765433', '536-22-8173', '078-05-1120', '81.224.17.5', '192.0.2.7',
  '1.2.3.4', '20.20.2', '2a02:8108:1dc0::44a1', '::ffff:81.2.3.4', '::1', 'fe80::1', '12:34:56', 'T11:03:44.981Z',
  'std::vector', 'AKIAIOSFODNN7EXAMPLE', 'AIzaSyD4x9Qp2Lm7Rt4Vb8Nc1Kd6Hs3Jf5Wg0Ya', 'SK2a9c4e6f8b0d1a3c5e7f9b2d4a6c8e0f',
  'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
  'ghp_16C7e42F292c6912E7710c838347Ae178B4a', 'sk_live_51NfT8qL2bX9vK3mQ7pR4sW6yZ0aC5dE8', 'xoxb-1234567890-abcdefghij',
  'npm_Zx9Qp2Lm7Rt4Vb8Nc1Kd6Hs3Jf5Wg0Ya1b2c', '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',
  'https://hooks.slack.com/services/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', 'postgres://app:s3cr3t@db.internal:5432/app',
  '"private_key_id":"3f1a9c2e7b4d8f0a6c5e1b9d2f7a4c8e0b3d6f19"', 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1234\n-----END RSA PRIVATE KEY-----', 'Bearer abc.def-ghi', 'BEARER x',
  'Basic dXNlcjpwYXNzd29yZA==', 'password=hunter2', 'Secret: "x y"', 'Zx9Qp2Lm7Rt4Vb8Nc1Kd6Hs3Jf5Wg0Ya',
  '4f9cbcb0ae4ccc89df59b14ea6af829e231f18b3', '6f1c2d3e-4b5a-4978-8a6b-5c4d3e2f1a0b', 'sha512-', 'b3JkZXIgY2FydA==',
  'tok_0123456789ab', 'ann%40corp.io', '%2B46701234567', '%zz', '\\u0040', '\\"', 'eyJlIjoiYW5uQGNvcnAuaW8ifQ==', '==', '=', ':', '::', '.', '-', ' ', '_', '+', '@', '/', '"', "'", '\n', 'é', '\u00a0', '0', '7', 'a1', 'Q',
];

const CHARACTERS = [...'abcdefxyzABCDEFKSJ0123456789:.-_=+/@ "\'{}()[]\té'];

/** Random texts mixing fragments, random characters and digit groups with separators. */
const texts = fc
  .array(
    fc.oneof(
      fc.constantFrom(...FRAGMENTS),
      fc.array(fc.constantFrom(...CHARACTERS), { maxLength: 30 }).map((chars) => chars.join('')),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 999 }), fc.constantFrom('', '.', ' ', '-', ':')), { maxLength: 8 }).map((groups) =>
        groups.map(([n, separator]) => `${n}${separator}`).join(''),
      ),
    ),
    { maxLength: 10 },
  )
  .map((parts) => parts.join(''));

describe('detect: fast path', () => {
  it('finds exactly what the plain scan with every gate off finds', () => {
    fc.assert(
      fc.property(texts, (text) => {
        expect(detect(text)).toEqual(detectUngated(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('profiles the long token runs a regex scan finds', () => {
    fc.assert(
      fc.property(texts, (text) => {
        const scanned = [...text.matchAll(/[A-Za-z0-9+_-]{20,}={0,2}/g)].flatMap((match) => [match.index, match.index + match[0].length]);
        expect(profileText(text).runs).toEqual(scanned);
      }),
      { numRuns: 2000 },
    );
  });

  it('profiles the base64 runs the decoding layer scans', () => {
    fc.assert(
      fc.property(texts, (text) => {
        expect(profileText(text).base64Runs).toEqual(base64Runs(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('profiles digits, grouped digit runs, dotted groups and marks', () => {
    const profile = profileText('card 4111 1111-1111 1111 at 81.224.17.5 v1.2 ok');
    expect(profile.digits).toBe(16 + 8 + 2);
    expect(profile.digitRun).toBe(16);
    expect(profile.dottedGroups).toBe(4);
    expect(profileText('a  1 2').digitRun).toBe(2);
    expect(profileText('1  2').digitRun).toBe(1);
    expect(profileText('1..2.3').dottedGroups).toBe(2);
    expect(profileText('plain words only').runs).toEqual([]);
    expect(profileText('x=Zx9Qp2Lm7Rt4Vb8Nc1Kd6Hs3==,').runs).toEqual([2, 28]);
  });

  it('counts entropy the same way over ASCII and beyond', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 20 }), (ascii, unicode) => {
        expect(shannonEntropy(ascii)).toBe(codePointEntropy(ascii));
        expect(shannonEntropy(unicode)).toBe(codePointEntropy(unicode));
      }),
    );
    // The reused count table is left clean after an early switch to code points.
    expect(shannonEntropy('aab€')).toBe(codePointEntropy('aab€'));
    expect(shannonEntropy('abcd')).toBe(2);
  });
});
