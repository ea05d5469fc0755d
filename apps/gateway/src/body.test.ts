import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BODY_LIMITS, checkBodyStructure, decodeUtf8, invalidUtf8Offset, jsonErrorOffset, parseJsonBody } from './body';
import { HttpError } from './http';

function refusal(run: () => unknown): HttpError {
  try {
    run();
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('invalidUtf8Offset and decodeUtf8', () => {
  it('finds the first byte of a malformed sequence', () => {
    expect(invalidUtf8Offset(Buffer.from('{"a":"é€😀"}'))).toBe(-1);
    expect(invalidUtf8Offset(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]))).toBe(2);
    expect(invalidUtf8Offset(Buffer.from([0x61, 0xc3]))).toBe(1); // truncated two-byte sequence
    expect(invalidUtf8Offset(Buffer.from([0xc0, 0xaf]))).toBe(0); // overlong '/'
    expect(invalidUtf8Offset(Buffer.from([0x61, 0xed, 0xa0, 0x80]))).toBe(1); // UTF-16 surrogate
    expect(invalidUtf8Offset(Buffer.from([0xf4, 0x90, 0x80, 0x80]))).toBe(0); // above U+10FFFF
  });

  it('agrees with the platform decoder on random bytes', () => {
    const strict = new TextDecoder('utf-8', { fatal: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        let valid = true;
        try {
          strict.decode(bytes);
        } catch {
          valid = false;
        }
        expect(invalidUtf8Offset(bytes) === -1).toBe(valid);
      }),
      { numRuns: 2_000 },
    );
  });

  it('refuses invalid UTF-8 with 400 INVALID_UTF8 naming the byte', () => {
    const error = refusal(() => decodeUtf8(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xfe, 0x7d])));
    expect([error.status, error.code, error.details]).toEqual([400, 'INVALID_UTF8', { offset: 5 }]);
    expect(error.message).toBe('the body is not valid UTF-8: byte 5 (0xfe) starts no well-formed sequence; JSON bodies must be UTF-8');
    expect(decodeUtf8(Buffer.from('\uFEFF{"a":1}'))).toBe('{"a":1}');
  });
});

describe('jsonErrorOffset and parseJsonBody', () => {
  it('points at the first character JSON cannot continue with', () => {
    expect(jsonErrorOffset('{"a": [1, 2]}')).toBe(-1);
    expect(jsonErrorOffset('{"resourceSpans": [}')).toBe(19);
    expect(jsonErrorOffset('{"a": 1,}')).toBe(8);
    expect(jsonErrorOffset('{"a" 1}')).toBe(5);
    expect(jsonErrorOffset('[1, 2] x')).toBe(7);
    expect(jsonErrorOffset('{"a": tru }')).toBe(9);
    expect(jsonErrorOffset('{"a": 01}')).toBe(7);
    expect(jsonErrorOffset('"a\\x"')).toBe(2);
    expect(jsonErrorOffset('{"resourceSpans": [{"scopeSpans": [')).toBe(35);
    expect(jsonErrorOffset('')).toBe(0);
  });

  it('finds an error exactly when JSON.parse does', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string(), fc.json().map((text) => text.slice(0, -1))), (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        expect(jsonErrorOffset(text) === -1).toBe(valid);
      }),
      { numRuns: 2_000 },
    );
  });

  it('names the position, line and column, and says when the body was cut off', () => {
    const truncated = refusal(() => parseJsonBody('{\n  "resourceSpans": [\n    {"scopeSpans": '));
    expect([truncated.status, truncated.code, truncated.details]).toEqual([400, 'INVALID_JSON', { position: 42, line: 3, column: 20 }]);
    expect(truncated.message).toBe(
      'the body is not valid JSON: Unexpected end of JSON input at position 42 (line 3, column 20): the body ends before the JSON does; was it cut off?',
    );
    const stray = refusal(() => parseJsonBody('{"a": [}'));
    expect(stray.message).toMatch(/^the body is not valid JSON: .+ at position 7 \(line 1, column 8\)$/);
  });
});

describe('checkBodyStructure', () => {
  const nested = (depth: number): unknown => JSON.parse('['.repeat(depth) + ']'.repeat(depth));

  it('accepts up to the depth limit and refuses one level more, naming depth and path', () => {
    expect(() => checkBodyStructure(nested(DEFAULT_BODY_LIMITS.maxDepth))).not.toThrow();
    const error = refusal(() => checkBodyStructure({ a: { b: nested(DEFAULT_BODY_LIMITS.maxDepth) } }));
    expect([error.status, error.code, error.details.limit]).toEqual([422, 'JSON_TOO_DEEP', 64]);
    expect(error.message).toContain('deeper than 64 levels (at $.a.b[0]');
  });

  it('walks 10,000 levels without recursion', () => {
    const error = refusal(() => checkBodyStructure(nested(10_000)));
    expect(error.code).toBe('JSON_TOO_DEEP');
    expect(() => checkBodyStructure(nested(10_000), { ...DEFAULT_BODY_LIMITS, maxDepth: 20_000 })).not.toThrow();
  });

  it('counts OTLP attributes over the whole export, kvlist values included', () => {
    const attributes = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: { intValue: i } }));
    const limits = { ...DEFAULT_BODY_LIMITS, maxAttributes: 10 };
    const body = (spanAttributes: number, kvlist: number) => ({
      resourceSpans: [{ resource: { attributes: attributes(3) }, scopeSpans: [{ spans: [{ attributes: [...attributes(spanAttributes), { key: 'map', value: { kvlistValue: { values: attributes(kvlist) } } }] }] }] }],
    });
    expect(() => checkBodyStructure(body(3, 3), limits)).not.toThrow();
    const error = refusal(() => checkBodyStructure(body(3, 4), limits));
    expect([error.status, error.code]).toEqual([413, 'TOO_MANY_ATTRIBUTES']);
    expect(error.message).toBe(
      'the body carries more than 10 attributes (passed at $.resourceSpans[0].scopeSpans[0].spans[0].attributes[3].value.kvlistValue.values); the limit is 10 attributes per export',
    );
  });

  it('refuses an object with too many keys', () => {
    const wide = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, i]));
    const error = refusal(() => checkBodyStructure({ extra: wide }, { ...DEFAULT_BODY_LIMITS, maxKeysPerObject: 10 }));
    expect([error.status, error.code, error.message]).toEqual([413, 'TOO_MANY_KEYS', 'the object at $.extra has 11 keys; the limit is 10 keys per object']);
  });

  it('refuses __proto__ as a key or an attribute name, and lets constructor through', () => {
    const key = refusal(() => checkBodyStructure(JSON.parse('{"tags": {"__proto__": {"polluted": 1}}}')));
    expect([key.status, key.code, key.message]).toEqual([422, 'FORBIDDEN_KEY', 'the body uses "__proto__" as a key (at $.tags); such keys are refused']);
    const attribute = refusal(() => checkBodyStructure({ attributes: [{ key: '__proto__', value: { stringValue: 'x' } }] }));
    expect(attribute.message).toBe('the body uses "__proto__" as an attribute name (at $.attributes[0].key); such keys are refused');
    expect(() => checkBodyStructure(JSON.parse('{"constructor": {"prototype": {"polluted": 1}}}'))).not.toThrow();
  });
});
