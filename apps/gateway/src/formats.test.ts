import { describe, expect, it } from 'vitest';
import { detectFormat, explicitFormat } from './formats';
import { HttpError } from './http';

function httpError(run: () => unknown): HttpError {
  try {
    run();
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  throw new Error('expected an HttpError');
}

describe('detectFormat', () => {
  it('tells the accepted formats apart by shape', () => {
    expect(detectFormat({ resourceSpans: [] })).toBe('otlp-traces-json');
    expect(detectFormat({ resourceLogs: [] })).toBe('otlp-logs-json');
    expect(detectFormat({ version: '4', alerts: [], receiver: 'x' })).toBe('alertmanager');
    expect(detectFormat({ exception: { values: [] } })).toBe('sentry-event');
    expect(detectFormat({ event_id: 'e'.repeat(32), platform: 'node' })).toBe('sentry-event');
  });

  it('answers 422 naming the accepted formats for any other shape', () => {
    for (const value of [{}, [], 'text', null, { version: 4, alerts: [] }, { resourceSpans: {} }]) {
      const error = httpError(() => detectFormat(value));
      expect(error.status).toBe(422);
      expect(error.message).toContain('otlp-traces-json, otlp-logs-json, alertmanager, sentry-event');
    }
  });
});

describe('explicitFormat', () => {
  it('reads ?format=, refusing unknown and not-yet-supported formats differently', () => {
    expect(explicitFormat(new URLSearchParams('format=alertmanager'))).toBe('alertmanager');
    expect(explicitFormat(new URLSearchParams(''))).toBeUndefined();
    expect(httpError(() => explicitFormat(new URLSearchParams('format=zipkin'))).status).toBe(400);
    const later = httpError(() => explicitFormat(new URLSearchParams('format=otlp-traces-protobuf')));
    expect(later.status).toBe(415);
    expect(later.message).toContain('not supported yet');
  });
});
