import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Candidate, MinimalRepro, normalizeErrorMessage, parseContract, RepoTarget } from '@tracemend/contracts';
import { materializeRepo, type FixtureRepo } from '@tracemend/fixture-kit';
import { buildBaseImage, DockerSandboxDriver, installDependencies, reapOrphans, sandboxImageTag } from '@tracemend/sandbox';
import { createLogger } from '@tracemend/telemetry';
import { verifyCandidate, type VerifyCandidateDeps } from './verify';

const run = promisify(execFile);
const logger = createLogger({ name: 'verifier-runner-repos-test', level: 'silent' });
const SOURCE = 'src/cart.js';
const BUGGY_LINE = '  return item.price.total * item.quantity;';

/** A repository of the same cart code whose tests run with one runner, and what its reports name. */
interface RunnerRepo {
  runner: 'mocha' | 'ava';
  folder: string;
  minimalTest: string;
  testFile: { path: string; command: string[] };
  /** Names as the verifier reads them from this runner's report. */
  names: { minimal: string; baselineFailure: string; broken: string };
}

const RUNNER_REPOS: RunnerRepo[] = [
  {
    runner: 'mocha',
    folder: 'mocha-repo',
    minimalTest: `'use strict';
const assert = require('node:assert/strict');
const { priceCart } = require('../src/cart.js');

it('prices the recorded cart, whose line has no price', () => {
  assert.equal(priceCart({ items: [{ quantity: 2 }] }), 0);
});
`,
    testFile: { path: 'test/tracemend-cart.spec.js', command: ['npx', 'mocha', 'test/tracemend-cart.spec.js'] },
    names: {
      minimal: 'test/tracemend-cart.spec.js > prices the recorded cart, whose line has no price',
      baselineFailure: 'test/cart.spec.js > priceCart rounds half a cent up',
      broken: 'test/cart.spec.js > priceCart adds up its lines',
    },
  },
  {
    // ava needs its cache folder made at install time (node_modules is read-only in the sandbox), and its
    // report keeps test titles alone, since ava prefixes the file only when several files ran.
    runner: 'ava',
    folder: 'ava-repo',
    minimalTest: `'use strict';
const test = require('ava');
const { priceCart } = require('../src/cart.js');

test('prices the recorded cart, whose line has no price', (t) => {
  t.is(priceCart({ items: [{ quantity: 2 }] }), 0);
});
`,
    testFile: { path: 'test/tracemend-cart.test.js', command: ['npx', 'ava', 'test/tracemend-cart.test.js'] },
    names: { minimal: 'prices the recorded cart, whose line has no price', baselineFailure: 'priceCart rounds half a cent up', broken: 'priceCart adds up its lines' },
  },
];

describe.each(RUNNER_REPOS)('verifyCandidate on a $runner repository (real Docker)', (setup) => {
  let root: string;
  let repo: FixtureRepo;
  let deps: VerifyCandidateDeps;
  let depsDir: string;
  let target: RepoTarget;
  let minimal: MinimalRepro;

  /** A candidate replacing the buggy line, with the diff git prints for it. */
  async function candidate(id: string, replacement: string): Promise<Candidate> {
    const scratch = await mkdtemp(join(root, 'scratch-'));
    await run('git', ['clone', '--quiet', repo.dir, scratch]);
    const source = await readFile(join(scratch, SOURCE), 'utf8');
    const lines = source.split('\n');
    const line = lines.indexOf(BUGGY_LINE) + 1;
    await writeFile(join(scratch, SOURCE), source.replace(BUGGY_LINE, replacement));
    const { stdout: diff } = await run('git', ['-C', scratch, 'diff', '--no-color']);
    await rm(scratch, { recursive: true, force: true });
    return parseContract(
      Candidate,
      {
        schemaVersion: 1,
        id,
        origin: 'template',
        template: 'null-guard',
        rationale: `candidate ${id}`,
        suspectRank: 0,
        editPlan: { edits: [{ file: SOURCE, startLine: line, endLine: line, before: BUGGY_LINE, after: replacement }], diff },
        size: { files: 1, linesAdded: 1, linesRemoved: 1 },
      },
      'Candidate',
    );
  }

  beforeAll(async () => {
    await buildBaseImage();
    root = await mkdtemp(join(tmpdir(), `tracemend-verifier-${setup.runner}-`));
    repo = await materializeRepo(fileURLToPath(new URL(`../test/${setup.folder}`, import.meta.url)), join(root, 'repo'), { message: 'shop-cart: release 1.4.0' });
    ({ depsDir } = await installDependencies({ repoDir: repo.dir, cacheRoot: join(tmpdir(), 'tracemend-verifier-deps') }));
    deps = { driver: new DockerSandboxDriver({ logger }), image: sandboxImageTag(), logger, workRoot: join(root, 'work') };
    target = parseContract(
      RepoTarget,
      {
        schemaVersion: 1,
        service: 'shop-cart',
        repository: { owner: 'acme', name: 'shop-cart', cloneUrl: 'http://127.0.0.1:3999/acme/shop-cart.git' },
        baseBranch: 'main',
        sha: repo.sha,
        test: { runner: setup.runner, command: ['npm', 'test'] },
        dataContract: 'contracts/shop-cart.yaml',
      },
      'RepoTarget',
    );
    minimal = parseContract(
      MinimalRepro,
      {
        schemaVersion: 1,
        entry: { kind: 'function', module: SOURCE, export: 'priceCart', args: [{ items: [{ quantity: 2 }] }] },
        environment: { featureFlags: {}, env: {}, runtime: { name: 'node', version: process.versions.node } },
        downstream: [],
        signature: {
          errorType: 'TypeError',
          normalizedMessage: normalizeErrorMessage("Cannot read properties of undefined (reading 'total')"),
          frames: [{ function: 'lineTotal', file: SOURCE }],
          hash: '3c4a1f0e9b8d7c6a',
        },
        testsRun: 6,
        cacheHits: 1,
        testFile: { ...setup.testFile, content: setup.minimalTest, runner: setup.runner },
      },
      'MinimalRepro',
    );
  }, 600_000);

  afterAll(async () => {
    await reapOrphans({ olderThanMs: 0, labels: { 'tracemend.stage': 'verify' } });
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  it("reads per-test results from the runner's report: signature at base, the baseline failure excluded", async () => {
    const fix = await candidate('cart-price-guard', '  return (item.price?.total ?? 0) * item.quantity;');
    const verification = await verifyCandidate(deps, { repoDir: repo.dir, depsDir, target, minimal, candidate: fix });

    expect(verification.verdict).toBe('verified');
    const { checks } = verification;
    expect(checks.failsBefore.status).toBe('passed');
    expect(checks.failsBefore.detail.split('\n')).toEqual([
      "the minimal test failed with TypeError: Cannot read properties of undefined (reading 'total') at src/cart.js, as recorded",
      `✗ ${setup.names.minimal}: TypeError: Cannot read properties of undefined (reading 'total')`,
    ]);
    expect(checks.typecheck).toMatchObject({ status: 'skipped', detail: 'no tsconfig.json: the repository has no TypeScript to check' });
    expect(checks.passesAfter).toMatchObject({ status: 'passed', detail: '1 test passed with the patch' });
    // Two repository tests pass, one fails as at base (mocha's also has one skipped); the minimal test now passes.
    expect(checks.suite).toMatchObject({ status: 'passed', passed: 3, failed: 1, baselineFailures: [setup.names.baselineFailure] });
    expect(checks.suite.detail).toBe('3 passed, 1 failed (1 failing at base too)');
  });

  it("rejects a patch that breaks one of the repository's tests, naming it", async () => {
    const wrong = await candidate('cart-price-no-quantity', '  return item.price ? item.price.total : 0;');
    const verification = await verifyCandidate(deps, { repoDir: repo.dir, depsDir, target, minimal, candidate: wrong });

    expect(verification.verdict).toBe('rejected');
    expect(verification.checks.passesAfter.status).toBe('passed');
    const broken = setup.names.broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(verification.reason).toMatch(new RegExp(`^suite failed: 2 passed, 2 failed \\(1 failing at base too\\); new failures: \\| ✗ ${broken}: AssertionError`));
  });
});
