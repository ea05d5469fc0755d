import { describe, expect, it } from 'vitest';
import { decodeBase64Text, findEncodedSpans, MAX_DECODE_DEPTH } from './decode';
import { detect, EMAIL_TOKEN, redactText } from './detectors';
import { scanForLeaks } from './egress';
import { createTokenizer, luhnValid } from './tokenize';

const tokenizer = createTokenizer({ id: 'k-test', secret: 'test-only-token-key-0123456789abcdef' });
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: string) => Buffer.from(text, 'base64').toString('utf8');

const INVOICE = { vendor: 'Acme GmbH', invoiceNo: 'INV-2026-0042', contactEmail: 'billing@acme.example', amount: 1290.5 };
// A 1×1 PNG as an HTML data URI or a JSON field carries it.
const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

describe('decodeBase64Text', () => {
  it('decodes canonical base64 and base64url of printable UTF-8, and knows the form it had', () => {
    expect(decodeBase64Text(b64('Wartung Kühlanlage Q4'))).toEqual({ text: 'Wartung Kühlanlage Q4', form: { url: false, padded: true } });
    const url = Buffer.from('{"q":"a?b>c~~~"}').toString('base64url');
    expect(url).toMatch(/[-_]/);
    expect(decodeBase64Text(url)).toEqual({ text: '{"q":"a?b>c~~~"}', form: { url: true, padded: false } });
  });

  it('refuses binary, hex ids, mixed alphabets, bad padding and short runs', () => {
    expect(decodeBase64Text(PNG)).toBeUndefined();
    expect(decodeBase64Text(Buffer.from([0, 1, 2, 200, 201, 255, 7, 8, 9, 10, 11, 12]).toString('base64'))).toBeUndefined();
    expect(decodeBase64Text('4f9cbcb0ae4ccc89df59b14ea6af829e231f18b3')).toBeUndefined();
    expect(decodeBase64Text('eyJhIjoiYi+_In0=')).toBeUndefined();
    expect(decodeBase64Text(`${b64('plain words here ok')}=`)).toBeUndefined();
    expect(decodeBase64Text('aGVsbG8=')).toBeUndefined();
  });
});

describe('findEncodedSpans', () => {
  it('finds JSON strings with escapes, percent-encoded components and base64 of text, outermost first', () => {
    const text = `q=a%40b.io "x\\u0041" ${b64('{"k":"hello world"}')} plain`;
    expect(findEncodedSpans(text).map((span) => [span.encoding, span.decoded])).toEqual([
      ['percent', 'a@b.io'],
      ['json-string', 'xA'],
      ['base64', '{"k":"hello world"}'],
    ]);
  });

  it('encodes a changed text back the way it was encoded', () => {
    const [percent] = findEncodedSpans('?to=jane%40x.io+now');
    expect(percent?.encode('u1@example.com later')).toBe('u1%40example.com+later');
    const [json] = findEncodedSpans('"a\\/b \\u00e9"');
    expect(json?.encode('c/d é')).toBe('"c\\/d \\u00e9"');
  });
});

describe('redactText on encoded values', () => {
  it('tokenizes the email inside a base64 JSON body and encodes the body back as base64', () => {
    const body = b64(JSON.stringify(INVOICE));
    const { text, hits, found, decoded } = redactText(body, tokenizer);
    expect(text).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(text.length % 4).toBe(0);
    const invoice = JSON.parse(unb64(text)) as typeof INVOICE;
    expect(invoice.contactEmail).toMatch(EMAIL_TOKEN);
    expect(invoice).toEqual({ ...INVOICE, contactEmail: tokenizer.token('billing@acme.example', 'email') });
    expect(hits).toEqual(new Map([['email', 1]]));
    expect(found).toEqual(expect.arrayContaining(['billing@acme.example', body]));
    expect(decoded.get('billing@acme.example')).toBe(invoice.contactEmail);
  });

  it('keeps base64 of JSON without personal data byte for byte and does not flag it', () => {
    const body = b64(JSON.stringify({ vendorId: 'V-20931', number: 'F-2024-0093', currency: 'CHF', lines: [{ description: 'Wartung Kühlanlage Q4', amountCents: 99000 }] }));
    expect(detect(body)).toEqual([]);
    expect(redactText(body, tokenizer).text).toBe(body);
    expect(detect(`{"body":"${body}","isBase64Encoded":true}`)).toEqual([]);
  });

  it('keeps the base64url alphabet and the missing padding', () => {
    const body = Buffer.from(JSON.stringify({ who: 'mara.lindqvist@posteo.se', note: 'ok?>>' })).toString('base64url');
    const { text } = redactText(body, tokenizer);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))).toEqual({ who: tokenizer.token('mara.lindqvist@posteo.se', 'email'), note: 'ok?>>' });
  });

  it('tokenizes percent-encoded emails in query strings and paths, keeping the rest of the URL', () => {
    const url = 'https://shop.example/api/v1/customers/jane.doe%40example.org/orders?notify=jane.doe%40example.org&page=2&q=red%20shoes';
    const { text } = redactText(url, tokenizer);
    const token = tokenizer.token('jane.doe@example.org', 'email');
    expect(text).toBe(`https://shop.example/api/v1/customers/${token.replace('@', '%40')}/orders?notify=${token.replace('@', '%40')}&page=2&q=red%20shoes`);
    expect(detect(url).map((match) => match.detector)).toEqual(['email', 'email']);
  });

  it('decodes a form body, `+` as space, and re-encodes phone, email and IBAN replacements', () => {
    const form = 'name=Jane+Doe&email=jane%2Bshop%40corp.io&phone=%2B49%20151%2012345678&iban=DE89%203704%200044%200532%200130%2000&note=call+me';
    const { text, hits } = redactText(form, tokenizer);
    const fields = new URLSearchParams(text);
    expect(fields.get('name')).toBe('Jane Doe');
    expect(fields.get('note')).toBe('call me');
    expect(fields.get('email')).toBe(tokenizer.token('jane+shop@corp.io', 'email'));
    expect(fields.get('phone')).toBe(tokenizer.token('+49 151 12345678', 'phone'));
    expect(fields.get('iban')).toBe('[redacted:iban]');
    expect(text.startsWith('name=Jane+Doe&email=')).toBe(true);
    expect(hits).toEqual(new Map([['email', 1], ['phone', 1], ['iban', 1]]));
  });

  it('finds values hidden by JSON escapes in a JSON string inside a log body, keeping both JSON layers valid', () => {
    const customer = JSON.stringify({ id: 42, email: 'jane@corp.io', site: 'https://jane.example/about' }).replace('@', '\\u0040').replace(/\//g, '\\/');
    const line = JSON.stringify({ level: 'info', msg: 'customer loaded' }).replace('}', `,"customer":${JSON.stringify(customer)}}`);
    expect(line).not.toContain('jane@corp.io');
    const { text, found } = redactText(line, tokenizer);
    const outer = JSON.parse(text) as { customer: string };
    const inner = JSON.parse(outer.customer) as { email: string; site: string };
    expect(inner).toEqual({ id: 42, email: tokenizer.token('jane@corp.io', 'email'), site: 'https://jane.example/about' });
    expect(outer.customer).toContain('\\/');
    expect(found).toContain('jane@corp.io');
  });

  it('tokenizes a batch of cards in a JSON string so every item stays a Luhn-valid card', () => {
    const batch = JSON.stringify([{ card: '4111 1111 1111 1111' }, { card: '5555555555554444' }, { card: '\u0034012888888881881' }]);
    const line = `settlement batch=${JSON.stringify(batch.replace('"40128', '"\\u0034' + '0128'))}`;
    const { text, hits } = redactText(line, tokenizer);
    const items = JSON.parse(JSON.parse(text.slice('settlement batch='.length)) as string) as { card: string }[];
    expect(items.map((item) => item.card.replace(/\D/g, '').startsWith('424242') && luhnValid(item.card.replace(/\D/g, '')))).toEqual([true, true, true]);
    expect(items[0]?.card).toMatch(/^\d{4} \d{4} \d{4} \d{4}$/);
    expect(hits.get('card')).toBe(3);
  });

  it('redacts a Basic credential and reports its decoded password as a raw value', () => {
    const header = `Authorization: Basic ${b64('svc-invoices:Tr0ub4dor&3xyz')}`;
    const { text, found, decoded } = redactText(header, tokenizer);
    expect(text).toBe('Authorization: Basic [redacted:basic-auth]');
    expect(found).toEqual(expect.arrayContaining(['Tr0ub4dor&3xyz']));
    expect(decoded.get('Tr0ub4dor&3xyz')).toBe('[redacted:basic-auth]');
  });

  it('redacts percent-encoded URL userinfo and reports the decoded password', () => {
    const { text, decoded } = redactText('GET https://jane%40corp.io:p%40ss-w0rd%21@api.example.net/v1/me', tokenizer);
    expect(text).toBe('GET https://[redacted:url-credentials]@api.example.net/v1/me');
    expect(decoded.has('p@ss-w0rd!')).toBe(true);
  });

  it('follows layers: percent-encoded base64 of JSON in a query parameter', () => {
    const claims = { returnTo: '/cart', email: 'ola.nordmann@example.no' };
    // A length the base64 pads, so the padding reaches the URL as `%3D`.
    while (JSON.stringify(claims).length % 3 !== 1) claims.returnTo += '/';
    const state = encodeURIComponent(b64(JSON.stringify(claims)));
    expect(state).toMatch(/%3D%3D$/);
    const { text } = redactText(`/oauth/callback?code=abc&state=${state}`, tokenizer);
    const back = JSON.parse(unb64(decodeURIComponent(new URL(text, 'https://x.test').searchParams.get('state') ?? ''))) as Record<string, string>;
    expect(back).toEqual({ ...claims, email: tokenizer.token('ola.nordmann@example.no', 'email') });
  });

  it(`stops decoding after ${MAX_DECODE_DEPTH} layers and judges what remains by its look`, () => {
    let wrapped = JSON.stringify({ email: 'deep.inside@corp.io', filler: 'x'.repeat(8) });
    for (let layer = 0; layer <= MAX_DECODE_DEPTH; layer++) wrapped = b64(wrapped);
    const { text } = redactText(wrapped, tokenizer);
    let inner = text;
    for (let layer = 0; layer < MAX_DECODE_DEPTH; layer++) inner = unb64(inner);
    expect(inner).toBe('[redacted:high-entropy]');
    expect(detect(wrapped).map((match) => match.detector)).toEqual(['high-entropy']);
  });

  it('lets the egress scan see an email inside base64, over the encoded span', () => {
    const text = `body: ${b64(JSON.stringify(INVOICE))} end`;
    expect(scanForLeaks(text)).toEqual([{ detector: 'email', offset: 6, length: text.length - 10 }]);
  });
});

describe('hard negatives stay unchanged and unflagged', () => {
  it.each([
    ['uuid', 'request 6f1c2d3e-4b5a-4978-8a6b-5c4d3e2f1a0b failed'],
    ['git sha', 'deployed 4f9cbcb0ae4ccc89df59b14ea6af829e231f18b3'],
    ['sha256 hex', 'sha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    ['trace id', '{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7"}'],
    ['base64 png', `{"avatar":"${PNG}"}`],
    ['png data uri', `<img src="data:image/png;base64,${PNG}">`],
    ['versions', 'node v20.20.2, app 2.3.1-rc.4+build.20261201, api/v1'],
    ['iso timestamps', '2026-12-01T06:12:40.517Z to 2026-12-01T06:12:41+01:00'],
    ['order numbers', 'order ORD-2026-000451 and INV-2026-0042 for tenant acme_prod_eu'],
    ['harmless percent-encoding', '/search?q=red%20shoes%20size%2042&sort=price%3Aasc'],
    ['harmless escapes', '{"msg":"path C:\\\\tmp\\\\x \\u00e9t\\u00e9 \\/ok"}'],
    ['base64 of words', `note ${b64('order cart checkout step two')}`],
  ])('%s', (_kind, text) => {
    expect(detect(text)).toEqual([]);
    const result = redactText(text, tokenizer);
    expect(result.text).toBe(text);
    expect(result.found).toEqual([]);
  });
});

describe('encoded runs are judged by what they decode to', () => {
  it.each([
    ['an escaped sha256 in a JSON string', '{"msg":"payload","digest":"sha256\\u003a8b421968d5123beb412e5c206538e9777a1204be892021eafe34a8ad09528513"}'],
    ['a percent-encoded SRI hash in a query', 'GET /pkg?integrity=sha512-Vz3ESxj2mo7sOgZgAOf3pS2%2FWdmpaPpM2QuNYMwHG1M%3D&page=2'],
  ])('%s stays unflagged', (_kind, text) => {
    expect(detect(text)).toEqual([]);
    expect(redactText(text, tokenizer).text).toBe(text);
  });

  it('still redacts a key hidden behind escapes, in its decoded form', () => {
    const key = 'Zx9Qp2Lm7Rt4Vb8Nc1Kd6Hs3Jf5Wg0Ya';
    const text = `{"note":"key\\u003a${key}"}`;
    expect(detect(text).map((match) => match.detector)).toEqual(['high-entropy']);
    expect(redactText(text, tokenizer).text).toBe('{"note":"key\\u003a[redacted\\u003ahigh-entropy]"}');
  });
});

describe('percent-encoded components keep the characters encodeURIComponent leaves raw', () => {
  it('tokenizes a phone written with parentheses in a query value', () => {
    const query = `GET /api/search?q=${encodeURIComponent('+1 (847) 287-7450')}&page=2`;
    expect(query).toContain('(847)');
    const { text } = redactText(query, tokenizer);
    expect(new URL(text.slice(4), 'https://x.test').searchParams.get('q')).toBe(tokenizer.token('+1 (847) 287-7450', 'phone'));
  });
});
