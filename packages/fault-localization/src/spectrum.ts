/** One execution: did it fail with the signature, and which `file:line` keys did it run. */
export interface Run {
  failed: boolean;
  lines: Iterable<string>;
}

/**
 * The program spectrum of one line: executed by ef failing and ep passing runs, not executed by nf
 * failing and np passing runs.
 */
export interface Spectrum {
  ef: number;
  ep: number;
  nf: number;
  np: number;
}

/** A suspiciousness formula. */
export type Formula = 'ochiai' | 'tarantula' | 'dstar';

export const FORMULAS: readonly Formula[] = ['ochiai', 'tarantula', 'dstar'];

/** The spectrum of every line executed by at least one run. */
export function computeSpectra(runs: readonly Run[]): Map<string, Spectrum> {
  const totalFailed = runs.filter((run) => run.failed).length;
  const totalPassed = runs.length - totalFailed;
  const executed = new Map<string, { ef: number; ep: number }>();
  for (const run of runs) {
    for (const key of new Set(run.lines)) {
      const counts = executed.get(key) ?? { ef: 0, ep: 0 };
      if (run.failed) counts.ef += 1;
      else counts.ep += 1;
      executed.set(key, counts);
    }
  }
  const spectra = new Map<string, Spectrum>();
  for (const [key, { ef, ep }] of executed) spectra.set(key, { ef, ep, nf: totalFailed - ef, np: totalPassed - ep });
  return spectra;
}

/** Ochiai: ef / sqrt((ef + nf) * (ef + ep)), 0 when either factor is 0. In [0, 1]. */
export function ochiai({ ef, ep, nf }: Spectrum): number {
  const denominator = Math.sqrt((ef + nf) * (ef + ep));
  return denominator === 0 ? 0 : ef / denominator;
}

/**
 * Tarantula: failed ratio / (failed ratio + passed ratio), where failed ratio = ef / (ef + nf) and
 * passed ratio = ep / (ep + np), a ratio over zero runs being 0; 0 when the line ran in no failing
 * run. In [0, 1].
 */
export function tarantula({ ef, ep, nf, np }: Spectrum): number {
  const failedRatio = ef + nf === 0 ? 0 : ef / (ef + nf);
  const passedRatio = ep + np === 0 ? 0 : ep / (ep + np);
  return failedRatio === 0 ? 0 : failedRatio / (failedRatio + passedRatio);
}

/**
 * DStar: ef^star / (ep + nf). A zero denominator (run by every failing run and no passing one) is
 * taken as 1/2: the value stays finite, JSON-safe, and above every line with a non-zero denominator.
 */
export function dstar({ ef, ep, nf }: Spectrum, star = 2): number {
  if (ef === 0) return 0;
  const denominator = ep + nf;
  return ef ** star / (denominator === 0 ? 0.5 : denominator);
}

/** The score of `spectrum` by `formula` (DStar with star 2). */
export function suspiciousness(formula: Formula, spectrum: Spectrum): number {
  switch (formula) {
    case 'ochiai':
      return ochiai(spectrum);
    case 'tarantula':
      return tarantula(spectrum);
    case 'dstar':
      return dstar(spectrum);
    default:
      return assertNever(formula);
  }
}

function assertNever(value: never): never {
  throw new TypeError(`unknown formula: ${String(value)}`);
}
