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
const logger = createLogger({ name: 'verifier-ava-test', level: 'silent' });
const SOURCE = 'src/cart.js';
const BUGGY_LINE = '  return item.price.total * item.quantity;';

const MINIMAL_TEST = `'use strict';
const test = require('ava');
const { priceCart } = require('../src/cart.js');

test('prices the recorded cart, whose line has no price', (t) => {
  t.is(priceCart({ items: [{ quantity: 2 }] }), 0);
});
`;

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
  root = await mkdtemp(join(tmpdir(), 'tracemend-verifier-ava-'));
  repo = await materializeRepo(fileURLToPath(new URL('../test/ava-repo', import.meta.url)), join(root, 'repo'), { message: 'shop-cart: release 1.4.0' });
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
      test: { runner: 'ava', command: ['npm', 'test'] },
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
      testFile: { path: 'test/tracemend-cart.test.js', content: MINIMAL_TEST, runner: 'ava', command: ['npx', 'ava', 'test/tracemend-cart.test.js'] },
    },
    'MinimalRepro',
  );
}, 600_000);

afterAll(async () => {
  await reapOrphans({ olderThanMs: 0, labels: { 'tracemend.stage': 'verify' } });
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

describe('verifyCandidate on an ava repository (real Docker)', () => {
  // node_modules is read-only in the sandbox; ava needs its cache folder made at install time to pass a run there.
  it("reads per-test results from ava's TAP: signature at base, the baseline failure excluded", async () => {
    const fix = await candidate('cart-price-guard', '  return (item.price?.total ?? 0) * item.quantity;');
    const verification = await verifyCandidate(deps, { repoDir: repo.dir, depsDir, target, minimal, candidate: fix });

    expect(verification.reason).not.toMatch(/\.cache/);
    expect(verification.verdict).toBe('verified');
    const { checks } = verification;
    expect(checks.failsBefore.status).toBe('passed');
    expect(checks.failsBefore.detail).toMatch(/^the minimal test failed with TypeError: Cannot read properties of undefined \(reading 'total'\) at src\/cart\.js, as recorded/);
    expect(checks.passesAfter).toMatchObject({ status: 'passed', detail: '1 test passed with the patch' });
    // Two repository tests pass, one fails as at base; the minimal test now passes.
    expect(checks.suite).toMatchObject({ status: 'passed', passed: 3, failed: 1 });
    expect(checks.suite.baselineFailures).toEqual([expect.stringContaining('priceCart rounds half a cent up')]);
  });

  it("rejects a patch that breaks one of the repository's ava tests, naming it", async () => {
    const wrong = await candidate('cart-price-no-quantity', '  return item.price ? item.price.total : 0;');
    const verification = await verifyCandidate(deps, { repoDir: repo.dir, depsDir, target, minimal, candidate: wrong });

    expect(verification.verdict).toBe('rejected');
    expect(verification.checks.passesAfter.status).toBe('passed');
    expect(verification.reason).toMatch(/^suite failed: 2 passed, 2 failed \(1 failing at base too\); new failures: .*priceCart adds up its lines/);
  });
});
