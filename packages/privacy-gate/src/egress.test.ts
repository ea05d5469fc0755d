import { describe, expect, it } from 'vitest';
import { hashRawValue, scanForLeaks } from './egress';

describe('scanForLeaks', () => {
  it('passes text that carries only tokens and structural values', () => {
    const text = [
      'fix: default preferences.marketing in createUser',
      'Reproduces with {"email":"u1a2b3c4d@example.com","phone":"+12025550143","name":"Name a1b2c3"}',
      'commit 4f9cbcb0ae4ccc89df59b14ea6af829e231f18b3, request 6f1c2d3e-4b5a-4978-8a6b-5c4d3e2f1a0b, node 20.20.2',
    ].join('\n');
    expect(scanForLeaks(text)).toEqual([]);
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
    const known = new Set([hashRawValue('Kastanienallee 12'), hashRawValue('ord_20261120_88412')]);
    const text = 'Order ord_20261120_88412 ships to "Kastanienallee 12", Berlin';
    expect(scanForLeaks(text, { knownRawValueHashes: known })).toEqual([
      { detector: 'known-raw-value', offset: 6, length: 18 },
      { detector: 'known-raw-value', offset: 35, length: 17 },
    ]);
    expect(scanForLeaks('Order tok_0123456789ab ships', { knownRawValueHashes: known })).toEqual([]);
  });
});
