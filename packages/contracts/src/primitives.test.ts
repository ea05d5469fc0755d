import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { runContractCases } from './contract-cases';
import { primitivesCases } from './primitives.cases';
import { LIMITS, SCHEMA_VERSION, boundedJson, boundedRecord, boundedString, utf8ByteLength } from './primitives';
import { z } from 'zod';

runContractCases(primitivesCases);

describe('boundedString', () => {
  it('defaults to the short-text bound', () => {
    expect(boundedString().safeParse('a'.repeat(LIMITS.shortText)).success).toBe(true);
    expect(boundedString().safeParse('a'.repeat(LIMITS.shortText + 1)).success).toBe(false);
  });

  it('takes its bound from the argument', () => {
    expect(boundedString(3).safeParse('abc').success).toBe(true);
    expect(boundedString(3).safeParse('abcd').success).toBe(false);
  });
});

describe('boundedRecord', () => {
  it('counts entries against its bound', () => {
    const schema = boundedRecord(z.number(), 2);
    expect(schema.safeParse({ a: 1, b: 2 }).success).toBe(true);
    expect(schema.safeParse({ a: 1, b: 2, c: 3 }).error?.issues[0]?.message).toBe('expected at most 2 entries');
  });

  it('bounds key length', () => {
    const schema = boundedRecord(z.number());
    expect(schema.safeParse({ ['k'.repeat(LIMITS.shortText)]: 1 }).success).toBe(true);
    expect(schema.safeParse({ ['k'.repeat(LIMITS.shortText + 1)]: 1 }).success).toBe(false);
  });
});

describe('boundedJson', () => {
  it('accepts JSON up to the byte bound, counting UTF-8 bytes', () => {
    const schema = boundedJson(12);
    // JSON.stringify('éééééé') is 8 characters but 14 bytes.
    expect(schema.safeParse('abcdefghij').success).toBe(true);
    expect(schema.safeParse('abcdefghijk').success).toBe(false);
    expect(schema.safeParse('éééééé').error?.issues[0]?.message).toBe('expected at most 12 bytes of JSON');
  });

  it('rejects values that are not JSON', () => {
    const schema = boundedJson();
    expect(schema.safeParse({ when: new Date(0) }).success).toBe(false);
    expect(schema.safeParse({ missing: undefined }).success).toBe(false);
    expect(schema.safeParse(Number.NaN).success).toBe(false);
    expect(schema.safeParse({ list: [1, 'two', null, { three: true }] }).success).toBe(true);
  });
});

describe('utf8ByteLength', () => {
  it('agrees with Buffer.byteLength on fixed strings', () => {
    for (const text of ['', 'ascii', 'é', '€', '😀', 'a😀b€é', '\ud800', '\udc00', '\ud800é', '\ud800\ud800\udc00', 'x\ud83d']) {
      expect(utf8ByteLength(text), JSON.stringify(text)).toBe(Buffer.byteLength(text, 'utf8'));
    }
  });

  it('agrees with Buffer.byteLength on random UTF-16 strings, lone surrogates included', () => {
    // A fixed-seed LCG keeps the run repeatable.
    let seed = 0x2f6b;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    const ranges = [0x7f, 0x7ff, 0xd7ff, 0xdfff, 0xffff];
    for (let round = 0; round < 500; round++) {
      const codes = Array.from({ length: next() % 40 }, () => next() % ((ranges[next() % ranges.length] ?? 0x7f) + 1));
      const text = String.fromCharCode(...codes);
      expect(utf8ByteLength(text), JSON.stringify(text)).toBe(Buffer.byteLength(text, 'utf8'));
    }
  });
});

describe('LIMITS and SCHEMA_VERSION', () => {
  it('are positive integers', () => {
    for (const [name, limit] of Object.entries(LIMITS)) expect(Number.isInteger(limit) && limit > 0, name).toBe(true);
    expect(SCHEMA_VERSION).toBe(1);
  });
});
