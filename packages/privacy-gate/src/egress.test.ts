import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLogLineGuard, createRawValueRegistry, issuedTokenInput, knownRawValues, rawValueHasher, redactLeaks, scanForLeaks } from './egress';

const hashRawValue = rawValueHasher({ id: 'k-test', secret: 'test-only-token-key-0123456789abcdef' });

describe('scanForLeaks', () => {
  it('passes text that carries only the gate\'s tokens and structural values', () => {
    const text = [
      'fix: default preferences.marketing in createUser',
      'Reproduces with {"email":"u1a2b3c4d@example.com","phone":"+12025550143","name":"Name a1b2c3"}',
      'commit 4f9cbcb0ae4ccc89df59b14ea6af829e231f18b3, request 6f1c2d3e-4b5a-4978-8a6b-5c4d3e2f1a0b, node 20.20.2',
    ].join('\n');
    const issued = knownRawValues([hashRawValue(issuedTokenInput('email', 'u1a2b3c4d@example.com')), hashRawValue(issuedTokenInput('phone', '+12025550143'))], hashRawValue);
    expect(scanForLeaks(text, { knownRawValueHashes: issued })).toEqual([]);
    // Shapes prove nothing: without the registry's word the same tokens are what they look like.
    expect(scanForLeaks(text).map((finding) => finding.detector)).toEqual(['email', 'phone']);
  });

  it('blocks a real value shaped like a token that the gate never issued', () => {
    const issued = knownRawValues([hashRawValue(issuedTokenInput('card', '4242 4242 4242 4242'))], hashRawValue);
    expect(scanForLeaks('paid with 4242424242424242', { knownRawValueHashes: issued })).toEqual([]);
    expect(scanForLeaks('paid with 4242421234567897', { knownRawValueHashes: issued })).toEqual([{ detector: 'card', offset: 10, length: 16 }]);
    // Under another key the registry confirms nothing.
    const otherKey = rawValueHasher({ id: 'k-other', secret: 'another-test-token-key-fedcba9876543210' });
    expect(scanForLeaks('paid with 4242424242424242', { knownRawValueHashes: knownRawValues([otherKey(issuedTokenInput('card', '4242424242424242'))], hashRawValue) })).toHaveLength(1);
  });

  it('finds secrets and personal data by offset, never returning the value', () => {
    const text = 'prompt: user ann@corp.io sent sk_live_51NfT8qL2bX9vK3mQ7pR4sW6yZ0aC5dE8';
    const findings = scanForLeaks(text);
    expect(findings).toEqual([
      { detector: 'email', offset: 13, length: 11 },
      { detector: 'stripe-key', offset: 30, length: 41 },
    ]);
    expect(JSON.stringify(findings)).not.toContain('ann@corp.io');
  });

  it('finds known raw values, including multi-word ones, by their hashes', () => {
    const known = knownRawValues([hashRawValue('Kastanienallee 12'), hashRawValue('ord_20261120_88412')], hashRawValue);
    const text = 'Order ord_20261120_88412 ships to "Kastanienallee 12", Berlin';
    expect(scanForLeaks(text, { knownRawValueHashes: known })).toEqual([
      { detector: 'known-raw-value', offset: 6, length: 18 },
      { detector: 'known-raw-value', offset: 35, length: 17 },
    ]);
    expect(scanForLeaks('Order tok_0123456789ab ships', { knownRawValueHashes: known })).toEqual([]);
  });

  it('matches hashes only under the key they were made with, and they are not plain SHA-256', () => {
    const otherKey = rawValueHasher({ id: 'k-other', secret: 'another-test-token-key-fedcba9876543210' });
    const hashes = [hashRawValue('Kastanienallee 12')];
    expect(hashes[0]).not.toBe(createHash('sha256').update('Kastanienallee 12').digest('hex'));
    expect(otherKey('Kastanienallee 12')).not.toBe(hashes[0]);
    expect(scanForLeaks('ships to Kastanienallee 12', { knownRawValueHashes: knownRawValues(hashes, hashRawValue) })).toHaveLength(1);
    expect(scanForLeaks('ships to Kastanienallee 12', { knownRawValueHashes: knownRawValues(hashes, otherKey) })).toEqual([]);
  });
});

/** A pino-shaped line, as the logger writes it. */
const line = (fields: Record<string, unknown>) =>
  `${JSON.stringify({ level: 'info', time: '2026-12-04T12:00:00.000Z', pid: 42, name: 'worker', incidentId: 'inc-7', ...fields })}\n`;

describe('redactLeaks', () => {
  it('replaces each leak by its rule and keeps the words around it', () => {
    const hashOf = rawValueHasher({ id: 'k', secret: 'test-only-token-key-0123456789abcdef' });
    const known = knownRawValues([hashOf('Mara Lindqvist')], hashOf);
    const out = redactLeaks('shipping for Mara Lindqvist to ann@corp.io failed after 3 tries', { knownRawValueHashes: known });
    expect(out).toEqual({ text: 'shipping for [withheld:known-raw-value] to [withheld:email] failed after 3 tries', rules: ['known-raw-value', 'email'] });
  });

  it('returns clean text as it is', () => {
    expect(redactLeaks('the suite timed out after 60 s')).toEqual({ text: 'the suite timed out after 60 s', rules: [] });
  });
});

describe('createLogLineGuard', () => {
  const registry = createRawValueRegistry({ hashOf: hashRawValue });
  registry.add('audit-1', [hashRawValue('Mara Lindqvist'), hashRawValue('ord_20261120_88412')]);
  const guard = createLogLineGuard({ knownRawValueHashes: registry });

  it('passes a clean line', () => {
    expect(guard(line({ msg: 'envelope gated', decisions: 12, traceId: '4bf92f3577b34da6a3ce929d0e0e4736' }))).toBeUndefined();
  });

  it('blocks an email and names the rule and path, not the value', () => {
    const blocks = guard(line({ msg: 'retrying', request: { user: 'contact mara@corp-mail.se please' } }));
    expect(blocks).toEqual([{ rule: 'email', path: '$.request.user' }]);
    expect(JSON.stringify(blocks)).not.toContain('corp-mail');
  });

  it('blocks a secret token in the message', () => {
    expect(guard(line({ msg: 'called stripe with sk_live_51NfT8qL2bX9vK3mQ7pR4sW6yZ0aC5dE8' }))).toEqual([{ rule: 'stripe-key', path: '$.msg' }]);
  });

  it('blocks a raw value the gate removed, by its hash', () => {
    expect(guard(line({ msg: 'signup by Mara Lindqvist failed' }))).toEqual([{ rule: 'known-raw-value', path: '$.msg' }]);
    expect(guard(line({ items: [{ order: 'ord_20261120_88412' }] }))).toEqual([{ rule: 'known-raw-value', path: '$.items.0.order' }]);
  });

  it('finds a value hidden behind a JSON escape', () => {
    // In the serialized line the card follows `\t`, so a look at the raw text sees `t4111…`.
    expect(guard(line({ msg: 'card:\t4111111111111111' }))).toEqual([{ rule: 'card', path: '$.msg' }]);
  });

  it('writes a key that holds a finding as `*`', () => {
    expect(guard(line({ byUser: { 'ann@corp.io': 3 } }))).toEqual([{ rule: 'email', path: '$.byUser.*' }]);
  });

  it('lets a censored credential key pass', () => {
    expect(guard(line({ request: { password: '[redacted]' }, msg: 'login failed' }))).toBeUndefined();
  });

  it('lets the operator-configured infrastructure address pass, and only that one', () => {
    const worker = createLogLineGuard({ knownRawValueHashes: registry, operationalValues: ['10.20.0.7:7233', '10.20.0.7'] });
    expect(guard(line({ address: '10.20.0.7:7233', msg: 'worker started' }))).toEqual([{ rule: 'ipv4', path: '$.address' }]);
    expect(worker(line({ address: '10.20.0.7:7233', msg: 'worker started' }))).toBeUndefined();
    expect(worker(line({ msg: 'reconnecting to 10.20.0.7' }))).toBeUndefined();
    expect(worker(line({ client: '10.20.0.8', msg: 'request' }))).toEqual([{ rule: 'ipv4', path: '$.client' }]);
    expect(worker(line({ address: '10.20.0.7:7233', user: 'mara@corp-mail.se' }))).toEqual([{ rule: 'email', path: '$.user' }]);
  });

  it('judges a line that is not JSON as a whole', () => {
    expect(guard('plain text from ann@corp.io\n')).toEqual([{ rule: 'email', path: '$' }]);
    expect(guard('plain text\n')).toBeUndefined();
  });
});

describe('createRawValueRegistry', () => {
  it('holds hashes per gate run and forgets them', () => {
    const registry = createRawValueRegistry({ hashOf: hashRawValue });
    registry.add('a', ['h1', 'h2']);
    registry.add('b', ['h2', 'h3']);
    expect([registry.size, registry.entries, registry.has('h2'), registry.holds('a'), registry.holds('c')]).toEqual([3, 2, true, true, false]);
    registry.forget('a');
    expect([registry.has('h1'), registry.has('h2'), registry.size]).toEqual([false, true, 2]);
    registry.add('b', ['h4']);
    expect([registry.has('h3'), registry.has('h4'), registry.size]).toEqual([false, true, 1]);
  });

  it('drops the oldest gate run when full', () => {
    const registry = createRawValueRegistry({ hashOf: hashRawValue, maxEntries: 2, maxHashes: 3 });
    registry.add('a', ['h1']);
    registry.add('b', ['h2']);
    registry.add('c', ['h3']);
    expect([registry.has('h1'), registry.has('h2'), registry.has('h3'), registry.entries]).toEqual([false, true, true, 2]);
    registry.add('d', ['h4', 'h5']);
    expect([registry.has('h2'), registry.has('h3'), registry.has('h4'), registry.has('h5'), registry.entries]).toEqual([false, true, true, true, 2]);
  });
});
