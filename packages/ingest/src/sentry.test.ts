import { readFile } from 'node:fs/promises';
import { TracemendError } from '@tracemend/contracts';
import { fixtureAlertPaths } from '@tracemend/fixture-kit';
import { describe, expect, it } from 'vitest';
import { buildEnvelope } from './envelope';
import { fingerprint } from './fingerprint';
import type { OtlpTraces } from './otlp';
import { buildEnvelopeFromSentryEvent, isSentryEvent } from './sentry';

const source = { alertId: 'c'.repeat(64), format: 'sentry-event' as const, receivedAt: '2026-11-20T12:00:05.000Z' };

/** What @sentry/node sends for the users-api crash: frames oldest first, node internals and express marked not in-app. */
function usersApiEvent(): Record<string, unknown> {
  return {
    event_id: '9f2c1d7e4b5a4c3d8e6f1a2b3c4d5e6f',
    timestamp: 1_795_176_000.123,
    platform: 'node',
    level: 'error',
    server_name: 'users-api-7d9f8b6c5-x2k4q',
    release: 'users-api@4f9cbcb0ae4ccc89df59b14ea6af829e231f18b3',
    environment: 'production',
    transaction: 'POST /v1/users',
    exception: {
      values: [
        {
          type: 'TypeError',
          value: "Cannot read properties of undefined (reading 'push')",
          mechanism: { type: 'onuncaughtexception', handled: false },
          stacktrace: {
            frames: [
              { filename: 'node:internal/process/task_queues', abs_path: 'node:internal/process/task_queues', function: 'process.processTicksAndRejections', lineno: 95, colno: 5, in_app: false },
              { filename: '/srv/app/node_modules/express/lib/router/layer.js', abs_path: '/srv/app/node_modules/express/lib/router/layer.js', function: 'Layer.handle [as handle_request]', lineno: 95, colno: 5, in_app: false },
              { filename: '/srv/app/src/app.ts', abs_path: '/srv/app/src/app.ts', function: 'createUser', lineno: 56, colno: 18, in_app: true },
              { filename: '/srv/app/src/users.ts', abs_path: '/srv/app/src/users.ts', function: 'buildUser', lineno: 74, colno: 18, in_app: true },
              { filename: '/srv/app/src/users.ts', abs_path: '/srv/app/src/users.ts', function: 'normalizePreferences', lineno: 58, colno: 14, in_app: true },
            ],
          },
        },
      ],
    },
    request: {
      method: 'POST',
      url: 'http://api.acme-shop.example/v1/users?invite=spring',
      query_string: 'invite=spring',
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'AcmeShop-iOS/5.12.0 (iPhone15,2; iOS 18.1)', Authorization: 'Bearer sk_live_51NfT8qL2bX9vK3mQ7pR4sW6yZ0aC5dE8' },
      data: '{"name":"Mara Lindqvist","email":"mara.lindqvist@example.com","preferences":{"newsletter":true,"locale":"sv-SE"}}',
    },
    tags: [
      ['service.name', 'users-api'],
      ['http.route', '/v1/users'],
      ['flag.newOnboarding', 'true'],
      ['flag.pricingTier', 'gold'],
    ],
    contexts: {
      trace: { trace_id: 'A61CD2D494C156DB09FB9596E3EC0FA4', span_id: '02f329897ad72d23', op: 'http.server' },
      runtime: { name: 'node', version: 'v20.20.2' },
      culture: { locale: 'sv-SE', timezone: 'Europe/Stockholm' },
      flags: { values: [{ flag: 'strictPreferences', result: false }] },
    },
    breadcrumbs: {
      values: [
        { timestamp: 1_795_176_000.01, category: 'console', level: 'log', message: 'creating user' },
        { timestamp: 1_795_176_000.05, type: 'http', category: 'http', data: { method: 'GET', url: 'http://profiles.internal/v1/defaults', status_code: 200 } },
      ],
    },
    extra: { requestId: '6f1c2d3e-4b5a-4978-8a6b-5c4d3e2f1a0b' },
    sdk: { name: 'sentry.javascript.node', version: '8.40.0' },
  };
}

function thrown(run: () => unknown): TracemendError {
  try {
    run();
  } catch (error) {
    if (error instanceof TracemendError) return error;
    throw error;
  }
  throw new Error('expected a TracemendError');
}

describe('buildEnvelopeFromSentryEvent', () => {
  it('reads the symptom, frames (innermost first) and identity of a users-api crash', () => {
    const envelope = buildEnvelopeFromSentryEvent(usersApiEvent(), source);
    expect(envelope.identity).toMatchObject({
      traceId: 'a61cd2d494c156db09fb9596e3ec0fa4',
      spanId: '02f329897ad72d23',
      service: 'users-api',
      version: '4f9cbcb0ae4ccc89df59b14ea6af829e231f18b3',
      environment: 'production',
      firstSeen: '2026-11-20T12:00:00.123Z',
      occurrences: 1,
    });
    expect(envelope.symptom.errorType).toBe('TypeError');
    expect(envelope.symptom.message).toBe("Cannot read properties of undefined (reading 'push')");
    expect(envelope.symptom.frames.map((frame) => [frame.function, frame.file, frame.line, frame.inApp])).toEqual([
      ['normalizePreferences', 'src/users.ts', 58, true],
      ['buildUser', 'src/users.ts', 74, true],
      ['createUser', 'src/app.ts', 56, true],
      ['Layer.handle [as handle_request]', '/srv/app/node_modules/express/lib/router/layer.js', 95, false],
      ['process.processTicksAndRejections', 'node:internal/process/task_queues', 95, false],
    ]);
    expect(envelope.identity.fingerprint).toBe(fingerprint('users-api', 'TypeError', envelope.symptom.frames));
    expect(envelope.provenance.sources).toEqual([{ ...source, items: 1 }]);
  });

  it('fingerprints the crash the same as the recorded OTLP trace of it', async () => {
    const traces = JSON.parse(await readFile(fixtureAlertPaths('users-api').traces, 'utf8')) as OtlpTraces;
    const fromOtlp = buildEnvelope({ traces: { source: { ...source, format: 'otlp-traces-json' }, body: traces } });
    expect(buildEnvelopeFromSentryEvent(usersApiEvent(), source).identity.fingerprint).toBe(fromOtlp.identity.fingerprint);
  });

  it('drives the failure with the recorded request: route, query, headers, parsed body', () => {
    const envelope = buildEnvelopeFromSentryEvent(usersApiEvent(), source);
    expect(envelope.entry).toEqual({
      kind: 'http',
      method: 'POST',
      route: '/v1/users',
      path: '/v1/users',
      query: { invite: 'spring' },
      headers: { 'content-type': 'application/json', 'user-agent': 'AcmeShop-iOS/5.12.0 (iPhone15,2; iOS 18.1)', authorization: 'Bearer sk_live_51NfT8qL2bX9vK3mQ7pR4sW6yZ0aC5dE8' },
      body: { name: 'Mara Lindqvist', email: 'mara.lindqvist@example.com', preferences: { newsletter: true, locale: 'sv-SE' } },
    });
  });

  it('keeps flags, runtime, culture, downstream calls and console breadcrumbs', () => {
    const envelope = buildEnvelopeFromSentryEvent(usersApiEvent(), source);
    expect(envelope.environment).toEqual({
      featureFlags: { newOnboarding: true, pricingTier: 'gold', strictPreferences: false },
      env: {},
      locale: 'sv-SE',
      timezone: 'Europe/Stockholm',
      runtime: { name: 'node', version: '20.20.2' },
    });
    expect(envelope.timing.recordedAt).toBe('2026-11-20T12:00:00.123Z');
    expect(envelope.downstream).toEqual([{ method: 'GET', urlTemplate: '/v1/defaults', url: 'http://profiles.internal/v1/defaults', status: 200, responseHeaders: {} }]);
    expect(envelope.logs).toEqual([
      { timestamp: '2026-11-20T12:00:00.010Z', severity: 'info', body: 'creating user', traceId: 'a61cd2d494c156db09fb9596e3ec0fa4', attributes: { category: 'console' } },
    ]);
    expect(envelope.provenance.notes).toContain('no response body was recorded for GET /v1/defaults');
  });

  it('takes the route from the transaction when no http.route tag is set, and headers given as pairs', () => {
    const event = usersApiEvent();
    event.tags = { 'service.name': 'users-api' };
    (event.request as Record<string, unknown>).headers = [['X-Request-Id', 'abc']];
    const envelope = buildEnvelopeFromSentryEvent(event, source);
    expect(envelope.entry).toMatchObject({ kind: 'http', route: '/v1/users', headers: { 'x-request-id': 'abc' } });
    expect(envelope.environment.featureFlags).toEqual({ strictPreferences: false });
  });

  it('uses the extra tracemend.input for function and message entries', () => {
    const fn = usersApiEvent();
    delete fn.request;
    fn.extra = { 'tracemend.input': { kind: 'function', module: 'src/leaderboard.ts', export: 'topUsers', args: '[10]', env: { LEADERBOARD_TTL: 30 } } };
    const fnEnvelope = buildEnvelopeFromSentryEvent(fn, source);
    expect(fnEnvelope.entry).toEqual({ kind: 'function', module: 'src/leaderboard.ts', export: 'topUsers', args: [10] });
    expect(fnEnvelope.environment.env).toEqual({ LEADERBOARD_TTL: '30' });

    const message = usersApiEvent();
    message.extra = { 'tracemend.input': { kind: 'message', module: 'src/handler.ts', export: 'handleOrderMessage', topic: 'orders.created', payload: { orderId: 'o-1' } } };
    expect(buildEnvelopeFromSentryEvent(message, source).entry).toEqual({
      kind: 'message',
      module: 'src/handler.ts',
      export: 'handleOrderMessage',
      topic: 'orders.created',
      payload: { orderId: 'o-1' },
    });
  });

  it('maps RewriteFrames paths (app:///) into the repository and the service from the release', () => {
    const event = usersApiEvent();
    delete event.tags;
    const values = (event.exception as { values: { stacktrace: { frames: Record<string, unknown>[] } }[] }).values;
    for (const frame of values[0]?.stacktrace.frames ?? []) {
      if (typeof frame.abs_path === 'string' && frame.abs_path.startsWith('/srv/app/src/')) {
        frame.abs_path = frame.abs_path.replace('/srv/app/', 'app:///');
        frame.filename = frame.abs_path;
        delete frame.in_app;
      }
    }
    const envelope = buildEnvelopeFromSentryEvent(event, source);
    expect(envelope.identity.service).toBe('users-api');
    expect(envelope.symptom.frames.slice(0, 3).map((frame) => [frame.file, frame.inApp])).toEqual([
      ['src/users.ts', true],
      ['src/users.ts', true],
      ['src/app.ts', true],
    ]);
  });

  it('takes the outermost exception of a chain as the symptom', () => {
    const event = usersApiEvent();
    const values = (event.exception as { values: Record<string, unknown>[] }).values;
    values.unshift({ type: 'RangeError', value: 'inner cause' });
    expect(buildEnvelopeFromSentryEvent(event, source).symptom.errorType).toBe('TypeError');
  });

  it('fails with INVALID_INPUT naming the path of a malformed field', () => {
    const event = usersApiEvent();
    const values = (event.exception as { values: { stacktrace: { frames: Record<string, unknown>[] } }[] }).values;
    const frame = values[0]?.stacktrace.frames[2];
    if (frame) frame.lineno = 'fifty-six';
    const error = thrown(() => buildEnvelopeFromSentryEvent(event, source));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain('exception.values[0].stacktrace.frames[2].lineno');

    const badTrace = usersApiEvent();
    (badTrace.contexts as Record<string, unknown>).trace = { trace_id: 'not-a-trace' };
    expect(thrown(() => buildEnvelopeFromSentryEvent(badTrace, source)).message).toContain('contexts.trace.trace_id: expected a hex trace id');
  });

  it('fails with NO_FAILURE_IN_ALERT for an event without an exception, INVALID_INPUT without a way to drive it', () => {
    const error = thrown(() => buildEnvelopeFromSentryEvent({ event_id: 'e'.repeat(32), message: 'disk almost full', level: 'warning' }, source));
    expect(error.code).toBe('NO_FAILURE_IN_ALERT');
    const noRequest = usersApiEvent();
    delete noRequest.request;
    const entryError = thrown(() => buildEnvelopeFromSentryEvent(noRequest, source));
    expect(entryError.code).toBe('INVALID_INPUT');
    expect(entryError.message).toContain('tracemend.input');
  });
});

describe('isSentryEvent', () => {
  it('recognises exception lists and event ids, not OTLP or Alertmanager bodies', () => {
    expect(isSentryEvent(usersApiEvent())).toBe(true);
    expect(isSentryEvent({ event_id: 'e'.repeat(32), message: 'x' })).toBe(true);
    expect(isSentryEvent({ resourceSpans: [] })).toBe(false);
    expect(isSentryEvent({ version: '4', alerts: [] })).toBe(false);
    expect(isSentryEvent([1])).toBe(false);
  });
});
