import { readFile } from 'node:fs/promises';
import { fixtureAlertPaths } from '@tracemend/fixture-kit';
import { describe, expect, it } from 'vitest';
import { buildEnvelope } from './envelope';
import type { OtlpTraces } from './otlp';
import { revisionOf } from './revision';
import { buildEnvelopeFromSentryEvent } from './sentry';

const receivedAt = '2026-11-20T12:00:00.000Z';

describe('the commit a service reports besides its version', () => {
  it('reads vcs.* and git resource attributes, most specific first, and ignores what is not a SHA', () => {
    const read = (attributes: Record<string, unknown>) => revisionOf((key) => attributes[key]);
    expect(read({ 'vcs.ref.head.revision': 'ABCDEF1234567', 'git.commit.sha': '1111111' })).toBe('abcdef1234567');
    expect(read({ 'vcs.repository.ref.revision': '2222222', 'git.commit.sha': '1111111' })).toBe('2222222');
    expect(read({ 'git.commit.sha': 'main' })).toBeUndefined();
    expect(read({ 'vcs.ref.head.revision': 42 })).toBeUndefined();
  });

  it('fills identity.revision from the resource of the failing span in a real export', async () => {
    const traces = JSON.parse(await readFile(fixtureAlertPaths('users-api').traces, 'utf8')) as OtlpTraces;
    const build = () => buildEnvelope({ traces: { source: { alertId: 'a'.repeat(64), format: 'otlp-traces-json', receivedAt }, body: traces } });
    expect(build().identity.revision).toBeUndefined();
    for (const resourceSpans of traces.resourceSpans ?? []) {
      resourceSpans.resource?.attributes?.push({ key: 'vcs.ref.head.revision', value: { stringValue: '4f9cbcb0ae4c' } });
    }
    expect(build().identity).toMatchObject({ revision: '4f9cbcb0ae4c' });
  });

  it('fills identity.revision from a Sentry commit tag', () => {
    const event = {
      event_id: '9f2c1d7e4b5a4c3d8e6f1a2b3c4d5e6f',
      release: 'users-api@1.4.2',
      tags: { commit: '4f9cbcb', 'service.name': 'users-api' },
      request: { method: 'POST', url: 'http://users.internal/v1/users', data: { name: 'a' } },
      exception: { values: [{ type: 'TypeError', value: 'x', stacktrace: { frames: [{ abs_path: '/srv/app/src/app.ts', function: 'f', lineno: 1 }] } }] },
    };
    const envelope = buildEnvelopeFromSentryEvent(event, { alertId: 'c'.repeat(64), format: 'sentry-event', receivedAt });
    expect(envelope.identity).toMatchObject({ service: 'users-api', version: '1.4.2', revision: '4f9cbcb' });
  });
});
