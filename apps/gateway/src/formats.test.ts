import { describe, expect, it } from 'vitest';
import { ACCEPTED_FORMATS, bodyEncoding, detectFormat, explicitFormat, mediaTypeOfFormat, namedFormatFor, protobufFormat } from './formats';
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
    expect(explicitFormat(new URLSearchParams('format=otlp-traces-protobuf'))).toBe('otlp-traces-protobuf');
    expect(explicitFormat(new URLSearchParams('format=log-lines'))).toBe('log-lines');
    const mismatched = httpError(() => namedFormatFor(new URLSearchParams('format=log-lines'), 'json'));
    expect(mismatched.status).toBe(415);
    expect(mismatched.message).toContain('application/x-ndjson');
  });
});

describe('bodyEncoding', () => {
  it('reads the encoding from the media type, per route', () => {
    expect(bodyEncoding('application/json', 'alerts')).toBe('json');
    expect(bodyEncoding('application/vnd.api+json', 'alerts')).toBe('json');
    expect(bodyEncoding('application/x-protobuf', 'traces')).toBe('protobuf');
    expect(bodyEncoding('application/protobuf', 'logs')).toBe('protobuf');
    expect(bodyEncoding('application/x-sentry-envelope', 'alerts')).toBe('sentry-envelope');
    expect(bodyEncoding('application/x-ndjson', 'alerts')).toBe('ndjson');
    // Sentry's endpoint reads every body as an envelope, as browser SDKs send text/plain.
    expect(bodyEncoding('text/plain', 'sentry')).toBe('sentry-envelope');
  });

  it('answers 415 naming the media types the route accepts', () => {
    const onAlerts = httpError(() => bodyEncoding('text/plain', 'alerts'));
    expect(onAlerts.status).toBe(415);
    expect(onAlerts.message).toBe(
      'Content-Type must be application/json, or application/x-protobuf (OTLP), or application/x-sentry-envelope, or application/x-ndjson (JSON log lines) on this route, got "text/plain"',
    );
    expect(onAlerts.details).toEqual({ acceptedMediaTypes: ['application/json', 'application/x-protobuf', 'application/x-sentry-envelope', 'application/x-ndjson'] });
    expect(httpError(() => bodyEncoding('application/x-ndjson', 'logs')).status).toBe(415);
    expect(httpError(() => bodyEncoding('application/x-sentry-envelope', 'traces')).message).toContain('application/json, or application/x-protobuf (OTLP) on this route');
    expect(httpError(() => bodyEncoding(undefined, 'logs')).message).toContain('got none');
  });
});

describe('protobufFormat', () => {
  it('takes the export from the OTLP path, or from ?format= on /v1/alerts', () => {
    expect(protobufFormat('traces', new URLSearchParams())).toBe('otlp-traces-protobuf');
    expect(protobufFormat('logs', new URLSearchParams())).toBe('otlp-logs-protobuf');
    expect(protobufFormat('alerts', new URLSearchParams('format=otlp-logs-protobuf'))).toBe('otlp-logs-protobuf');
  });

  it('refuses a protobuf body whose export is not named, or named against the path or the encoding', () => {
    const unnamed = httpError(() => protobufFormat('alerts', new URLSearchParams()));
    expect(unnamed.status).toBe(400);
    expect(unnamed.message).toContain('?format=otlp-traces-protobuf or ?format=otlp-logs-protobuf');
    expect(httpError(() => protobufFormat('traces', new URLSearchParams('format=otlp-logs-protobuf'))).message).toBe('format otlp-logs-protobuf does not match the route /v1/traces, which takes otlp-traces-protobuf');
    const wrongEncoding = httpError(() => protobufFormat('alerts', new URLSearchParams('format=otlp-traces-json')));
    expect(wrongEncoding.status).toBe(415);
    expect(wrongEncoding.message).toBe('format otlp-traces-json is sent as application/json, but the body is application/x-protobuf (OTLP)');
  });
});

describe('mediaTypeOfFormat', () => {
  it('gives a Content-Type /v1/alerts takes each format with', () => {
    for (const format of ACCEPTED_FORMATS) {
      const encoding = bodyEncoding(mediaTypeOfFormat(format), 'alerts');
      expect(namedFormatFor(new URLSearchParams({ format }), encoding), format).toBe(format);
    }
    expect(mediaTypeOfFormat('log-lines')).toBe('application/x-ndjson');
    expect(mediaTypeOfFormat('sentry-envelope')).toBe('application/x-sentry-envelope');
  });
});
