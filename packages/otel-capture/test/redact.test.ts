import { describe, expect, it } from 'vitest';
import { defaultRedactor, redactText, REDACTED } from '../src/index';
import { resolveCaptureOptions } from '../src/options';
import { formatOfContentType, renderText, renderValue } from '../src/payload';
import { redactValue } from '../src/redact';

const options = resolveCaptureOptions();

describe('defaultRedactor', () => {
  it('masks values under credential-like keys at any depth and keeps the rest', () => {
    const value = { user: { name: 'Ada', Password: 'p', apiKey: 'k', 'x-api-key': 'k2' }, headers: { Authorization: 'Bearer t', cookie: 'c=1' }, tokens: ['a', 'b'], count: 2 };
    expect(redactValue(value, 'http.request.body', defaultRedactor)).toEqual({
      user: { name: 'Ada', Password: REDACTED, apiKey: REDACTED, 'x-api-key': REDACTED },
      headers: { Authorization: REDACTED, cookie: REDACTED },
      tokens: REDACTED,
      count: 2,
    });
  });

  it('masks key/value pairs and bearer credentials in text it cannot parse', () => {
    expect(redactText('{"client_secret":"abc\\"def","name":"x","refresh_token":"cut-off')).toBe('{"client_secret":"[REDACTED]","name":"x","refresh_token":"[REDACTED]"');
    expect(redactText('{"pin":1,"pinToken": 123456,"n":2')).toBe('{"pin":1,"pinToken": "[REDACTED]","n":2');
    expect(redactText('a=1&password=hunter2&b=2')).toBe('a=1&password=[REDACTED]&b=2');
    expect(redactText('Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig')).toBe('Authorization: Bearer [REDACTED]');
  });
});

describe('rendering payloads', () => {
  it('redacts a truncated JSON body as text, since it cannot be parsed', () => {
    const rendered = renderText('{"password":"hunter2","items":[1,2,', 'json', false, 'http.request.body', options);
    expect(rendered).toEqual({ content: '{"password":"[REDACTED]","items":[1,2,', truncated: true });
  });

  it('keeps a body that claims JSON but is not, as text', () => {
    expect(renderText("{'a': 1}", 'json', true, 'http.request.body', options)).toEqual({ content: "{'a': 1}", truncated: false });
  });

  it('cuts on a character boundary, never leaving half a multi-byte character', () => {
    const rendered = renderValue('ééééé', 'messaging.message.body', resolveCaptureOptions({ maxBytes: 5 }));
    expect(rendered).toEqual({ content: 'éé', truncated: true });
  });

  it('drops the payload when the redactor returns undefined for it', () => {
    expect(renderValue({ a: 1 }, 'faas.event', resolveCaptureOptions({ redact: () => undefined }))).toBeUndefined();
  });
});

describe('formatOfContentType', () => {
  it('records JSON (vendor and AWS SDK flavours included), form and text, and nothing binary', () => {
    const cases: [string | undefined, string | undefined][] = [
      ['application/json; charset=utf-8', 'json'],
      ['application/problem+json', 'json'],
      ['application/vnd.api+json', 'json'],
      ['application/x-amz-json-1.0', 'json'],
      ['application/x-www-form-urlencoded', 'form'],
      ['text/plain', 'text'],
      ['application/xml', 'text'],
      ['application/octet-stream', undefined],
      ['multipart/form-data; boundary=x', undefined],
      ['application/jsonp', undefined],
      [undefined, undefined],
    ];
    for (const [contentType, format] of cases) expect([contentType, formatOfContentType(contentType)]).toEqual([contentType, format]);
  });
});

describe('options', () => {
  it('rejects a maxBytes that would record nothing, saying what to pass', () => {
    expect(() => resolveCaptureOptions({ maxBytes: 0 })).toThrow(/maxBytes must be a positive integer.*omit it for the 16 KiB default/);
    expect(() => resolveCaptureOptions({ redact: 'yes' as never })).toThrow(/redact must be a function/);
  });
});
