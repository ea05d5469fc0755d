import { readFile } from 'node:fs/promises';
import { FIXTURE_BUGS, fixtureAlertPaths, fixtureServiceNames } from '@tracemend/fixture-kit';
import { describe, expect, it } from 'vitest';
import { buildEnvelope } from './envelope';
import type { OtlpLogs, OtlpTraces } from './otlp';

const receivedAt = '2026-11-20T12:00:00.000Z';

async function fixture(service: (typeof fixtureServiceNames)[number]) {
  const paths = fixtureAlertPaths(service);
  const traces = JSON.parse(await readFile(paths.traces, 'utf8')) as OtlpTraces;
  const logs = JSON.parse(await readFile(paths.logs, 'utf8')) as OtlpLogs;
  return buildEnvelope({
    traces: { source: { alertId: 'a'.repeat(64), format: 'otlp-traces-json', receivedAt }, body: traces },
    logs: [{ source: { alertId: 'b'.repeat(64), format: 'otlp-logs-json', receivedAt }, body: logs }],
  });
}

describe('buildEnvelope over the recorded fixture alerts', () => {
  it.each(fixtureServiceNames)('%s: symptom, in-app frames and identity', async (service) => {
    const envelope = await fixture(service);
    const bug = FIXTURE_BUGS[service];
    expect(envelope.identity.service).toBe(service);
    expect(envelope.identity.version).toMatch(/^[0-9a-f]{40}$/);
    expect(envelope.identity.environment).toBe('production');
    expect(envelope.symptom.errorType).toBe(bug.errorType);
    expect(envelope.symptom.message).toBe(bug.message);
    const top = envelope.symptom.frames.find((frame) => frame.inApp);
    expect(top).toMatchObject({ file: bug.file, function: bug.function });
    expect(envelope.symptom.frames.filter((frame) => !frame.inApp).every((frame) => !frame.file.startsWith('src/'))).toBe(true);
    expect(envelope.entry.kind).toBe(bug.entry.kind);
    expect(envelope.logs.length).toBeGreaterThan(0);
    expect(envelope.logs.every((log) => log.traceId === envelope.identity.traceId)).toBe(true);
    expect(envelope.provenance.sources.map((source) => source.format)).toEqual(['otlp-traces-json', 'otlp-logs-json']);
  });

  it('users-api: an http entry with method, route, headers and the recorded body', async () => {
    const envelope = await fixture('users-api');
    expect(envelope.entry).toMatchObject({ kind: 'http', method: 'POST', route: '/v1/users', path: '/v1/users' });
    if (envelope.entry.kind !== 'http') throw new Error('expected http');
    expect(envelope.entry.headers['content-type']).toBe('application/json');
    expect(envelope.entry.body).toMatchObject({ preferences: { newsletter: true } });
    expect((envelope.entry.body as { preferences: Record<string, unknown> }).preferences).not.toHaveProperty('marketing');
    // The ungated envelope still holds the raw values: only the privacy gate may release it.
    expect(envelope.entry.headers.authorization).toMatch(/^Bearer sk_live_/);
  });

  it('leaderboard: a function entry with its recorded arguments', async () => {
    const envelope = await fixture('leaderboard');
    expect(envelope.entry).toMatchObject({ kind: 'function', module: 'src/leaderboard.ts', export: 'topUsers' });
    if (envelope.entry.kind !== 'function') throw new Error('expected function');
    expect(envelope.entry.args[1]).toBe(10);
    expect(envelope.provenance.notes.some((note) => note.includes('not an HTTP call'))).toBe(true);
  });

  it('checkout-worker: a message entry, the feature flag and the downstream calls in call order', async () => {
    const envelope = await fixture('checkout-worker');
    expect(envelope.entry).toMatchObject({ kind: 'message', module: 'src/handler.ts', export: 'handleOrderMessage', topic: 'orders.created' });
    expect(envelope.environment.featureFlags).toEqual({ newPricing: true });
    expect(envelope.environment.env.INVENTORY_URL).toBe('http://inventory.internal:8080');
    expect(envelope.downstream.map((call) => [call.method, call.urlTemplate, call.status])).toEqual([
      ['GET', '/v1/inventory/{sku}', 200],
      ['GET', '/v1/inventory/{sku}', 404],
    ]);
    expect(envelope.downstream[1]?.responseBody).toEqual({ error: 'sku_not_found', sku: 'DESK-19' });
    expect(envelope.spans.find((span) => span.spanId === envelope.identity.spanId)?.status.code).toBe('error');
  });

  it('fingerprints differ between the three bugs and ignore line shifts', async () => {
    const envelopes = await Promise.all(fixtureServiceNames.map(fixture));
    expect(new Set(envelopes.map((e) => e.identity.fingerprint)).size).toBe(3);

    const paths = fixtureAlertPaths('users-api');
    const shifted = (await readFile(paths.traces, 'utf8')).replace(/users\.ts:(\d+):/g, (_m, line: string) => `users.ts:${Number(line) + 7}:`);
    const moved = buildEnvelope({ traces: { source: { alertId: 'c'.repeat(64), format: 'otlp-traces-json', receivedAt }, body: JSON.parse(shifted) as OtlpTraces } });
    expect(moved.identity.fingerprint).toBe(envelopes[0]?.identity.fingerprint);
  });

  it('refuses a trace without an exception event, naming the problem', () => {
    const traces: OtlpTraces = {
      resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'x' } }] }, scopeSpans: [{ spans: [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name: 'ok' }] }] }],
    };
    expect(() => buildEnvelope({ traces: { source: { alertId: 'd'.repeat(64), format: 'otlp-traces-json', receivedAt }, body: traces } })).toThrow(
      /no span in the trace export carries an exception event/,
    );
  });
});
