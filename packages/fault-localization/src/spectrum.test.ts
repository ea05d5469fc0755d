import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeSpectra, dstar, ochiai, suspiciousness, tarantula, type Run } from './spectrum';

// Two failing runs, three passing runs over four lines:
//   a.js:1 only in failing runs; a.js:2 in every run; a.js:3 in F1 and P1; a.js:4 only in P2.
const runs: Run[] = [
  { failed: true, lines: ['a.js:1', 'a.js:2', 'a.js:3'] },
  { failed: true, lines: ['a.js:1', 'a.js:2'] },
  { failed: false, lines: ['a.js:2', 'a.js:3'] },
  { failed: false, lines: ['a.js:2', 'a.js:4'] },
  { failed: false, lines: ['a.js:2'] },
];

describe('computeSpectra', () => {
  it('counts ef, ep, nf, np per executed line', () => {
    const spectra = computeSpectra(runs);
    expect(spectra.get('a.js:1')).toEqual({ ef: 2, ep: 0, nf: 0, np: 3 });
    expect(spectra.get('a.js:2')).toEqual({ ef: 2, ep: 3, nf: 0, np: 0 });
    expect(spectra.get('a.js:3')).toEqual({ ef: 1, ep: 1, nf: 1, np: 2 });
    expect(spectra.get('a.js:4')).toEqual({ ef: 0, ep: 1, nf: 2, np: 2 });
    expect(spectra.size).toBe(4);
  });

  it('counts a line listed twice in one run once', () => {
    expect(computeSpectra([{ failed: true, lines: ['x:1', 'x:1'] }]).get('x:1')).toEqual({ ef: 1, ep: 0, nf: 0, np: 0 });
  });

  it('is empty without runs', () => {
    expect(computeSpectra([]).size).toBe(0);
  });
});

describe('formulas', () => {
  it('match hand-computed Ochiai values', () => {
    expect(ochiai({ ef: 2, ep: 0, nf: 0, np: 3 })).toBe(1);
    expect(ochiai({ ef: 2, ep: 3, nf: 0, np: 0 })).toBeCloseTo(2 / Math.sqrt(10), 12); // 0.632455532
    expect(ochiai({ ef: 1, ep: 1, nf: 1, np: 2 })).toBeCloseTo(0.5, 12);
    expect(ochiai({ ef: 0, ep: 1, nf: 2, np: 2 })).toBe(0);
    expect(ochiai({ ef: 0, ep: 0, nf: 0, np: 0 })).toBe(0);
  });

  it('match hand-computed Tarantula values', () => {
    expect(tarantula({ ef: 2, ep: 0, nf: 0, np: 3 })).toBe(1);
    expect(tarantula({ ef: 2, ep: 3, nf: 0, np: 0 })).toBeCloseTo(0.5, 12);
    // (1/2) / (1/2 + 1/3) = 0.6
    expect(tarantula({ ef: 1, ep: 1, nf: 1, np: 2 })).toBeCloseTo(0.6, 12);
    expect(tarantula({ ef: 0, ep: 1, nf: 2, np: 2 })).toBe(0);
    // No passing runs at all: the passed ratio is 0.
    expect(tarantula({ ef: 1, ep: 0, nf: 1, np: 0 })).toBe(1);
  });

  it('match hand-computed DStar values, finite when the denominator is 0', () => {
    expect(dstar({ ef: 2, ep: 3, nf: 0, np: 0 })).toBeCloseTo(4 / 3, 12);
    expect(dstar({ ef: 1, ep: 1, nf: 1, np: 2 })).toBeCloseTo(0.5, 12);
    expect(dstar({ ef: 2, ep: 0, nf: 0, np: 3 })).toBe(8);
    expect(dstar({ ef: 3, ep: 1, nf: 1, np: 0 }, 3)).toBeCloseTo(27 / 2, 12);
    expect(dstar({ ef: 0, ep: 0, nf: 2, np: 0 })).toBe(0);
  });

  it('rank the three lines differently by formula', () => {
    const spectra = [...computeSpectra(runs)].filter(([, spectrum]) => spectrum.ef > 0);
    const order = (formula: 'ochiai' | 'tarantula' | 'dstar') =>
      [...spectra].sort((a, b) => suspiciousness(formula, b[1]) - suspiciousness(formula, a[1])).map(([key]) => key);
    expect(order('ochiai')).toEqual(['a.js:1', 'a.js:2', 'a.js:3']);
    expect(order('tarantula')).toEqual(['a.js:1', 'a.js:3', 'a.js:2']);
    expect(order('dstar')).toEqual(['a.js:1', 'a.js:2', 'a.js:3']);
  });
});

describe('spectrum properties', () => {
  const runsArb = fc.array(
    fc.record({ failed: fc.boolean(), lines: fc.uniqueArray(fc.integer({ min: 1, max: 12 }).map((line) => `f.ts:${line}`), { maxLength: 12 }) }),
    { maxLength: 20 },
  );

  it('partitions the runs for every line', () => {
    fc.assert(
      fc.property(runsArb, (generated) => {
        const failed = generated.filter((run) => run.failed).length;
        for (const { ef, ep, nf, np } of computeSpectra(generated).values()) {
          expect(ef + nf).toBe(failed);
          expect(ep + np).toBe(generated.length - failed);
          expect(ef + ep).toBeGreaterThan(0);
        }
      }),
    );
  });

  it('keeps Ochiai and Tarantula in [0, 1] and DStar finite and non-negative', () => {
    const spectrumArb = fc
      .record({ ef: fc.nat(1_000), ep: fc.nat(1_000), nf: fc.nat(1_000), np: fc.nat(1_000) })
      .filter((spectrum) => spectrum.ef + spectrum.ep > 0);
    fc.assert(
      fc.property(spectrumArb, (spectrum) => {
        for (const value of [ochiai(spectrum), tarantula(spectrum)]) {
          expect(value).toBeGreaterThanOrEqual(0);
          expect(value).toBeLessThanOrEqual(1);
        }
        expect(Number.isFinite(dstar(spectrum))).toBe(true);
        expect(dstar(spectrum)).toBeGreaterThanOrEqual(0);
        expect(ochiai(spectrum) > 0).toBe(spectrum.ef > 0);
      }),
      { numRuns: 1_000 },
    );
  });

  it('gives 1.0 exactly to lines run by every failing run and no passing run', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.nat(500), (failing, passing) => {
        const spectrum = { ef: failing, ep: 0, nf: 0, np: passing };
        expect(ochiai(spectrum)).toBe(1);
        expect(tarantula(spectrum)).toBe(1);
        expect(dstar(spectrum)).toBeGreaterThan(dstar({ ef: failing, ep: 1, nf: 0, np: passing }));
      }),
    );
  });
});
