import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '@tracemend/process';
import { harnessJobLine, type ReplayJob } from './replay';
import { replaySupportFiles, type SupportFormat } from './replay-support';

const RECORDED_AT = '2026-11-20T10:42:17.503Z';
let root: string;

interface HarnessRandom {
  hashSeed: (text: string) => number;
  mulberry32: (seed: number) => () => number;
}
// The harness's own generator, so the expected sequence is the one the sandbox replays with.
const DETERMINISM: string = '../harness/determinism.mjs';
const { hashSeed, mulberry32 } = (await import(DETERMINISM)) as HarnessRandom;

// What replayed code sees: the clock, randomness, time zone, locale, a flag, and two downstream calls
// whose URLs differ from the recorded ones except for their template's parameter.
const PROBE = `
  const stock = await new Promise((resolve, reject) => {
    http.get('http://stock.internal.example/items/8', (response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve(JSON.parse(text)));
    }).on('error', reject);
  });
  const rate = await (await fetch('https://rates.example.com/v1/rates/USD')).json();
  throw new RangeError(JSON.stringify({
    now: new Date().toISOString(),
    random: Math.random(),
    zone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    price: (1234.5).toLocaleString(),
    flags: process.env.FEATURE_FLAGS,
    rate: rate.rate,
    stock: stock.count,
    order,
  }));`;

const SOURCES = {
  esm: `import http from 'node:http';\nexport async function probe(order) {${PROBE}\n}\n`,
  cjs: `const http = require('node:http');\nexports.probe = async function probe(order) {${PROBE}\n};\n`,
};

// A request listener that turns any exception into a 500, as frameworks do.
const APP = {
  esm: `export function createApp(prefix) {\n  return (request, response) => {\n    try {\n      const order = null;\n      response.end(prefix + order.id);\n    } catch {\n      response.statusCode = 500;\n      response.end('internal error');\n    }\n  };\n}\nexport const appArgs = () => ['order-'];\n`,
  cjs: `exports.createApp = function createApp(prefix) {\n  return (request, response) => {\n    try {\n      const order = null;\n      response.end(prefix + order.id);\n    } catch {\n      response.statusCode = 500;\n      response.end('internal error');\n    }\n  };\n};\nexports.appArgs = () => ['order-'];\n`,
};

const probeJob: ReplayJob = {
  id: 'emitted',
  entry: { kind: 'function', module: 'src/probe.js', export: 'probe', args: [{ id: 'o-1' }] as never[] },
  environment: { featureFlags: { newRates: true }, env: { REGION: 'eu' }, timezone: 'Asia/Tokyo', locale: 'de_DE.UTF-8' },
  timing: { recordedAt: RECORDED_AT },
  downstream: [
    { method: 'GET', urlTemplate: 'https://rates.example.com/v1/rates/{currency}', url: 'https://rates.example.com/v1/rates/EUR', status: 200, responseHeaders: {}, responseBody: { rate: 1.08 } },
    { method: 'GET', urlTemplate: '/items/{id}', url: 'http://stock.internal.example/items/7', status: 200, responseHeaders: {}, responseBody: { count: 3 } },
  ],
};

const appJob: ReplayJob = {
  id: 'emitted',
  entry: { kind: 'http', method: 'GET', route: '/orders/:id', path: '/orders/9', query: {}, headers: {} },
  httpApp: { module: 'src/app.js', export: 'createApp', args: { module: 'src/app.js', export: 'appArgs' } },
  environment: { featureFlags: {}, env: {} },
  timing: { recordedAt: RECORDED_AT },
  downstream: [],
};

/** A node:test file that replays `job`, checks the process is put back, and writes down what the entry threw. */
function testFile(format: SupportFormat, job: ReplayJob, module: string): string {
  const line = harnessJobLine(job).trim();
  const head =
    format === 'esm'
      ? `import assert from 'node:assert/strict';\nimport { writeFileSync } from 'node:fs';\nimport { it } from 'node:test';\nimport { replay } from './tracemend-replay.mjs';\n`
      : `const assert = require('node:assert/strict');\nconst { writeFileSync } = require('node:fs');\nconst { it } = require('node:test');\nconst { replay } = require('./tracemend-replay.cjs');\n`;
  const load = format === 'esm' ? `() => import('../${module}')` : `() => require('../${module}')`;
  return `${head}
const job = ${line};
it('replays like the sandbox', async () => {
  const before = { Date, random: Math.random, fetch: globalThis.fetch, tz: process.env.TZ };
  let thrown;
  try {
    await replay(job, { entry: ${load}, args: ${load} });
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown, 'the replay must reject');
  writeFileSync('thrown.json', JSON.stringify({ type: thrown.constructor.name, message: thrown.message, stack: thrown.stack }));
  assert.equal(Date, before.Date);
  assert.equal(Math.random, before.random);
  assert.equal(globalThis.fetch, before.fetch);
  assert.equal(process.env.TZ, before.tz);
  assert.equal(process.env.REGION, undefined);
  assert.ok(Math.abs(Date.now() - performance.timeOrigin - performance.now()) < 60_000);
  assert.ok(new Date().getFullYear() !== 2026 || Date.now() !== Date.parse(job.timing.recordedAt));
});
`;
}

async function runReplay(format: SupportFormat, job: ReplayJob, files: Record<string, string>): Promise<{ type: string; message: string; stack: string }> {
  const dir = await mkdtemp(join(root, `${format}-`));
  await mkdir(join(dir, 'src'));
  await mkdir(join(dir, 'test'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'probe', type: format === 'esm' ? 'module' : 'commonjs' }));
  for (const [path, content] of Object.entries(files)) await writeFile(join(dir, path), content);
  for (const file of await replaySupportFiles('test', format, false)) await writeFile(join(dir, file.path), file.content);
  const module = job.entry.kind === 'http' ? 'src/app.js' : 'src/probe.js';
  await writeFile(join(dir, 'test', 'replay.test.js'), testFile(format, job, module));
  const result = await runCommand(process.execPath, ['--test', '--test-reporter=tap', 'test/replay.test.js'], {
    cwd: dir,
    env: { PATH: process.env.PATH, TZ: 'UTC' },
    timeoutMs: 60_000,
  });
  const stdout = result.stdout.toString();
  expect(result.code, `${stdout}\n${result.stderr.toString()}`).toBe(0);
  return JSON.parse(await readFile(join(dir, 'thrown.json'), 'utf8')) as { type: string; message: string; stack: string };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tracemend-replay-support-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the replay support a regression test imports', () => {
  for (const format of ['esm', 'cjs'] as const) {
    it(`replays a job line as the sandbox harness does, then puts the process back (${format})`, async () => {
      const thrown = await runReplay(format, probeJob, { 'src/probe.js': SOURCES[format] });
      expect(thrown.type).toBe('RangeError');
      const seen = JSON.parse(thrown.message) as Record<string, unknown>;
      expect(seen).toEqual({
        now: RECORDED_AT,
        random: mulberry32(hashSeed(RECORDED_AT))(),
        zone: 'Asia/Tokyo',
        price: '1.234,5',
        flags: JSON.stringify({ newRates: true }),
        rate: 1.08,
        stock: 3,
        order: { id: 'o-1' },
      });
    });

    it(`rethrows the exception behind an HTTP entry's 5xx answer, with the app's own stack (${format})`, async () => {
      const thrown = await runReplay(format, appJob, { 'src/app.js': APP[format] });
      expect(thrown.type).toBe('TypeError');
      expect(thrown.message).toBe("Cannot read properties of null (reading 'id')");
      expect(thrown.stack).toMatch(/src\/app\.js:5:/);
    });
  }

  it('judges a rejection nobody awaited as the sandbox does, not as the test runner would', async () => {
    // The handler starts async work that rejects and is never awaited, then crashes on its result; the
    // framework answers 500. The sandbox blames the exception behind the 500; node:test on its own would
    // fail the test with the unhandled rejection instead.
    const app = `export function createApp() {\n  return (request, response) => {\n    try {\n      const quotes = ['a'].map(async (sku) => { throw new RangeError('unknown sku ' + sku); });\n      response.end(String(quotes.reduce((sum, quote) => sum + quote.amount.cents, 0)));\n    } catch {\n      response.statusCode = 500;\n      response.end('internal error');\n    }\n  };\n}\nexport const appArgs = () => [];\n`;
    const thrown = await runReplay('esm', appJob, { 'src/app.js': app });
    expect(thrown).toMatchObject({ type: 'TypeError', message: "Cannot read properties of undefined (reading 'cents')" });

    // A function entry that returns while such a rejection escapes it fails with that rejection, as in the sandbox.
    const leaky = `export async function probe() {\n  Promise.reject(new RangeError('late quote'));\n  return 'done';\n}\n`;
    const escaped = await runReplay('esm', { ...probeJob, downstream: [] }, { 'src/probe.js': leaky });
    expect(escaped).toMatchObject({ type: 'RangeError', message: 'late quote' });
  });

  it('adds a type declaration beside the module for TypeScript tests', async () => {
    const files = await replaySupportFiles('test', 'esm', true);
    expect(files.map((file) => file.path)).toEqual(['test/tracemend-replay.mjs', 'test/tracemend-replay.d.mts']);
    expect(files[1]?.content).toMatch(/export declare function replay\(job: unknown, modules: ReplayModules\): Promise<void>;/);
    expect(files[0]?.content).toMatch(/^\/\/ Generated by tracemend/);
  });

  it('keeps the names of the harness source, with no long identifier renamed by a digit suffix', async () => {
    // The bundler renames a name two modules share (syncBuiltinESMExports → syncBuiltinESMExports3); a
    // letters-and-digits run of 20 or more is what the egress guard blocks as a possible secret, and
    // every support file passes that guard before it reaches a pull request.
    for (const format of ['esm', 'cjs'] as const) {
      const [module] = await replaySupportFiles('test', format, false);
      expect(module?.content.match(/\b[A-Za-z_$]{19,}\d+\b/g) ?? []).toEqual([]);
    }
  });
});
