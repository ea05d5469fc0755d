import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Entry, FailureSignature, TestFile, TestRunner } from '@tracemend/contracts';
import { fixtureAlertPaths, fixtureServiceDir, fixturesRoot, loadFixtureRepo, type FixtureServiceName } from '@tracemend/fixture-kit';
import { buildEnvelope, type OtlpTraces } from '@tracemend/ingest';
import { entryHandlersOf, installDependencies, replayJobFromEnvelope, type HttpApp, type ReplayJob } from '@tracemend/sandbox';
import { check } from 'prettier';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectTestConventions } from '@tracemend/test-runners';
import { emitRegressionTest } from './test-emitter';

const run = promisify(execFile);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-emitter-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SETUP: Record<FixtureServiceName, { runner: TestRunner; httpApp?: HttpApp; fix: [file: string, from: string, to: string] }> = {
  'users-api': {
    runner: 'vitest',
    httpApp: { module: 'src/app.ts', export: 'createApp' },
    fix: ['src/users.ts', 'preferences.marketing', '(preferences.marketing ??= [])'],
  },
  leaderboard: { runner: 'node:test', fix: ['src/leaderboard.ts', 'users\n', '(users ?? [])\n'] },
  'checkout-worker': { runner: 'vitest', fix: ['src/handler.ts', 'record.items.length === 0', '(record.items?.length ?? 0) === 0'] },
};

const BINS: Record<string, string> = { vitest: 'vitest/vitest.mjs', jest: 'jest/bin/jest.js', mocha: 'mocha/bin/mocha.js', ava: 'ava/entrypoints/cli.mjs' };

async function runTest(repo: string, command: string[]): Promise<{ ok: boolean; output: string }> {
  const [program, ...args] = command[0] === 'npx' ? ['node', join('node_modules', BINS[command[1] ?? ''] ?? command[1] ?? ''), ...command.slice(2)] : command;
  try {
    const { stdout, stderr } = await run(program ?? 'node', args, { cwd: repo, env: { ...process.env, CI: '1', NODE_ENV: 'test' } });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return { ok: false, output: (failed.stdout ?? '') + (failed.stderr ?? '') };
  }
}

/** Whether a runner's output shows the error `type: message` (TAP writes the two apart). */
function showsError(output: string, type: string, message: string): boolean {
  const plain = output.replace(/\u001b\[[0-9;]*m/g, '');
  return plain.includes(`${type}: ${message}`) || (plain.includes(`name: '${type}'`) && plain.includes(message));
}

const SIGNATURE: FailureSignature = { errorType: 'TypeError', normalizedMessage: 'x', frames: [{ function: 'f', file: 'src/x.ts' }], hash: 'abcdef12' };

/** Emits the test for `job` in the repository's conventions and writes it with its support files. */
async function emitInto(repo: string, job: ReplayJob, runner: TestRunner, fingerprint = 'feedbeef00', signature = SIGNATURE): Promise<TestFile> {
  const module = job.entry.kind === 'http' ? (job.httpApp?.module ?? '') : (job.entry.module ?? '');
  const test = await emitRegressionTest({ job, signature, fingerprint, runner, conventions: await detectTestConventions(repo, runner, module) });
  for (const file of [test, ...(test.support ?? [])]) {
    await mkdir(join(repo, file.path, '..'), { recursive: true });
    await writeFile(join(repo, file.path), file.content);
  }
  return test;
}

function functionJob(entry: Entry): ReplayJob {
  return { id: 'emitted', entry, environment: { featureFlags: {}, env: {} }, timing: { recordedAt: '2026-11-20T10:42:17.503Z' }, downstream: [] };
}

describe('emitRegressionTest', () => {
  it.each(Object.keys(SETUP) as FixtureServiceName[])(
    '%s: the emitted test fails on the recorded commit and passes once the bug is fixed',
    async (service) => {
      const setup = SETUP[service];
      const traces = JSON.parse(await readFile(fixtureAlertPaths(service).traces, 'utf8')) as OtlpTraces;
      const envelope = buildEnvelope({ traces: { source: { alertId: 'a'.repeat(64), format: 'otlp-traces-json', receivedAt: new Date().toISOString() }, body: traces } });
      const repo = await loadFixtureRepo(service, join(dir, service));
      const deps = await installDependencies({ repoDir: repo.dir, cacheRoot: join(tmpdir(), 'tracemend-test-deps') });
      await symlink(deps.depsDir, join(repo.dir, 'node_modules'));

      // The minimize stage hands the emitter the job as replayed: the entry completed by the catalog's handlers.
      const job = replayJobFromEnvelope(envelope, { id: 'minimal', handlers: entryHandlersOf(setup.httpApp ? { httpApp: setup.httpApp } : {}) });
      const test = await emitInto(repo.dir, job, setup.runner, envelope.identity.fingerprint);
      expect(test.path).toBe(`test/tracemend-${envelope.identity.fingerprint.slice(0, 8)}.test.ts`);
      expect(test.content).not.toContain(envelope.symptom.errorType);

      const before = await runTest(repo.dir, test.command);
      expect(before.ok, before.output).toBe(false);
      // The app's own error fails the test, an HTTP one too (not a bare 500).
      expect(showsError(before.output, envelope.symptom.errorType, ''), before.output).toBe(true);

      const [file, from, to] = setup.fix;
      const source = await readFile(join(repo.dir, file), 'utf8');
      expect(source).toContain(from);
      await writeFile(join(repo.dir, file), source.replace(from, to));
      const after = await runTest(repo.dir, test.command);
      expect(after.ok, after.output).toBe(true);

      const typecheck = await runTest(repo.dir, ['node', 'node_modules/typescript/bin/tsc', '--noEmit', '-p', '.']);
      expect(typecheck.ok, typecheck.output).toBe(true);
    },
    180_000,
  );

  it("formats the test and its support files as the repository's prettier configuration says, and they still replay", async () => {
    const repo = join(dir, 'prettier-repo');
    const files: Record<string, string> = {
      'package.json': '{"name":"payouts","type":"commonjs","devDependencies":{"prettier":"3.10.2"},"scripts":{"test":"node --test test/"}}',
      '.prettierrc': '{ "singleQuote": true, "semi": false, "printWidth": 100 }\n',
      'src/handler.js': "'use strict'\nexports.handler = async (event) => event.Records[0].body.amount.toFixed(2)\n",
      'test/handler.test.js': "const { test } = require('node:test')\ntest('loads', () => require('../src/handler'))\n",
    };
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(repo, path, '..'), { recursive: true });
      await writeFile(join(repo, path), content);
    }
    const job = functionJob({ kind: 'function', module: 'src/handler.js', export: 'handler', args: [{ Records: [{ body: { amount: '120.50', currency: 'EUR' } }] }] });
    const test = await emitInto(repo, job, 'node:test');
    const options = { singleQuote: true, semi: false, printWidth: 100 };
    for (const file of [test, ...(test.support ?? [])]) expect(await check(file.content, { ...options, filepath: file.path }), file.path).toBe(true);
    expect(test.content).toContain("require('./tracemend-replay.cjs')\n");
    const before = await runTest(repo, test.command);
    expect(before.ok, before.output).toBe(false);
    expect(showsError(before.output, 'TypeError', 'event.Records[0].body.amount.toFixed is not a function'), before.output).toBe(true);
  });

  it('refuses runners it cannot write, naming the ones it can', async () => {
    await expect(
      emitRegressionTest({
        job: functionJob({ kind: 'function', module: 'src/a.ts', export: 'a', args: [] }),
        signature: SIGNATURE,
        fingerprint: 'abcdef1234',
        runner: 'jasmine' as TestRunner,
        conventions: await detectTestConventions(dir, 'vitest', 'src/a.ts'),
      }),
    ).rejects.toThrow(/cannot emit the regression test: tracemend has no adapter for the test runner "jasmine"; supported: vitest, jest, mocha, node:test, ava/);
  });

  // A repository of handlers no fixture has: a callback-style Lambda handler, a kafkajs consumer and a
  // request listener whose factory takes the fakes its own tests build.
  const HANDLERS: Record<string, string> = {
    'src/handler.ts': `export function handler(event: { Records: Array<{ body: string }> }, context: { functionName: string }, callback: (error: Error | null, value?: unknown) => void): void {
  const order = JSON.parse(event.Records[0]?.body ?? '{}') as { lines?: unknown[] };
  setTimeout(() => (order.lines === undefined ? callback(new TypeError('order without lines in ' + context.functionName)) : callback(null, order.lines.length)), 1);
}
`,
    'src/consumer.ts': `export async function eachMessage({ message }: { topic: string; message: { key: Buffer | null; value: Buffer | null } }): Promise<number> {
  const order = JSON.parse(message.value?.toString() ?? '{}') as { lines: unknown[] };
  return order.lines.length;
}
`,
    'src/app.ts': `import type { IncomingMessage, ServerResponse } from 'node:http';

export interface Deps {
  store: { get(id: string): { total: number } | undefined };
}

export function createListener(deps: Deps) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const order = deps.store.get(req.url?.split('/').at(-1) ?? '');
    try {
      res.end(String(order!.total));
    } catch (error) {
      res.statusCode = 500;
      res.end(String(error));
    }
  };
}
`,
    'test/fakes.ts': `import type { Deps } from '../src/app.ts';

export async function buildDeps(): Promise<Deps[]> {
  return [{ store: { get: (id) => (id === '1' ? { total: 3 } : undefined) } }];
}
`,
  };
  const HANDLER_CASES: Array<{ name: string; entry: Entry; httpApp?: HttpApp; failure: string; fix: [file: string, from: string, to: string] }> = [
    {
      name: 'a callback-style Lambda handler, called with its SQS event and a context',
      entry: { kind: 'function', module: 'src/handler.ts', export: 'handler', args: [{ Records: [{ body: '{"id":"o-1"}' }] }, { functionName: 'orders-fn' }], trigger: 'pubsub', eventShape: 'sqs' },
      failure: 'order without lines in orders-fn',
      fix: ['src/handler.ts', "callback(new TypeError('order without lines in ' + context.functionName))", 'callback(null, 0)'],
    },
    {
      name: 'a kafkajs consumer, given the eachMessage payload',
      entry: { kind: 'message', module: 'src/consumer.ts', export: 'eachMessage', topic: 'orders', payload: { id: 'o-1' }, envelope: 'kafka', key: 'o-1' },
      failure: "Cannot read properties of undefined (reading 'length')",
      fix: ['src/consumer.ts', 'order.lines.length', '(order.lines ?? []).length'],
    },
    {
      name: 'an HTTP factory built with the arguments module of the catalog',
      entry: { kind: 'http', method: 'GET', route: '/orders/:id', path: '/orders/2', query: {}, headers: { accept: 'text/plain' } },
      httpApp: { module: 'src/app.ts', export: 'createListener', args: { module: 'test/fakes.ts', export: 'buildDeps' } },
      failure: "Cannot read properties of undefined (reading 'total')",
      fix: ['src/app.ts', 'order!.total', 'order?.total ?? 0'],
    },
  ];

  it.each(HANDLER_CASES)(
    '$name: the emitted node:test test fails on the bug, passes after the fix and typechecks',
    async ({ name, entry, httpApp, failure, fix }) => {
      const leaderboard = fixtureServiceDir('leaderboard');
      const repo = join(dir, `handlers-${HANDLER_CASES.findIndex((item) => item.name === name)}`);
      await mkdir(join(repo, 'src'), { recursive: true });
      await mkdir(join(repo, 'test'), { recursive: true });
      for (const file of ['package.json', 'package-lock.json', 'tsconfig.json']) await copyFile(join(leaderboard, file), join(repo, file));
      for (const [path, content] of Object.entries(HANDLERS)) await writeFile(join(repo, path), content);
      const deps = await installDependencies({ repoDir: repo, cacheRoot: join(tmpdir(), 'tracemend-test-deps') });
      await symlink(deps.depsDir, join(repo, 'node_modules'));

      const test = await emitInto(repo, { ...functionJob(entry), ...(httpApp ? { httpApp } : {}) }, 'node:test');
      const before = await runTest(repo, test.command);
      expect(before.ok, before.output).toBe(false);
      expect(showsError(before.output, 'TypeError', failure), before.output).toBe(true);

      const [file, from, to] = fix;
      const source = await readFile(join(repo, file), 'utf8');
      expect(source).toContain(from);
      await writeFile(join(repo, file), source.replace(from, to));
      const after = await runTest(repo, test.command);
      expect(after.ok, after.output).toBe(true);
      const typecheck = await runTest(repo, ['node', 'node_modules/typescript/bin/tsc', '--noEmit', '-p', '.']);
      expect(typecheck.ok, typecheck.output).toBe(true);
    },
    180_000,
  );
});

// Plain JavaScript repositories in each module system and runner, each with one test of its own
// written its way; the emitted test must follow it and run in the repository's own runner.
const CART = {
  esm: `export function summarize(cart) {\n  return { lines: cart.items.length };\n}\n`,
  cjs: `exports.summarize = function summarize(cart) {\n  return { lines: cart.items.length };\n};\n`,
};
const JS_CASES: Array<{ name: string; runner: TestRunner; manifest: Record<string, unknown> | 'invoice-intake-base64-body' | 'mocha-repo' | 'ava-repo'; module: 'esm' | 'cjs'; files: Record<string, string>; suite: string[]; expected: { path: string; contains: string[] } }> = [
  {
    name: 'ESM with node:test',
    runner: 'node:test',
    manifest: { name: 'cart', type: 'module', scripts: { test: 'node --test test/' } },
    module: 'esm',
    files: { 'test/cart.test.js': `import assert from 'node:assert/strict';\nimport { it } from 'node:test';\nimport { summarize } from '../src/cart.js';\nit('counts lines', () => assert.equal(summarize({ items: [1] }).lines, 1));\n` },
    suite: ['node', '--test', 'test/'],
    expected: { path: 'test/tracemend-feedbeef.test.js', contains: [`import { it } from 'node:test';`, `import { replay } from './tracemend-replay.mjs';`, `() => import('../src/cart.js')`] },
  },
  {
    name: 'CommonJS with node:test',
    runner: 'node:test',
    manifest: { name: 'cart', scripts: { test: 'node --test test/' } },
    module: 'cjs',
    files: { 'test/cart.test.js': `const assert = require('node:assert/strict');\nconst { it } = require('node:test');\nconst { summarize } = require('../src/cart');\nit('counts lines', () => assert.equal(summarize({ items: [1] }).lines, 1));\n` },
    suite: ['node', '--test', 'test/'],
    expected: { path: 'test/tracemend-feedbeef.test.js', contains: [`const { it } = require('node:test');`, `const { replay } = require('./tracemend-replay.cjs');`, `() => require('../src/cart')`] },
  },
  {
    name: 'CommonJS with jest and __tests__',
    runner: 'jest',
    manifest: 'invoice-intake-base64-body',
    module: 'cjs',
    files: { '__tests__/cart.test.js': `const { summarize } = require('../src/cart');\ntest('counts lines', () => expect(summarize({ items: [1] }).lines).toBe(1));\n` },
    suite: ['npx', 'jest'],
    expected: { path: '__tests__/tracemend-feedbeef.test.js', contains: [`const { replay } = require('./tracemend-replay.cjs');`, `() => require('../src/cart')`] },
  },
  {
    name: 'CommonJS with mocha and *.spec.js',
    runner: 'mocha',
    manifest: 'mocha-repo',
    module: 'cjs',
    files: { 'test/cart.spec.js': `const assert = require('node:assert');\nconst { summarize } = require('../src/cart.js');\ndescribe('cart', () => it('counts lines', () => assert.equal(summarize({ items: [1] }).lines, 1)));\n` },
    suite: ['npx', 'mocha', 'test/*.spec.js'],
    expected: { path: 'test/tracemend-feedbeef.spec.js', contains: [`const { replay } = require('./tracemend-replay.cjs');`, `() => require('../src/cart.js')`] },
  },
  {
    name: 'ESM with ava',
    runner: 'ava',
    manifest: 'ava-repo',
    module: 'esm',
    files: { 'test/cart.test.js': `import test from 'ava';\nimport { summarize } from '../src/cart.js';\ntest('counts lines', (t) => t.is(summarize({ items: [1] }).lines, 1));\n` },
    suite: ['npx', 'ava'],
    expected: {
      path: 'test/tracemend-feedbeef.test.js',
      contains: [`import test from 'ava';`, `import { replay } from './helpers/tracemend-replay.mjs';`, `() => import('../src/cart.js')`, `test("summarize must not throw`, `  t.pass();`],
    },
  },
  {
    name: 'CommonJS with ava and __tests__',
    runner: 'ava',
    manifest: 'ava-repo',
    module: 'cjs',
    files: { '__tests__/cart.test.js': `const test = require('ava');\nconst { summarize } = require('../src/cart');\ntest('counts lines', (t) => t.is(summarize({ items: [1] }).lines, 1));\n` },
    suite: ['npx', 'ava'],
    expected: {
      path: '__tests__/tracemend-feedbeef.test.js',
      contains: [`const test = require('ava');`, `const { replay } = require('./__helpers__/tracemend-replay.cjs');`, `() => require('../src/cart')`, `  t.pass();`],
    },
  },
];

describe('emitRegressionTest in JavaScript repositories', () => {
  it.each(JS_CASES)(
    '$name: the test follows the repository, fails with the app error on the bug and passes after the fix',
    async ({ name, runner, manifest, module, files, suite, expected }) => {
      const repo = join(dir, `js-${JS_CASES.findIndex((item) => item.name === name)}`);
      await mkdir(join(repo, 'src'), { recursive: true });
      if (typeof manifest === 'string') {
        const from = manifest === 'invoice-intake-base64-body' ? join(fixturesRoot, 'corpus', 'incidents', manifest, 'service') : join(import.meta.dirname, '..', 'test', manifest);
        for (const file of ['package.json', 'package-lock.json']) await copyFile(join(from, file), join(repo, file));
        // The manifest's own test layout and module system are this case's, not those of the repository it was borrowed from.
        const copied = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { type?: string; jest?: { roots?: string[] } };
        delete copied.jest?.roots;
        if (module === 'esm') copied.type = 'module';
        await writeFile(join(repo, 'package.json'), JSON.stringify(copied));
        const deps = await installDependencies({ repoDir: repo, cacheRoot: join(tmpdir(), 'tracemend-test-deps') });
        await symlink(deps.depsDir, join(repo, 'node_modules'));
      } else {
        await writeFile(join(repo, 'package.json'), JSON.stringify(manifest));
      }
      await writeFile(join(repo, 'src', 'cart.js'), CART[module]);
      for (const [path, content] of Object.entries(files)) {
        await mkdir(join(repo, path, '..'), { recursive: true });
        await writeFile(join(repo, path), content);
      }

      const test = await emitInto(repo, functionJob({ kind: 'function', module: 'src/cart.js', export: 'summarize', args: [{ items: null }] }), runner);
      expect(test.path).toBe(expected.path);
      for (const text of expected.contains) expect(test.content).toContain(text);
      expect(test.content).not.toContain('TypeError');

      const before = await runTest(repo, test.command);
      expect(before.ok, before.output).toBe(false);
      expect(showsError(before.output, 'TypeError', "Cannot read properties of null (reading 'length')"), before.output).toBe(true);

      await writeFile(join(repo, 'src', 'cart.js'), CART[module].replace('cart.items.length', '(cart.items ?? []).length'));
      const after = await runTest(repo, test.command);
      expect(after.ok, after.output).toBe(true);
      // The repository's own suite, which now holds the test and its support file, passes too.
      const whole = await runTest(repo, suite);
      expect(whole.ok, whole.output).toBe(true);
    },
    240_000,
  );
});
