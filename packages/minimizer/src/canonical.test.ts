import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHash } from './canonical';

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1], c: null } })).toBe('{"a":{"c":null,"d":[3,1]},"b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });

  it('spells values JSON lacks distinctly and refuses functions', () => {
    expect(canonicalJson([undefined, null])).toBe('[undefined,null]');
    expect(canonicalJson(10n)).toBe('10n');
    expect(canonicalJson(Number.NaN)).toBe('NaN');
    expect(() => canonicalJson(() => 1)).toThrow(TypeError);
  });

  it('hashes equal content equally', () => {
    expect(contentHash({ x: [1, 'a'], y: true })).toBe(contentHash({ y: true, x: [1, 'a'] }));
    expect(contentHash({ x: 1 })).toMatch(/^[0-9a-f]{64}$/);
    expect(contentHash('1')).not.toBe(contentHash(1));
  });
});
