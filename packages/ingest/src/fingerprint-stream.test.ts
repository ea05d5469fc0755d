import { describe, expect, it } from 'vitest';
import { buildEnvelope } from './envelope';
import { fingerprint } from './fingerprint';
import { parseV8Stack } from './stack';
import { SYNTHETIC_BUGS, generateAlertStream } from './testing/alert-stream';

const receivedAt = '2026-11-20T12:00:00.000Z';

function groups(seed: number, count: number) {
  const byBug = new Map<string, Set<string>>();
  const byFingerprint = new Map<string, Set<string>>();
  const messageHashes = new Map<string, Set<string>>();
  for (const [index, alert] of generateAlertStream({ count, seed }).entries()) {
    const envelope = buildEnvelope({ traces: { source: { alertId: index.toString(16).padStart(64, '0'), format: 'otlp-traces-json', receivedAt }, body: alert.body } });
    const { fingerprint } = envelope.identity;
    byBug.set(alert.bug, (byBug.get(alert.bug) ?? new Set()).add(fingerprint));
    byFingerprint.set(fingerprint, (byFingerprint.get(fingerprint) ?? new Set()).add(alert.bug));
    messageHashes.set(alert.bug, (messageHashes.get(alert.bug) ?? new Set()).add(envelope.symptom.messageHash));
  }
  return { byBug, byFingerprint, messageHashes };
}

describe('fingerprints over a noisy stream of alerts', () => {
  it('groups 1,000 alerts of 5 bugs into exactly 5 fingerprints, one per bug', () => {
    const { byBug, byFingerprint } = groups(20_261_123, 1_000);
    expect([...byBug.keys()].sort()).toEqual(SYNTHETIC_BUGS.map((bug) => bug.id).sort());
    expect(byFingerprint.size).toBe(5);
    for (const [bug, fingerprints] of byBug) expect({ bug, fingerprints: fingerprints.size }).toEqual({ bug, fingerprints: 1 });
    for (const bugs of byFingerprint.values()) expect(bugs.size).toBe(1);
  });

  it('keeps one fingerprint per bug under other seeds too', () => {
    for (const seed of [1, 2, 3, 42, 4_294_967_295]) {
      const { byFingerprint } = groups(seed, 300);
      expect({ seed, fingerprints: byFingerprint.size }).toEqual({ seed, fingerprints: 5 });
      for (const bugs of byFingerprint.values()) expect(bugs.size).toBe(1);
    }
  });

  it('gives each bug one message hash whatever ids, numbers, quoted values, UUIDs and emails its message carries', () => {
    const { messageHashes } = groups(7, 500);
    const all = new Set<string>();
    for (const [bug, hashes] of messageHashes) {
      expect({ bug, hashes: hashes.size }).toEqual({ bug, hashes: 1 });
      for (const hash of hashes) all.add(hash);
    }
    expect(all.size).toBe(5);
  });

  it('varies what it should: ids, versions, lines and deploy roots differ across the stream', () => {
    const stream = generateAlertStream({ count: 200, seed: 9 });
    const envelopes = stream.map((alert, index) =>
      buildEnvelope({ traces: { source: { alertId: index.toString(16).padStart(64, '0'), format: 'otlp-traces-json', receivedAt }, body: alert.body } }),
    );
    expect(new Set(envelopes.map((envelope) => envelope.identity.traceId)).size).toBe(200);
    expect(new Set(envelopes.map((envelope) => envelope.identity.version)).size).toBeGreaterThan(3);
    expect(new Set(envelopes.map((envelope) => envelope.symptom.message)).size).toBeGreaterThan(150);
    expect(new Set(envelopes.map((envelope) => envelope.symptom.frames.find((frame) => frame.inApp)?.line)).size).toBeGreaterThan(40);
    expect(new Set(envelopes.map((envelope) => envelope.symptom.frames.filter((frame) => frame.inApp).length)).size).toBeGreaterThan(3);
  });
});

describe('fingerprint of a recursive function', () => {
  const stack = (depth: number) =>
    parseV8Stack(
      ['RangeError: too deep', ...Array.from({ length: depth }, (_, i) => `    at walk (/srv/app/src/tree.ts:${10 + i}:3)`), '    at build (/srv/app/src/tree.ts:40:1)', '    at main (/srv/app/src/main.ts:3:1)'].join('\n'),
    );
  it('is the same at any recursion depth and differs from the non-recursive caller', () => {
    const one = fingerprint('svc', 'RangeError', stack(1));
    expect(fingerprint('svc', 'RangeError', stack(2))).toBe(one);
    expect(fingerprint('svc', 'RangeError', stack(9))).toBe(one);
    expect(fingerprint('svc', 'RangeError', stack(0))).not.toBe(one);
  });
});
