import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lineCoverageOf, type LineCounts, type ScriptCoverage } from '@tracemend/sandbox';
import { lineKey, parseLineKey } from './coverage';
import { rankSuspects } from './rank';

const run = promisify(execFile);

const snippet = [
  "'use strict';", //  1
  '// Classifies a number.', //  2
  'function classify(x) {', //  3
  '  if (x > 0) {', //  4
  "    return 'positive';", //  5
  '  } else {', //  6
  "    return 'non-positive';", //  7
  '  }', //  8
  '}', //  9
  '', // 10
  '/* never called */', // 11
  'function unused() {', // 12
  '  return 1;', // 13
  '}', // 14
  '', // 15
  'const input = Number(process.argv[2]);', // 16
  'process.stdout.write(classify(input));', // 17
  '',
].join('\n');

describe('line spectra from real NODE_V8_COVERAGE output, converted by the sandbox', () => {
  let dir: string;
  let script: string;
  let url: string;

  /** Runs the snippet in a child node with coverage on and returns the lines of the snippet it ran. */
  async function covered(input: number): Promise<LineCounts> {
    const coverageDir = await mkdtemp(join(dir, 'coverage-'));
    const { stdout } = await run(process.execPath, [script, String(input)], {
      env: { PATH: process.env.PATH ?? '', NODE_V8_COVERAGE: coverageDir },
    });
    expect(stdout).toBe(input > 0 ? 'positive' : 'non-positive');
    const scripts: Omit<ScriptCoverage, 'file' | 'source'>[] = [];
    for (const name of await readdir(coverageDir)) {
      const report = JSON.parse(await readFile(join(coverageDir, name), 'utf8')) as { result: Omit<ScriptCoverage, 'file' | 'source'>[] };
      scripts.push(...report.result.filter((entry) => entry.url === url));
    }
    expect(scripts).toHaveLength(1);
    expect(scripts[0]!.functions.some((fn) => fn.isBlockCoverage)).toBe(true);
    const converted = await lineCoverageOf({ ...scripts[0]!, file: 'classify.js', source: snippet });
    expect(converted?.file).toBe('classify.js');
    return converted?.lines ?? new Map();
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fault-localization-'));
    script = join(dir, 'classify.js');
    url = pathToFileURL(script).href;
    await writeFile(script, snippet);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('marks the taken branch run and the other branch not run, leaving comments and blanks out', async () => {
    const hits = await covered(5);
    expect(hits.get(3)).toBe(1);
    expect(hits.get(4)).toBe(1);
    expect(hits.get(5)).toBe(1);
    expect(hits.get(7)).toBe(0);
    expect(hits.get(13)).toBe(0);
    expect(hits.get(16)).toBe(1);
    expect(hits.get(17)).toBe(1);
    for (const line of [2, 10, 11, 15]) expect(hits.has(line)).toBe(false);
  });

  it('marks the else branch when the input takes it', async () => {
    const hits = await covered(-2);
    expect(hits.get(5)).toBe(0);
    expect(hits.get(7)).toBe(1);
  });

  it('feeds spectra that rank the branch only failing runs take first', async () => {
    // The "bug": non-positive inputs fail.
    const inputs = [1, 7, 42, -1, 0];
    const runs = [];
    for (const input of inputs) {
      const hits = await covered(input);
      runs.push({ failed: input <= 0, lines: new Set([...hits].filter(([, count]) => count > 0).map(([line]) => lineKey('classify.js', line))) });
    }
    const suspects = rankSuspects({
      runs,
      frames: [{ file: 'classify.js', line: 7, function: 'classify' }],
      sources: new Map([['classify.js', snippet]]),
    });
    expect(suspects[0]).toMatchObject({ file: 'classify.js', line: 7, function: 'classify', score: 1, scores: { ochiai: 1 } });
    expect(suspects.some((suspect) => suspect.line === 5)).toBe(false);
    expect(suspects.find((suspect) => suspect.line === 4)!.scores.ochiai).toBeCloseTo(2 / Math.sqrt(10), 12);
  });
});

describe('line keys', () => {
  it('round-trip files with colons', () => {
    expect(parseLineKey(lineKey('file:///srv/app.js', 12))).toEqual({ file: 'file:///srv/app.js', line: 12 });
    expect(parseLineKey('src/a.ts:3')).toEqual({ file: 'src/a.ts', line: 3 });
    expect(() => parseLineKey('src/a.ts')).toThrow(RangeError);
    expect(() => parseLineKey('a.ts:0')).toThrow(RangeError);
  });
});
