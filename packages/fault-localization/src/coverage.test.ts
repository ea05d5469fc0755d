import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeMask, executedLines, lineHitsFromV8Coverage, lineKey, offsetCountsOf, parseLineKey, type V8ScriptCoverage } from './coverage';
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

describe('lineHitsFromV8Coverage on real NODE_V8_COVERAGE output', () => {
  let dir: string;
  let script: string;
  let url: string;

  /** Runs the snippet in a child node with coverage on and returns the coverage of the snippet. */
  async function covered(input: number): Promise<V8ScriptCoverage[]> {
    const coverageDir = await mkdtemp(join(dir, 'coverage-'));
    const { stdout } = await run(process.execPath, [script, String(input)], {
      env: { PATH: process.env.PATH ?? '', NODE_V8_COVERAGE: coverageDir },
    });
    expect(stdout).toBe(input > 0 ? 'positive' : 'non-positive');
    const scripts: V8ScriptCoverage[] = [];
    for (const name of await readdir(coverageDir)) {
      const report = JSON.parse(await readFile(join(coverageDir, name), 'utf8')) as { result: V8ScriptCoverage[] };
      scripts.push(...report.result.filter((entry) => entry.url === url));
    }
    return scripts;
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
    const coverage = await covered(5);
    expect(coverage).toHaveLength(1);
    expect(coverage[0]!.functions.some((fn) => fn.isBlockCoverage)).toBe(true);
    const hits = lineHitsFromV8Coverage(coverage, new Map([[url, snippet]])).get(url)!;
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
    const hits = lineHitsFromV8Coverage(await covered(-2), new Map([[url, snippet]])).get(url)!;
    expect(hits.get(5)).toBe(0);
    expect(hits.get(7)).toBe(1);
    expect(hits.get(6)).toBe(1);
  });

  it('feeds spectra that rank the branch only failing runs take first', async () => {
    // The "bug": non-positive inputs fail.
    const inputs = [1, 7, 42, -1, 0];
    const runs = [];
    for (const input of inputs) {
      const hits = lineHitsFromV8Coverage(await covered(input), new Map([[url, snippet]]));
      runs.push({ failed: input <= 0, lines: executedLines(hits, (scriptUrl) => (scriptUrl === url ? 'classify.js' : undefined)) });
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

describe('offsetCountsOf', () => {
  it('lets the innermost range decide, the later of two equal ranges winning', () => {
    const counts = offsetCountsOf(
      {
        url: 'x',
        functions: [
          { functionName: '', isBlockCoverage: true, ranges: [{ startOffset: 0, endOffset: 10, count: 1 }, { startOffset: 2, endOffset: 8, count: 0 }] },
          { functionName: 'f', isBlockCoverage: true, ranges: [{ startOffset: 4, endOffset: 6, count: 7 }, { startOffset: 4, endOffset: 6, count: 3 }] },
        ],
      },
      12,
    );
    expect([...counts]).toEqual([1, 1, 0, 0, 3, 3, 0, 0, 1, 1, -1, -1]);
  });

  it('agrees with the smallest containing range for any nested ranges', () => {
    const laminar = (ranges: { startOffset: number; endOffset: number; count: number }[]) => {
      const kept: typeof ranges = [];
      for (const range of ranges) {
        const nests = kept.every(
          (other) =>
            range.endOffset <= other.startOffset ||
            other.endOffset <= range.startOffset ||
            (range.startOffset >= other.startOffset && range.endOffset <= other.endOffset) ||
            (other.startOffset >= range.startOffset && other.endOffset <= range.endOffset),
        );
        if (nests) kept.push(range);
      }
      return kept;
    };
    const rangeArb = fc
      .tuple(fc.nat(60), fc.nat(60), fc.nat(5))
      .filter(([a, b]) => a !== b)
      .map(([a, b, count]) => ({ startOffset: Math.min(a, b), endOffset: Math.max(a, b), count }));
    fc.assert(
      fc.property(fc.array(rangeArb, { maxLength: 12 }), fc.integer({ min: 1, max: 4 }), (generated, split) => {
        const ranges = laminar(generated);
        const functions = [ranges.slice(0, split), ranges.slice(split)].map((group) => ({ functionName: '', isBlockCoverage: true, ranges: group }));
        const counts = offsetCountsOf({ url: 'x', functions }, 64);
        for (let offset = 0; offset < 64; offset++) {
          let best: { length: number; order: number; count: number } | undefined;
          ranges.forEach((range, order) => {
            if (offset < range.startOffset || offset >= range.endOffset) return;
            const length = range.endOffset - range.startOffset;
            if (best === undefined || length < best.length || (length === best.length && order > best.order)) best = { length, order, count: range.count };
          });
          expect(counts[offset]).toBe(best?.count ?? -1);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('lineHitsFromV8Coverage', () => {
  it('sums several reports of one script and skips scripts without source', () => {
    const script = (count: number): V8ScriptCoverage => ({
      url: 'file:///a.js',
      functions: [{ functionName: '', isBlockCoverage: false, ranges: [{ startOffset: 0, endOffset: 5, count }] }],
    });
    const hits = lineHitsFromV8Coverage([script(1), script(2), { url: 'node:fs', functions: [] }], new Map([['file:///a.js', 'a()\nb()']]));
    expect([...hits.keys()]).toEqual(['file:///a.js']);
    expect([...hits.get('file:///a.js')!]).toEqual([
      [1, 3],
      [2, 3],
    ]);
  });
});

describe('codeMask', () => {
  const code = (source: string) => [...codeMask(source)].map((bit, index) => (bit ? source[index] : '_')).join('');

  it('drops whitespace, line and block comments, and a hashbang', () => {
    expect(code('#!/usr/bin/env node\nx = 1; // note\n/* a\n b */y')).toBe('____________________x_=_1;___________________y');
  });

  it('keeps comment look-alikes inside strings, templates and regular expressions', () => {
    expect(code("s = '//x'")).toBe("s_=_'//x'");
    expect(code('u = `http://${host /* c */}/`')).toBe('u_=_`http://${host________}/`');
    expect(code('r = /\\/\\/[/*]/g')).toBe('r_=_/\\/\\/[/*]/g');
    expect(code('return /a/.test(s) // t')).toBe('return_/a/.test(s)_____');
  });

  it('reads a slash after a value as division', () => {
    expect(code('a = b / c // d')).toBe('a_=_b_/_c_____');
    expect(code('f(x) / 2 /* z */')).toBe('f(x)_/_2________');
  });

  it('handles nested braces inside template substitutions', () => {
    expect(code('t = `${ {a: 1}.a } // not a comment`')).toBe('t_=_`${_{a:_1}.a_}_//_not_a_comment`');
  });
});

describe('line keys', () => {
  it('round-trip files with colons', () => {
    expect(parseLineKey(lineKey('file:///srv/app.js', 12))).toEqual({ file: 'file:///srv/app.js', line: 12 });
    expect(parseLineKey('src/a.ts:3')).toEqual({ file: 'src/a.ts', line: 3 });
    expect(() => parseLineKey('src/a.ts')).toThrow(RangeError);
    expect(() => parseLineKey('a.ts:0')).toThrow(RangeError);
  });

  it('list only executed lines of the files kept', () => {
    const hits = new Map([
      ['file:///app/a.js', new Map([[1, 2], [2, 0]])],
      ['file:///app/node_modules/x.js', new Map([[1, 1]])],
    ]);
    const lines = executedLines(hits, (url) => (url.includes('node_modules') ? undefined : url.replace('file:///app/', '')));
    expect([...lines]).toEqual(['a.js:1']);
  });
});
