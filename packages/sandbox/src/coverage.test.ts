import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handToSandboxUser, testDriver, testLogger } from '../test/fixtures';
import { lineCoverageOf, type FunctionSpan, type LineCounts } from './coverage';
import { buildBaseImage, sandboxImageTag } from './image/build-base-image';
import { ResidentHarness, type ReplayJob, type ReplayResult, type ScriptCoverage } from './replay';

const runId = `${process.pid}-${Date.now()}`;
const labels = { 'tracemend.incident': `coverage-test-${runId}` };
let root: string;

// The same pricing bug three ways. Line numbers matter: the assertions name them.
const CJS_PRICING = `'use strict';
const pad = require('left-pad');

/* Seat tiers, cheapest last. */
const TIERS = [
  { upTo: 10, price: 12 },
  { upTo: 50, price: 10 },
];

function priceFor(seats) {
  if (seats <= 0) {
    throw new RangeError('seats must be positive');
  }
  const tier = TIERS.find((candidate) => seats <= candidate.upTo);
  // A tier is missing above 50 seats.
  return pad(String(seats * tier.price), 6);
}

module.exports = { priceFor };
`;

const LEFT_PAD = `module.exports = function pad(text, width) {
  return text.length >= width ? text : ' '.repeat(width - text.length) + text;
};
`;

const ESM_PRICING = `import { TIERS } from './tiers.js';

export function priceFor(seats) {
  if (seats <= 0) {
    throw new RangeError('seats must be positive');
  }

  const tier = TIERS.find((candidate) => seats <= candidate.upTo);
  return seats * tier.price;
}
`;

const ESM_TIERS = `export const TIERS = [
  { upTo: 10, price: 12 },
  { upTo: 50, price: 10 },
];
`;

const TS_PRICING = `interface Tier {
  upTo: number;
  price: number;
  freeSeats: number;
}

const TIERS: Tier[] = [
  { upTo: 10, price: 12, freeSeats: 0 },
  { upTo: 50, price: 10, freeSeats: 1 },
];

export function priceFor(seats: number): number {
  if (seats <= 0) {
    throw new RangeError('seats must be positive');
  }
  const tier = TIERS.find((candidate) => seats <= candidate.upTo) as Tier;
  if (seats > 10) {
    seats -= tier.freeSeats;
  }
  return seats * tier.price;
}
`;

async function repo(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(root, name);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

function priceJob(id: string, module: string, seats: number): ReplayJob {
  return {
    id,
    entry: { kind: 'function', module, export: 'priceFor', args: [seats] },
    environment: { featureFlags: {}, env: {} },
    timing: { recordedAt: '2026-11-20T10:42:17.503Z' },
    downstream: [],
    coverage: true,
  };
}

/** Runs a passing warm-up (module top-level code runs there), then the failing and a passing input. */
async function covered(repoDir: string, module: string): Promise<{ failing: ReplayResult; failingLines: RepositoryLineCoverage; passingLines: RepositoryLineCoverage; functions: FunctionSpan[] }> {
  const harness = await ResidentHarness.start({ driver: testDriver, image: sandboxImageTag(), repoDir, labels, logger: testLogger });
  try {
    await harness.judge(priceJob('warm-up', module, 3));
    const failing = await harness.judge(priceJob('failing', module, 80));
    const passing = await harness.judge(priceJob('passing', module, 20));
    const functions = failing.outcome === 'harness-error' ? [] : await Promise.all((failing.coverage ?? []).map(async (script) => (await lineCoverageOf(script))?.functions ?? []));
    return { failing, failingLines: await linesOf(failing), passingLines: await linesOf(passing), functions: functions.flat() };
  } finally {
    await harness.close();
  }
}

type RepositoryLineCoverage = Map<string, LineCounts>;

async function linesOf(result: ReplayResult): Promise<RepositoryLineCoverage> {
  if (result.outcome === 'harness-error') throw new Error(result.message);
  const merged: RepositoryLineCoverage = new Map();
  for (const script of result.coverage ?? []) {
    const converted = await lineCoverageOf(script);
    if (converted !== undefined) merged.set(converted.file, converted.lines);
  }
  return merged;
}

function executed(lines: ReadonlyMap<number, number> | undefined): number[] {
  return [...(lines ?? [])].filter(([, count]) => count > 0).map(([line]) => line).sort((a, b) => a - b);
}

beforeAll(async () => {
  await buildBaseImage();
  root = await mkdtemp(join(tmpdir(), 'tracemend-coverage-'));
});

afterAll(async () => {
  await testDriver.reapOrphans({ olderThanMs: 0, labels });
  await rm(root, { recursive: true, force: true });
});

describe('line coverage from real sandbox runs, in repository coordinates', () => {
  it('plain JavaScript, CommonJS: the failing function by source line, node_modules left out', async () => {
    const dir = await repo('cjs', {
      'package.json': JSON.stringify({ name: 'pricing-cjs', version: '1.0.0', private: true }),
      'lib/pricing.js': CJS_PRICING,
      'node_modules/left-pad/package.json': JSON.stringify({ name: 'left-pad', version: '1.3.0', main: 'index.js' }),
      'node_modules/left-pad/index.js': LEFT_PAD,
    });
    await handToSandboxUser(dir);
    const { failing, failingLines, passingLines, functions } = await covered(dir, 'lib/pricing.js');
    // Named functions keep their span; the anonymous arrow on line 14 is not among them.
    expect(functions).toEqual([{ name: 'priceFor', startLine: 10, endLine: 17 }]);
    expect(failing.outcome === 'threw' && failing.error?.frames[0]).toMatchObject({ file: 'lib/pricing.js', line: 16, function: 'priceFor' });
    expect([...failingLines.keys()]).toEqual(['lib/pricing.js']);
    // The guard did not throw; the tier lookup and the crashing return ran; the comment line is no code.
    expect(executed(failingLines.get('lib/pricing.js'))).toEqual([10, 11, 14, 16, 17]);
    expect(failingLines.get('lib/pricing.js')?.get(12)).toBe(0);
    expect(failingLines.get('lib/pricing.js')?.has(15)).toBe(false);
    // Module top-level code ran in the warm-up only.
    expect(failingLines.get('lib/pricing.js')?.get(5) ?? 0).toBe(0);
    expect(executed(passingLines.get('lib/pricing.js'))).toEqual([10, 11, 14, 16, 17]);
    expect(passingLines.get('lib/pricing.js')?.get(12)).toBe(0);
  });

  it('plain JavaScript, ESM: the failing function by source line, blank lines left out', async () => {
    const dir = await repo('esm', {
      'package.json': JSON.stringify({ name: 'pricing-esm', version: '1.0.0', type: 'module', private: true }),
      'src/pricing.js': ESM_PRICING,
      'src/tiers.js': ESM_TIERS,
    });
    await handToSandboxUser(dir);
    const { failing, failingLines } = await covered(dir, 'src/pricing.js');
    expect(failing.outcome === 'threw' && failing.error?.frames[0]).toMatchObject({ file: 'src/pricing.js', line: 9, function: 'priceFor' });
    // `export function` starts its function's range mid-line, so that line does not count as run.
    expect(executed(failingLines.get('src/pricing.js'))).toEqual([4, 8, 9, 10]);
    expect(failingLines.get('src/pricing.js')?.get(5)).toBe(0);
    expect(failingLines.get('src/pricing.js')?.has(7)).toBe(false);
    // The tiers module's top level ran in the warm-up only.
    expect(executed(failingLines.get('src/tiers.js'))).toEqual([]);
  });

  it('TypeScript through tsx: lines of the .ts file, through tsx\'s inline source map', async () => {
    const dir = await repo('ts', {
      'package.json': JSON.stringify({ name: 'pricing-ts', version: '1.0.0', type: 'module', private: true }),
      'src/pricing.ts': TS_PRICING,
    });
    await handToSandboxUser(dir);
    const { failing, failingLines, passingLines, functions } = await covered(dir, 'src/pricing.ts');
    expect(functions).toEqual([{ name: 'priceFor', startLine: 12, endLine: 21 }]);
    expect(failing.outcome === 'threw' && failing.error?.frames[0]).toMatchObject({ file: 'src/pricing.ts', line: 18, function: 'priceFor' });
    expect([...failingLines.keys()]).toEqual(['src/pricing.ts']);
    expect(executed(failingLines.get('src/pricing.ts'))).toEqual([13, 16, 17, 18, 19, 21]);
    expect(failingLines.get('src/pricing.ts')?.get(14)).toBe(0);
    // The return after the crashing block did not run, though tsx's map starts its range after the indentation.
    expect(failingLines.get('src/pricing.ts')?.get(20)).toBe(0);
    expect(executed(passingLines.get('src/pricing.ts'))).toContain(20);
    // Type-only lines have no generated code.
    expect(failingLines.get('src/pricing.ts')?.get(2) ?? 0).toBe(0);
  });
});

describe('lineCoverageOf on in-process V8 coverage', () => {
  it('counts the own lines of a plain JavaScript file, which has no source map (real V8 coverage)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbox-coverage-'));
    const file = join(dir, 'compat.js');
    await writeFile(
      file,
      [
        "'use strict';",
        '',
        '// Minimum check.',
        'function meets(version, minimum) {',
        '  if (version === undefined) {',
        '    return false;',
        '  }',
        '  return version >= minimum;',
        '}',
        '',
        'module.exports = { meets };',
        '',
      ].join('\n'),
    );
    const session = new Session();
    session.connect();
    try {
      await session.post('Profiler.enable');
      await session.post('Debugger.enable');
      await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
      const { meets } = createRequire(file)(file) as { meets: (version?: number, minimum?: number) => boolean };
      await session.post('Profiler.takePreciseCoverage');
      expect(meets(5, 4)).toBe(true);
      expect(meets(3, 4)).toBe(false);
      const { result } = await session.post('Profiler.takePreciseCoverage');
      const covered = result.find((script) => script.url === pathToFileURL(file).href);
      expect(covered).toBeDefined();
      const { scriptSource } = await session.post('Debugger.getScriptSource', { scriptId: covered!.scriptId });
      const script: ScriptCoverage = { file: 'src/compat.js', url: covered!.url, scriptId: covered!.scriptId, functions: covered!.functions, source: scriptSource };
      // Called twice: the body ran twice, the early return never; the top level ran before the reset
      // and is not reported (0), the comment and blank lines are not code.
      const converted = await lineCoverageOf(script);
      expect(converted?.file).toBe('src/compat.js');
      expect(Object.fromEntries(converted?.lines ?? [])).toEqual({ 1: 0, 4: 2, 5: 2, 6: 0, 7: 0, 8: 2, 9: 2, 11: 0 });
      // Code that differs from the repository file and carries no map says nothing about that file's lines.
      expect(await lineCoverageOf({ ...script, file: 'src/compat.ts', original: 'export const meets = (version: number) => version;' })).toBeUndefined();
    } finally {
      session.disconnect();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
