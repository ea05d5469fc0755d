import { describe, expect, it } from 'vitest';
import type { LocalizeInput } from '@tracemend/contracts';
import { createLogger } from '@tracemend/telemetry';
import { createLocalizationActivities, type CollectedRuns } from './activities';

const source = ['function tierFor(tiers, seats) {', '  const index = tiers.findIndex((tier) => seats <= tier.upTo);', '  return tiers[index];', '}', 'function price(plan, seats) {', '  const tier = tierFor(plan.tiers, seats);', '  return tier.unitCents * seats;', '}', ''].join('\n');
const file = 'src/pricing.js';
const lines = (...numbers: number[]) => new Set(numbers.map((line) => `${file}:${line}`));

function localizeWith(collected: CollectedRuns) {
  const { localize } = createLocalizationActivities({ collectRuns: () => Promise.resolve(collected), logger: createLogger({ name: 'localize-test', level: 'silent' }) });
  // The stage reads nothing of its input beyond handing it to collectRuns.
  return localize({} as LocalizeInput);
}

describe('the localize stage', () => {
  const runs = [
    { failed: true, lines: lines(1, 2, 3, 5, 6, 7) },
    { failed: false, lines: lines(5, 6) },
  ];
  const frames = [{ file, line: 7, function: 'price' }];

  it('names a suspect off the stack by the innermost function the coverage reported around it', async () => {
    const localization = await localizeWith({ runs, frames, sources: new Map([[file, source]]), functions: [{ file, name: 'price', startLine: 5, endLine: 8 }, { file, name: 'tierFor', startLine: 1, endLine: 4 }] });
    expect(localization.suspects.find((suspect) => suspect.line === 2)?.function).toBe('tierFor');
    expect(localization.suspects.find((suspect) => suspect.line === 7)?.function).toBe('price');
  });

  it('leaves it unnamed without function spans', async () => {
    const localization = await localizeWith({ runs, frames, sources: new Map([[file, source]]) });
    expect(localization.suspects.find((suspect) => suspect.line === 2)?.function).toBeUndefined();
  });
});
