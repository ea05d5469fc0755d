import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatedEnvelope, TracemendError, type FailureEnvelope } from '@tracemend/contracts';
import { checkoutWorkerCase, leaderboardCase, usersApiCase, type FixtureCase } from '../test/fixture-envelopes';
import { createAuditLog, verifyAuditLog, type AuditLog } from './audit';
import { DataContract, loadDataContract, parseDataContract } from './contract';
import { knownRawValues, rawValueHasher, scanForLeaks } from './egress';
import { gateEnvelope, gateEnvelopeDetailed, previewGate } from './gate';
import { createKeyring, luhnValid } from './tokenize';

const CONTRACTS = new URL('../../../fixtures/contracts/', import.meta.url);
const KEY = { id: 'k2026-11', secret: 'test-only-token-key-0123456789abcdef' };
const OTHER_KEY = { id: 'k2026-12', secret: 'another-test-token-key-fedcba9876543210' };
const hashRawValue = rawValueHasher(KEY);
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const E164 = /^\+[1-9]\d{6,14}$/;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let dir: string;
let audit: AuditLog;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'privacy-gate-'));
  audit = createAuditLog({ file: join(dir, 'audit.jsonl'), key: KEY, auditId: 'audit-test' });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function contractFor(service: string): Promise<DataContract> {
  return loadDataContract(new URL(`${service}.yaml`, CONTRACTS).pathname);
}

async function gateCase(fixture: FixtureCase, key = KEY, log = audit): Promise<GatedEnvelope> {
  return gateEnvelope({ envelope: fixture.envelope, contract: await contractFor(fixture.service), key, audit: log, incidentId: 'inc-1' });
}

describe.each([
  ['users-api', usersApiCase],
  ['leaderboard', leaderboardCase],
  ['checkout-worker', checkoutWorkerCase],
])('gateEnvelope on the %s fixture', (_name, build) => {
  it('releases a schema-valid envelope containing none of the raw values', async () => {
    const fixture = build();
    const { gated, rawValueHashes } = await gateEnvelopeDetailed({ envelope: fixture.envelope, contract: await contractFor(fixture.service), key: KEY, audit, incidentId: 'inc-1' });
    expect(GatedEnvelope.safeParse(gated).success).toBe(true);
    const text = JSON.stringify(gated);
    for (const raw of fixture.raw) expect(text, `raw value survived: ${raw}`).not.toContain(raw);
    // The guard passes the gate's own tokens only because the gate reported them.
    expect(scanForLeaks(text, { knownRawValueHashes: knownRawValues(rawValueHashes, hashRawValue) })).toEqual([]);
  });

  it('produces the same tokens on every run and different ones under another key', async () => {
    const first = JSON.stringify((await gateCase(build())).envelope);
    const second = JSON.stringify((await gateCase(build())).envelope);
    const otherLog = createAuditLog({ file: join(dir, 'other.jsonl'), key: OTHER_KEY });
    const third = JSON.stringify((await gateCase(build(), OTHER_KEY, otherLog)).envelope);
    expect(second).toBe(first);
    expect(third).not.toBe(first);
  });

  it('records decisions sorted by path and an audit record that verifies', async () => {
    const gated = await gateCase(build());
    const paths = gated.privacy.decisions.map((decision) => decision.path);
    expect(paths).toEqual([...paths].sort());
    expect(gated.privacy.contract).toEqual({ id: build().service, version: 1 });
    expect(gated.privacy.tokenKeyId).toBe('k2026-11');
    expect(gated.privacy.audit).toMatchObject({ auditId: 'audit-test', sequence: 0 });
    const check = await verifyAuditLog(audit.file, { key: KEY, head: gated.privacy.audit });
    expect(check).toEqual({ ok: true, records: 1, head: { sequence: 0, hash: gated.privacy.audit.recordHash } });
    const auditText = await readFile(audit.file, 'utf8');
    for (const raw of build().raw) expect(auditText).not.toContain(raw);
  });
});

describe('gateEnvelope on users-api', () => {
  it('tokenizes personal data into valid formats and keeps the fields the bug needs', async () => {
    const gated = await gateCase(usersApiCase());
    const entry = gated.envelope.entry;
    if (entry.kind !== 'http') throw new Error('expected an http entry');
    const body = entry.body as Record<string, unknown>;
    expect(body.email).toMatch(EMAIL);
    expect(body.email).toMatch(/^u[0-9a-f]{8}@example\.com$/);
    expect(body.phone).toMatch(E164);
    expect(body.phone).toMatch(/^\+1[2-9]\d{2}55501\d{2}$/);
    expect(body.name).toMatch(/^Name [0-9a-f]{6}$/);
    expect(body.preferences).toEqual({ newsletter: true, locale: 'sv-SE' });
    expect(body.plan).toBe('pro');
    expect(entry.headers).toEqual({ 'content-type': 'application/json', 'x-forwarded-for': expect.stringMatching(/^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d+$/) as unknown });
    expect(entry.query).toEqual({});
  });

  it('lists unknown fields as dropped with a default-deny decision', async () => {
    const gated = await gateCase(usersApiCase());
    expect(gated.privacy.droppedUnknown).toEqual([
      'entry.body.referrer.code',
      'entry.query.ref',
      'logs.*.attributes["enduser.name"]',
      'spans.*.attributes["user_agent.original"]',
    ]);
    expect(gated.privacy.decisions).toContainEqual({ path: 'entry.query.ref', action: 'drop', sensitivity: 'secret', basis: 'default-deny' });
    expect(gated.privacy.decisions).toContainEqual({ path: 'entry.headers.authorization', action: 'drop', sensitivity: 'secret', basis: 'contract' });
    expect(gated.privacy.decisions).toContainEqual({ path: 'entry.body.email', action: 'tokenize', sensitivity: 'internal', basis: 'contract' });
  });

  it('replaces detector findings in allowed and structural text and counts them', async () => {
    const gated = await gateCase(usersApiCase());
    expect(gated.envelope.symptom.message).toMatch(/while creating u[0-9a-f]{8}@example\.com$/);
    const log = gated.envelope.logs[0];
    expect(log?.body).toMatch(/^request failed for caller \+1\d{3}55501\d{2} using key \[redacted:stripe-key\]$/);
    expect(gated.privacy.detectorHits).toEqual(
      expect.arrayContaining([
        // The body's email is a value the contract removed, so its repeats are caught as known values.
        { detector: 'known-value', path: 'symptom.message', count: 1 },
        { detector: 'known-value', path: 'spans.*.status.message', count: 1 },
        { detector: 'known-value', path: 'spans.*.attributes["exception.message"]', count: 1 },
        { detector: 'phone', path: 'logs.*.body', count: 1 },
        { detector: 'stripe-key', path: 'logs.*.body', count: 1 },
      ]),
    );
    expect(gated.privacy.decisions).toContainEqual({
      path: 'logs.*.body',
      action: 'redact',
      sensitivity: 'secret',
      basis: 'detector',
      detector: 'stripe-key',
    });
  });

  it('tokenizes an email that appears only in the exception message with the email detector', async () => {
    const fixture = usersApiCase();
    fixture.envelope.symptom.message = 'duplicate key for lena.holm@telia.se (id 42)';
    const gated = await gateCase(fixture);
    expect(gated.envelope.symptom.message).toMatch(/^duplicate key for u[0-9a-f]{8}@example\.com \(id 42\)$/);
    expect(gated.privacy.detectorHits).toContainEqual({ detector: 'email', path: 'symptom.message', count: 1 });
    expect(JSON.stringify(gated)).not.toContain('lena.holm');
  });

  it('uses one token for the same email in the body and in the exception message', async () => {
    const gated = await gateCase(usersApiCase());
    const entry = gated.envelope.entry;
    if (entry.kind !== 'http') throw new Error('expected an http entry');
    const email = (entry.body as Record<string, string>).email ?? '';
    expect(gated.envelope.symptom.message.endsWith(email)).toBe(true);
  });

  it('reports hashes of every removed raw value for the egress guard', async () => {
    const fixture = usersApiCase();
    const { rawValueHashes } = await gateEnvelopeDetailed({ envelope: fixture.envelope, contract: await contractFor('users-api'), key: KEY, audit });
    const known = new Set(rawValueHashes);
    expect(known.has(hashRawValue('mara.lindqvist@corp-mail.se'))).toBe(true);
    expect(known.has(hashRawValue('Mara Lindqvist'))).toBe(true);
    const findings = scanForLeaks('Summary: signup by Mara Lindqvist failed', { knownRawValueHashes: knownRawValues(rawValueHashes, hashRawValue) });
    expect(findings).toEqual([{ detector: 'known-raw-value', offset: 19, length: 14 }]);
  });

  it('leaves out of those hashes what it releases elsewhere and what only default deny dropped', async () => {
    const fixture = usersApiCase();
    const { gated, rawValueHashes } = await gateEnvelopeDetailed({ envelope: fixture.envelope, contract: await contractFor('users-api'), key: KEY, audit });
    const released = JSON.stringify(gated.envelope);
    const known = new Set(rawValueHashes);
    // Every hash stands for a value the gated envelope does not carry anywhere.
    expect(known.has(hashRawValue('application/json'))).toBe(!released.includes('"application/json"'));
    expect([...known].length).toBeGreaterThan(0);
  });
});

describe('gateEnvelope on leaderboard', () => {
  it('keeps argument positions, scores and k; tokenizes ids and names; drops unknown user fields', async () => {
    const gated = await gateCase(leaderboardCase());
    const entry = gated.envelope.entry;
    if (entry.kind !== 'function') throw new Error('expected a function entry');
    expect(entry.args).toHaveLength(2);
    expect(entry.args[1]).toBe(10);
    const users = (entry.args[0] as { $stub: { get: { active_users: Record<string, unknown>[] } } }).$stub.get.active_users;
    expect(users.map((user) => user.score)).toEqual([120, 340]);
    expect(users[0]?.displayName).toMatch(/^Name [0-9a-f]{6}$/);
    expect(users[0]?.id).toMatch(/^tok_[0-9a-f]{12}$/);
    expect(users[0]).not.toHaveProperty('email');
    expect(gated.privacy.droppedUnknown).toContain('entry.args.0.$stub.get.active_users.*.email');
  });

  it('passes a null snapshot through so the TypeError still reproduces', async () => {
    const fixture = leaderboardCase();
    const entry = fixture.envelope.entry;
    if (entry.kind !== 'function') throw new Error('expected a function entry');
    entry.args = [{ $stub: { get: { active_users: null } } }, 10];
    const gated = await gateCase(fixture);
    expect(gated.envelope.entry).toMatchObject({ args: [{ $stub: { get: { active_users: null } } }, 10] });
  });
});

describe('gateEnvelope on checkout-worker', () => {
  it('keeps skus, quantities and the 404 body; drops the payment token and the unknown card field', async () => {
    const gated = await gateCase(checkoutWorkerCase());
    const entry = gated.envelope.entry;
    if (entry.kind !== 'message') throw new Error('expected a message entry');
    const order = (entry.payload as { order: Record<string, unknown> }).order;
    expect(order.lines).toEqual([
      { sku: 'LAMP-7', quantity: 1, unitPriceCents: 4900 },
      { sku: 'DESK-19', quantity: 1, unitPriceCents: 32900 },
    ]);
    expect(order.payment).toBeUndefined();
    expect(order.orderId).toMatch(/^tok_[0-9a-f]{12}$/);
    const customer = order.customer as Record<string, unknown>;
    expect(customer.email).toMatch(EMAIL);
    expect(customer.address).toMatchObject({ country: 'DE', city: expect.stringMatching(/^tok_/) as unknown });
    expect(gated.envelope.downstream[0]?.responseBody).toEqual({ error: 'sku_not_found', sku: 'DESK-19' });
    expect(gated.envelope.downstream[0]?.responseHeaders).toEqual({ 'content-type': 'application/json' });
    expect(gated.envelope.environment.featureFlags).toEqual({ newPricing: true });
    expect(gated.envelope.environment.env.SLACK_WEBHOOK_TOKEN).toBe('[redacted:secret-key-name]');
    expect(gated.privacy.droppedUnknown).toEqual(
      expect.arrayContaining(['entry.payload.order.customer.phone', 'entry.payload.order.payment.card', 'downstream.*.responseHeaders.set-cookie']),
    );
  });

  it('replaces values the contract removed where they recur in free text, with the same token', async () => {
    const gated = await gateCase(checkoutWorkerCase());
    const entry = gated.envelope.entry;
    if (entry.kind !== 'message') throw new Error('expected a message entry');
    const order = (entry.payload as { order: { orderId: string; customer: { email: string } } }).order;
    expect(gated.envelope.logs[0]?.body).toBe(`message processing failed for order ${order.orderId}, customer ${order.customer.email}`);
    expect(gated.envelope.spans[0]?.attributes['messaging.kafka.message.key']).toBe(order.orderId);
    expect(gated.privacy.detectorHits).toContainEqual({ detector: 'known-value', path: 'logs.*.body', count: 2 });
  });

  it('tokenizes cards, uuids and ips into valid test formats when a contract asks', async () => {
    const fixture = checkoutWorkerCase();
    const contract = await contractFor('checkout-worker');
    const extended: DataContract = {
      ...contract,
      fields: [
        ...contract.fields.filter((field) => field.path !== 'entry.payload.id'),
        { path: 'entry.payload.order.payment.card', action: 'tokenize', sensitivity: 'secret', type: 'card' },
        { path: 'entry.payload.id', action: 'tokenize', sensitivity: 'internal', type: 'uuid' },
      ],
    };
    const gated = await gateEnvelope({ envelope: fixture.envelope, contract: extended, key: KEY, audit });
    const entry = gated.envelope.entry;
    if (entry.kind !== 'message') throw new Error('expected a message entry');
    const payload = entry.payload as { id: string; order: { payment: { card: string } } };
    expect(payload.id).toMatch(UUID_V4);
    expect(payload.order.payment.card).toMatch(/^\d{4} \d{4} \d{4} \d{4}$/);
    expect(luhnValid(payload.order.payment.card.replace(/ /g, ''))).toBe(true);
    expect(payload.order.payment.card).not.toBe('4111 1111 1111 1111');
  });
});

describe('gateEnvelope refusals', () => {
  it('refuses a contract for another service with DATA_CONTRACT_MISSING and audits the refusal', async () => {
    const error = await gateEnvelope({ envelope: usersApiCase().envelope, contract: await contractFor('leaderboard'), key: KEY, audit }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(TracemendError);
    expect((error as TracemendError).code).toBe('DATA_CONTRACT_MISSING');
    const record = JSON.parse((await readFile(audit.file, 'utf8')).trim()) as Record<string, unknown>;
    expect(record).toMatchObject({ outcome: 'blocked', reason: 'DATA_CONTRACT_MISSING', service: 'users-api', sequence: 0 });
  });

  it('refuses a contract that allows a secret field with PRIVACY_BLOCKED', async () => {
    const contract = parseDataContract(
      'service: users-api\nversion: 2\nfields:\n  - { path: entry.headers.authorization, action: allow, sensitivity: secret }\n',
    );
    await expect(gateEnvelope({ envelope: usersApiCase().envelope, contract, key: KEY, audit })).rejects.toMatchObject({
      code: 'PRIVACY_BLOCKED',
      message: expect.stringContaining('entry.headers.authorization') as unknown,
    });
  });

  it('refuses a token key shorter than 32 bytes', async () => {
    await expect(
      gateEnvelope({ envelope: usersApiCase().envelope, contract: await contractFor('users-api'), key: { id: 'k', secret: 'short' }, audit }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('governs span event attributes by the contract: allowed ones survive, the rest are dropped and reported', async () => {
    const contract = parseDataContract(
      [
        'service: users-api',
        'version: 1',
        'fields:',
        '  - { path: \'spans.*.events.*.attributes["feature_flag.key"]\', action: allow, sensitivity: public }',
        '  - { path: \'spans.*.events.*.attributes["exception.type"]\', action: allow, sensitivity: public }',
      ].join('\n'),
    );
    const fixture = usersApiCase();
    const span = fixture.envelope.spans[0];
    if (span === undefined) throw new Error('expected a span');
    const time = span.startTime;
    span.events = [
      { name: 'feature_flag.evaluation', time, attributes: { 'feature_flag.key': 'newSignup', 'feature_flag.result.value': 'on' } },
      { name: 'http.request.body', time, attributes: { 'http.request.body.content': '{"email":"anna.lindqvist@example.se","password":"hunter2-Secret!"}' } },
      { name: 'exception', time, attributes: { 'exception.type': 'TypeError', 'exception.message': 'no user anna.lindqvist@example.se' } },
    ];
    const gated = await gateEnvelope({ envelope: fixture.envelope, contract, key: KEY, audit });
    expect(gated.envelope.spans[0]?.events).toEqual([
      { name: 'feature_flag.evaluation', time, attributes: { 'feature_flag.key': 'newSignup' } },
      { name: 'http.request.body', time, attributes: {} },
      { name: 'exception', time, attributes: { 'exception.type': 'TypeError' } },
    ]);
    expect(gated.privacy.droppedUnknown).toEqual(
      expect.arrayContaining([
        'spans.*.events.*.attributes["feature_flag.result.value"]',
        'spans.*.events.*.attributes["http.request.body.content"]',
        'spans.*.events.*.attributes["exception.message"]',
      ]),
    );
    const text = JSON.stringify(gated);
    expect(text).not.toContain('anna.lindqvist@example.se');
    expect(text).not.toContain('hunter2-Secret!');
  });

  it('redacts nine bare digits under a key naming an SSN and session ids under their cookie names, even where the contract allows them', async () => {
    const contract = parseDataContract(
      ['service: users-api', 'version: 1', 'fields:', '  - { path: entry.body.**, action: allow, sensitivity: public }', '  - { path: logs.*.body, action: allow, sensitivity: public }'].join('\n'),
    );
    const fixture = usersApiCase();
    const entry = fixture.envelope.entry;
    if (entry.kind !== 'http') throw new Error('expected an http entry');
    entry.body = { customer: { taxId: '536228173', ssn: '536 22 8173', orderNumber: '536228173' }, JSESSIONID: '0F3C2A91B7D84E6F0F3C2A91B7D84E6F' };
    fixture.envelope.logs = [{ timestamp: fixture.envelope.timing.recordedAt, severity: 'error', body: 'login for PHPSESSID=9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c failed: the password is Tr0ub4dor&3', attributes: {} }];
    const gated = await gateEnvelope({ envelope: fixture.envelope, contract, key: KEY, audit });
    const body = (gated.envelope.entry as unknown as { body: { customer: Record<string, string>; JSESSIONID: string } }).body;
    expect(body.customer).toEqual({ taxId: '[redacted:ssn]', ssn: '[redacted:ssn]', orderNumber: '536228173' });
    expect(body.JSESSIONID).toBe('[redacted:secret-key-name]');
    expect(gated.envelope.logs[0]?.body).toBe('login for PHPSESSID=[redacted:session-id] failed: the password is [redacted:password-in-text]');
    expect(gated.privacy.detectorHits).toContainEqual({ detector: 'ssn', path: 'entry.body.customer.taxId', count: 1 });
  });

  it('says redact, not tokenize, for personal data a detector replaced by a marker', async () => {
    const contract = parseDataContract(['service: users-api', 'version: 1', 'fields:', '  - { path: logs.*.body, action: allow, sensitivity: public }'].join('\n'));
    const fixture = usersApiCase();
    fixture.envelope.logs = [{ timestamp: fixture.envelope.timing.recordedAt, severity: 'error', body: 'refund to DE89 3704 0044 0532 0130 00 for +46701234567', attributes: {} }];
    const gated = await gateEnvelope({ envelope: fixture.envelope, contract, key: KEY, audit });
    expect(gated.envelope.logs[0]?.body).toMatch(/^refund to \[redacted:iban\] for \+1\d{3}55501\d{2}$/);
    const byDetector = new Map(gated.privacy.decisions.filter((decision) => decision.basis === 'detector').map((decision) => [decision.detector, decision.action]));
    expect(byDetector.get('iban')).toBe('redact');
    expect(byDetector.get('phone')).toBe('tokenize');
  });

  it('leaves an empty object or list as it is under a ** rule that redacts, instead of refusing the envelope', async () => {
    const contract = parseDataContract(['service: users-api', 'version: 1', 'fields:', '  - { path: entry.**, action: redact, sensitivity: internal }'].join('\n'));
    const fixture = usersApiCase();
    const entry = fixture.envelope.entry;
    if (entry.kind !== 'http') throw new Error('expected an http entry');
    entry.query = {};
    entry.body = { items: [], note: 'gift' };
    const gated = await gateEnvelope({ envelope: fixture.envelope, contract, key: KEY, audit });
    const out = gated.envelope.entry as typeof entry;
    expect(out.query).toEqual({});
    expect(out.body).toEqual({ items: [], note: '[redacted]' });
  });

  it('drops everything under an empty contract', async () => {
    const contract = parseDataContract('service: users-api\nversion: 1\nfields: []\n');
    const gated = await gateEnvelope({ envelope: usersApiCase().envelope, contract, key: KEY, audit });
    const entry = gated.envelope.entry;
    if (entry.kind !== 'http') throw new Error('expected an http entry');
    expect(entry.body).toBeUndefined();
    expect(entry.headers).toEqual({});
    expect(gated.envelope.logs[0]?.body).toBe('');
    expect(gated.envelope.spans[0]?.attributes).toEqual({});
    expect(gated.privacy.decisions.every((decision) => decision.basis !== 'contract')).toBe(true);
  });
});

describe('gateEnvelope property: personal data in allowed text never survives', () => {
  const localPart = fc.stringMatching(/^[a-z][a-z0-9._-]{0,14}[a-z0-9]$/);
  const domain = fc.stringMatching(/^[a-z][a-z0-9-]{1,10}\.(?:com|de|se|org|io|co\.uk)$/);
  const email = fc.tuple(localPart, domain).map(([local, host]) => `${local}@${host}`);
  const phone = fc.oneof(
    fc.stringMatching(/^\+[1-9]\d{7,13}$/),
    fc.tuple(fc.integer({ min: 1, max: 99 }), fc.integer({ min: 10, max: 99 }), fc.integer({ min: 1_000_000, max: 99_999_999 })).map(
      ([country, area, line]) => `+${country} ${area} ${String(line).replace(/(\d{3})(?=\d)/g, '$1 ')}`,
    ),
    fc.tuple(fc.integer({ min: 200, max: 999 }), fc.integer({ min: 200, max: 999 }), fc.integer({ min: 1000, max: 9999 })).map(
      ([area, exchange, line]) => `+1 (${area}) ${exchange}-${line}`,
    ),
  );
  const fillerText = fc.array(fc.constantFrom('order', 'failed', 'for', 'user', ':', '-', '(', ')', ',', 'id=', '\n'), { maxLength: 6 }).map((words) => words.join(' '));

  it('tokenizes every email and phone placed anywhere in an allowed log body, message or attribute', async () => {
    const contract = await contractFor('users-api');
    const log = createAuditLog({ file: join(dir, 'property.jsonl'), key: KEY });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(email, phone), { minLength: 1, maxLength: 4 }), fillerText, fillerText, fc.nat(2), async (values, before, after, where) => {
        const fixture = usersApiCase();
        const text = `${before}${values.join(` ${after} `)}${after}`;
        const envelope: FailureEnvelope = structuredClone(fixture.envelope);
        if (where === 0) envelope.logs[0] = { ...envelope.logs[0]!, body: text };
        if (where === 1) envelope.symptom.message = text;
        if (where === 2) envelope.spans[0]!.attributes['exception.message'] = text;
        const gated = await gateEnvelope({ envelope, contract, key: KEY, audit: log });
        const out = JSON.stringify(gated);
        for (const value of values) expect(out).not.toContain(value);
      }),
      { numRuns: 150 },
    );
  }, 60_000);
});

/** The tokenized body email of a gated users-api envelope. */
function emailOf(gated: GatedEnvelope): string {
  const entry = gated.envelope.entry;
  if (entry.kind !== 'http') throw new Error('expected an http entry');
  return (entry.body as { email: string }).email;
}

describe('the redact action end to end', () => {
  it('replaces the value, reports the path and leaves the raw value nowhere in the output or the audit log', async () => {
    const fixture = usersApiCase();
    const contract = await contractFor('users-api');
    const redacting: DataContract = {
      ...contract,
      version: 2,
      fields: [
        ...contract.fields.filter((field) => field.path !== 'entry.body.name'),
        { path: 'entry.body.name', action: 'redact', sensitivity: 'internal' },
        // The same name recurs in an allowed log attribute: it must not survive there either.
        { path: 'logs.*.attributes["enduser.name"]', action: 'allow', sensitivity: 'internal' },
      ],
    };
    const { gated, rawValueHashes } = await gateEnvelopeDetailed({ envelope: fixture.envelope, contract: redacting, key: KEY, audit });
    const entry = gated.envelope.entry;
    if (entry.kind !== 'http') throw new Error('expected an http entry');
    expect((entry.body as Record<string, unknown>).name).toBe('[redacted]');
    expect(gated.envelope.logs[0]?.attributes['enduser.name']).toBe('[redacted:known-value]');
    expect(gated.privacy.decisions).toContainEqual({ path: 'entry.body.name', action: 'redact', sensitivity: 'internal', basis: 'contract' });
    expect(gated.privacy.contract).toEqual({ id: 'users-api', version: 2 });

    const text = JSON.stringify(gated);
    expect(text).not.toContain('Mara Lindqvist');
    expect(text).not.toContain('Lindqvist');
    expect(rawValueHashes).toContain(hashRawValue('Mara Lindqvist'));
    expect(scanForLeaks('reply to Mara Lindqvist', { knownRawValueHashes: knownRawValues(rawValueHashes, hashRawValue) })).toHaveLength(1);
    const record = JSON.parse((await readFile(audit.file, 'utf8')).trim()) as { decisions: unknown[]; contract: unknown };
    expect(record.contract).toEqual({ id: 'users-api', version: 2 });
    expect(record.decisions).toContainEqual({ path: 'entry.body.name', action: 'redact', sensitivity: 'internal', basis: 'contract' });
    expect(await readFile(audit.file, 'utf8')).not.toContain('Lindqvist');
  });
});

describe('date tokens through the gate', () => {
  it('shifts dates keeping their format and their order', async () => {
    const fixture = leaderboardCase();
    const contract = await contractFor('leaderboard');
    const dated: DataContract = {
      ...contract,
      fields: [
        ...contract.fields.filter((field) => !field.path.endsWith('lastActiveAt')),
        { path: 'entry.args.0.$stub.get.active_users.*.lastActiveAt', action: 'tokenize', type: 'date', sensitivity: 'internal' },
      ],
    };
    const gated = await gateEnvelope({ envelope: fixture.envelope, contract: dated, key: KEY, audit });
    const entry = gated.envelope.entry;
    if (entry.kind !== 'function') throw new Error('expected a function entry');
    const users = (entry.args[0] as { $stub: { get: { active_users: { lastActiveAt: string }[] } } }).$stub.get.active_users;
    const [first, second] = users.map((user) => user.lastActiveAt);
    expect(first).toMatch(/^\d{4}-\d{2}-\d{2}T10:00:00Z$/);
    expect(second).toMatch(/^\d{4}-\d{2}-\d{2}T09:00:00Z$/);
    expect(first?.slice(0, 10)).not.toBe('2026-03-01');
    // Recorded an hour apart on one day; still an hour apart after the shift.
    expect(Date.parse(first ?? '') - Date.parse(second ?? '')).toBe(3_600_000);
  });
});

describe('key rotation', () => {
  it('tokenizes with the keyring\'s current key, records its id, and a previous key still identifies older tokens', async () => {
    const before = await gateEnvelope({ envelope: usersApiCase().envelope, contract: await contractFor('users-api'), key: KEY, audit });
    const ring = { current: OTHER_KEY, previous: [KEY] };
    const after = await gateEnvelope({ envelope: usersApiCase().envelope, contract: await contractFor('users-api'), key: ring, audit });
    const single = await gateEnvelope({ envelope: usersApiCase().envelope, contract: await contractFor('users-api'), key: OTHER_KEY, audit });
    expect(after.privacy.tokenKeyId).toBe('k2026-12');
    expect(JSON.stringify(after.envelope)).toBe(JSON.stringify(single.envelope));
    expect(JSON.stringify(after.envelope)).not.toBe(JSON.stringify(before.envelope));

    const keyring = createKeyring(ring);
    expect(keyring.keyIdOf('mara.lindqvist@corp-mail.se', 'email', emailOf(before))).toBe(before.privacy.tokenKeyId);
    expect(keyring.keyIdOf('mara.lindqvist@corp-mail.se', 'email', emailOf(after))).toBe(after.privacy.tokenKeyId);
    const records = (await readFile(audit.file, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { tokenKeyId: string });
    expect(records.map((record) => record.tokenKeyId)).toEqual(['k2026-11', 'k2026-12', 'k2026-12']);
  });
});

describe('previewGate', () => {
  it('shows every decision of the real gate with its rule, and writes nothing', async () => {
    const fixture = usersApiCase();
    const contract = await contractFor('users-api');
    const preview = previewGate({ envelope: fixture.envelope, contract });
    expect(preview).toMatchObject({ service: 'users-api', contract: { id: 'users-api', version: 1 }, outcome: 'released' });
    expect(preview.decisions).toContainEqual({
      path: 'entry.body.email',
      action: 'tokenize',
      sensitivity: 'internal',
      basis: 'contract',
      pattern: 'entry.body.email',
      type: 'email',
    });
    expect(preview.decisions).toContainEqual({
      path: 'spans.*.attributes["http.request.header.authorization"].*',
      action: 'drop',
      sensitivity: 'secret',
      basis: 'contract',
      pattern: 'spans.*.attributes["http.request.header.authorization"].*',
    });
    expect(preview.decisions).toContainEqual({ path: 'entry.query.ref', action: 'drop', sensitivity: 'secret', basis: 'default-deny' });
    expect(preview.detectorHits.length).toBeGreaterThan(0);
    const text = JSON.stringify(preview);
    for (const raw of fixture.raw) expect(text).not.toContain(raw);
    await expect(readFile(audit.file)).rejects.toMatchObject({ code: 'ENOENT' });

    // The same table the gate records, rule columns aside.
    const gated = await gateEnvelope({ envelope: fixture.envelope, contract, key: KEY, audit });
    expect(preview.decisions.map(({ pattern: _p, type: _t, ...decision }) => decision)).toEqual(gated.privacy.decisions);
    expect(preview.droppedUnknown).toEqual(gated.privacy.droppedUnknown);
    expect(preview.detectorHits).toEqual(gated.privacy.detectorHits);
    // Tokens come from a throwaway key: none of the gate's tokens appears.
    expect(text).not.toContain(emailOf(gated));
  });

  it('reports a contract the gate would refuse as blocked, and a contract for another service as an error', () => {
    const allowsSecret = parseDataContract('service: users-api\nversion: 3\nfields:\n  - { path: entry.headers.authorization, action: allow, sensitivity: secret }\n');
    const preview = previewGate({ envelope: usersApiCase().envelope, contract: allowsSecret });
    expect(preview.outcome).toBe('blocked');
    expect(preview.reason).toContain('entry.headers.authorization');
    expect(preview.decisions).toContainEqual(expect.objectContaining({ path: 'entry.headers.authorization', action: 'allow', basis: 'contract' }));
    expect(() => previewGate({ envelope: usersApiCase().envelope, contract: { ...allowsSecret, service: 'leaderboard' } })).toThrow(
      expect.objectContaining({ code: 'DATA_CONTRACT_MISSING' }) as Error,
    );
  });
});

describe('contract precedence (as documented in docs/data-contracts.md)', () => {
  it('prefers more literal segments, then fewer **, then the more restrictive action on a tie; file order never matters', () => {
    const base = usersApiCase().envelope;
    if (base.entry.kind !== 'http') throw new Error('expected an http entry');
    const envelope: FailureEnvelope = {
      ...base,
      entry: { ...base.entry, body: { user: { email: 'ann@corp.io', name: 'Ann Berg', plan: 'pro' }, note: 'hello there' } },
    };
    const fields = [
      { path: 'entry.body.**', action: 'redact', sensitivity: 'internal' },
      { path: 'entry.body.user.*', action: 'hash', sensitivity: 'internal' },
      { path: 'entry.body.user.email', action: 'tokenize', type: 'email', sensitivity: 'internal' },
      // Ties with entry.body.user.* on name (3 literals, no **, 4 segments): the more restrictive drop wins.
      { path: 'entry.body.*.name', action: 'drop', sensitivity: 'internal' },
    ] as const;
    const actionsUnder = (order: readonly (typeof fields)[number][]): Record<string, string> => {
      const contract = DataContract.parse({ service: 'users-api', version: 1, fields: order });
      const preview = previewGate({ envelope, contract });
      return Object.fromEntries(
        preview.decisions.filter((decision) => decision.path.startsWith('entry.body.')).map((decision) => [decision.path, `${decision.action} by ${decision.pattern ?? ''}`]),
      );
    };
    const expected = {
      'entry.body.note': 'redact by entry.body.**',
      'entry.body.user.email': 'tokenize by entry.body.user.email',
      'entry.body.user.name': 'drop by entry.body.*.name',
      'entry.body.user.plan': 'hash by entry.body.user.*',
    };
    expect(actionsUnder(fields)).toEqual(expected);
    expect(actionsUnder([...fields].reverse())).toEqual(expected);
  });
});
