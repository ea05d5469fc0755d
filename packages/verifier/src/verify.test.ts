import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Candidate, MinimalRepro, normalizeErrorMessage, parseContract, RepoTarget, type Edit, type Verification } from '@tracemend/contracts';
import { loadFixtureRepo, type FixtureRepo } from '@tracemend/fixture-kit';
import { buildBaseImage, DockerSandboxDriver, installDependencies, reapOrphans, sandboxImageTag } from '@tracemend/sandbox';
import { createLogger } from '@tracemend/telemetry';
import { verifyCandidate, type VerifyCandidateDeps } from './verify';

const run = promisify(execFile);
const logger = createLogger({ name: 'verifier-test', level: 'silent' });
const SOURCE = 'src/leaderboard.ts';

const MINIMAL_TEST = `import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Cache } from '../src/cache.ts';
import { topUsers } from '../src/leaderboard.ts';

it('topUsers resolves to an array when the active-users snapshot has expired', async () => {
  const cache = { get: async () => null, set: async () => {} } as unknown as Cache;
  const top = await topUsers(cache, 10);
  assert.ok(Array.isArray(top));
});
`;

let root: string;
let repo: FixtureRepo;
let depsDir: string;
let source: string[];
let deps: VerifyCandidateDeps;
let target: RepoTarget;
let minimal: MinimalRepro;
const durations: Record<string, Record<string, number>> = {};

/** 1-based number of the first line equal to `text`. */
function lineOf(text: string): number {
  const index = source.indexOf(text);
  if (index < 0) throw new Error(`no line ${text} in ${SOURCE}`);
  return index + 1;
}

/** An edit replacing `count` lines from the line equal to `first`. */
function edit(first: string, count: number, after: string[]): Edit {
  const startLine = lineOf(first);
  return { file: SOURCE, startLine, endLine: startLine + count - 1, before: source.slice(startLine - 1, startLine - 1 + count).join('\n'), after: after.join('\n') };
}

/** A candidate whose diff is what git itself prints for the edit, made in a scratch clone. */
async function candidate(id: string, edits: Edit[], origin: 'template' | 'llm' = 'template'): Promise<Candidate> {
  const scratch = await mkdtemp(join(root, 'scratch-'));
  await run('git', ['clone', '--quiet', repo.dir, scratch]);
  const lines = [...source];
  for (const item of [...edits].sort((a, b) => b.startLine - a.startLine)) lines.splice(item.startLine - 1, item.endLine - item.startLine + 1, ...item.after.split('\n'));
  await writeFile(join(scratch, SOURCE), lines.join('\n'));
  const { stdout: diff } = await run('git', ['-C', scratch, 'diff', '--no-color']);
  const { stdout: numstat } = await run('git', ['-C', scratch, 'diff', '--numstat']);
  const [added = '0', removed = '0'] = numstat.trim().split(/\s+/);
  await rm(scratch, { recursive: true, force: true });
  return parseContract(
    Candidate,
    {
      schemaVersion: 1,
      id,
      origin,
      ...(origin === 'template' ? { template: 'null-guard' } : {}),
      rationale: `candidate ${id}`,
      suspectRank: 0,
      editPlan: { edits, diff },
      size: { files: 1, linesAdded: Number(added), linesRemoved: Number(removed) },
    },
    'Candidate',
  );
}

async function verify(name: string, item: Candidate, override: Partial<MinimalRepro> = {}): Promise<Verification> {
  const verification = await verifyCandidate(deps, { repoDir: repo.dir, depsDir, target, minimal: { ...minimal, ...override }, candidate: item });
  durations[name] = {
    failsBefore: verification.checks.failsBefore.durationMs,
    typecheck: verification.checks.typecheck.durationMs,
    passesAfter: verification.checks.passesAfter.durationMs,
    suite: verification.checks.suite.durationMs,
    total: verification.durationMs,
  };
  return verification;
}

beforeAll(async () => {
  await buildBaseImage();
  root = await mkdtemp(join(tmpdir(), 'tracemend-verifier-'));
  repo = await loadFixtureRepo('leaderboard', join(root, 'repo'));
  ({ depsDir } = await installDependencies({ repoDir: repo.dir, cacheRoot: join(tmpdir(), 'tracemend-verifier-deps') }));
  source = (await readFile(join(repo.dir, SOURCE), 'utf8')).split('\n');
  deps = { driver: new DockerSandboxDriver({ logger }), image: sandboxImageTag(), logger, workRoot: join(root, 'work') };
  target = parseContract(
    RepoTarget,
    {
      schemaVersion: 1,
      service: 'leaderboard',
      repository: { owner: 'acme', name: 'leaderboard', cloneUrl: 'http://127.0.0.1:3999/acme/leaderboard.git' },
      baseBranch: 'main',
      sha: repo.sha,
      test: { runner: 'node:test', command: ['npm', 'test'] },
      dataContract: 'contracts/leaderboard.yaml',
    },
    'RepoTarget',
  );
  minimal = parseContract(
    MinimalRepro,
    {
      schemaVersion: 1,
      entry: { kind: 'function', module: SOURCE, export: 'topUsers', args: [{ $stub: { get: { active_users: null } } }, 10] },
      environment: { featureFlags: {}, env: {}, runtime: { name: 'node', version: process.versions.node } },
      downstream: [],
      signature: {
        errorType: 'TypeError',
        normalizedMessage: normalizeErrorMessage("Cannot read properties of null (reading 'sort')"),
        frames: [{ function: 'topUsers', file: SOURCE }],
        hash: '5e1f0c0ffee0a11d',
      },
      testsRun: 9,
      cacheHits: 2,
      testFile: {
        path: 'test/tracemend-leaderboard.test.ts',
        content: MINIMAL_TEST,
        runner: 'node:test',
        command: ['node', '--import', 'tsx', '--test', 'test/tracemend-leaderboard.test.ts'],
      },
    },
    'MinimalRepro',
  );
}, 600_000);

afterAll(async () => {
  await reapOrphans({ olderThanMs: 0, labels: { 'tracemend.stage': 'verify' } });
  if (root !== undefined) await rm(root, { recursive: true, force: true });
  if (Object.keys(durations).length > 0) {
    console.log('verifier check durations (ms), leaderboard / node:test:');
    console.table(durations);
  }
});

describe('verifyCandidate on the leaderboard fixture (node:test, real Docker)', () => {
  it('verifies the null-coalescing fix with every check passed and scores its risk', async () => {
    const fix = await candidate('leaderboard-null-guard', [edit('  return users', 1, ['  return (users ?? [])'])]);
    const verification = await verify('correct fix', fix);

    expect(verification.verdict).toBe('verified');
    expect(verification.candidateId).toBe('leaderboard-null-guard');
    const { checks } = verification;
    expect(checks.failsBefore.status).toBe('passed');
    expect(checks.failsBefore.detail).toMatch(/^the minimal test failed with TypeError: Cannot read properties of null \(reading 'sort'\) at src\/leaderboard\.ts, as recorded\n/);
    expect(checks.typecheck).toMatchObject({ status: 'passed', detail: 'tsc --noEmit: no errors' });
    expect(checks.passesAfter).toMatchObject({ status: 'passed', detail: '1 test passed with the patch' });
    // The fixture's seven tests plus the minimal test, which the suite's glob picks up.
    expect(checks.suite).toMatchObject({ status: 'passed', passed: 8, failed: 0, baselineFailures: [] });
    expect(checks.fuzz).toMatchObject({ status: 'skipped', detail: 'fuzz variants arrive with a later issue', variants: 0 });
    for (const check of [checks.failsBefore, checks.typecheck, checks.passesAfter, checks.suite]) expect(check.durationMs).toBeGreaterThan(0);

    const risk = verification.risk;
    expect(risk?.level).toBe('low');
    expect(risk?.factors.find((f) => f.name === 'change-size')).toMatchObject({ detail: '1 added, 1 removed' });
    expect(risk?.factors.find((f) => f.name === 'exported-api')).toMatchObject({ value: 0 });
    // src/index.ts and the fixture's test import src/leaderboard.ts.
    expect(risk?.factors.find((f) => f.name === 'fan-out')).toMatchObject({ detail: '2 importing files' });
    expect(risk?.factors.find((f) => f.name === 'coverage')).toMatchObject({ value: 0.5, detail: 'unknown' });
    expect(risk?.score).toBe(19);
  });

  it('rejects a fix that breaks typing, naming the typecheck and its first error', async () => {
    const wrong = await candidate('leaderboard-string-k', [
      edit('  return users', 3, ['  return (users ?? [])', '    .sort(compareUsers)', '    .slice(0, String(k))']),
    ]);
    const verification = await verify('breaks typing', wrong);

    expect(verification.verdict).toBe('rejected');
    expect(verification.reason).toMatch(/^typecheck failed: tsc --noEmit: 1 new error \(0 at base too\)/);
    expect(verification.checks.typecheck.detail).toMatch(/src\/leaderboard\.ts\(\d+,\d+\): error TS2345/);
    // Only the types are wrong: at runtime slice coerces the string, so the tests pass.
    expect(verification.checks.passesAfter.status).toBe('passed');
    expect(verification.checks.suite.status).toBe('passed');
  });

  it('counts only the type errors a patch adds when the repository does not typecheck at its commit', async () => {
    // The same service with a type error at its commit, below the code the patches change.
    const untyped = join(root, 'untyped');
    await run('git', ['clone', '--quiet', '--no-hardlinks', repo.dir, untyped]);
    const legacy = '\n/** Kept for the v1 API, which sent scores as strings. */\nexport const LEGACY_DEFAULT_SCORE: number = \'0\';\n';
    await writeFile(join(untyped, SOURCE), `${source.join('\n')}${legacy}`);
    await run('git', ['-C', untyped, '-c', 'user.name=Leaderboard', '-c', 'user.email=dev@leaderboard.example', 'commit', '--quiet', '-am', 'keep the v1 default score']);
    const { stdout: sha } = await run('git', ['-C', untyped, 'rev-parse', 'HEAD']);
    const atCommit = (item: Candidate) =>
      verifyCandidate(deps, { repoDir: untyped, depsDir, target: { ...target, sha: sha.trim() }, minimal, candidate: item });

    // One line becomes two, so the old error moves down a line: it is still the same error.
    const fix = await candidate('leaderboard-untyped-fix', [edit('  return users', 1, ['  const list = users ?? [];', '  return list'])]);
    const fixed = await atCommit(fix);
    expect(fixed.verdict).toBe('verified');
    expect(fixed.checks.typecheck).toMatchObject({ status: 'passed', detail: 'tsc --noEmit: 0 new errors (1 at base too)' });

    const wrong = await candidate('leaderboard-untyped-string-k', [
      edit('  return users', 3, ['  return (users ?? [])', '    .sort(compareUsers)', '    .slice(0, String(k))']),
    ]);
    const rejected = await atCommit(wrong);
    expect(rejected.verdict).toBe('rejected');
    expect(rejected.reason).toMatch(/^typecheck failed: tsc --noEmit: 1 new error \(1 at base too\) \| src\/leaderboard\.ts\(\d+,\d+\): error TS2345: /);
  });

  it('says when tests failing at the commit reach for the network the sandbox does not have', async () => {
    // A test that calls a real host: in the sandbox (no network) it fails at the commit and after every patch.
    const online = join(root, 'online');
    await run('git', ['clone', '--quiet', '--no-hardlinks', repo.dir, online]);
    const networkTest = [
      "import { test } from 'node:test';",
      "import assert from 'node:assert/strict';",
      "test('reads the live exchange rate', async () => {",
      "  const response = await fetch('https://rates.example.com/v1/rates/EUR');",
      '  assert.equal(response.status, 200);',
      '});',
      '',
    ].join('\n');
    await writeFile(join(online, 'test', 'rates.test.ts'), networkTest);
    await run('git', ['-C', online, 'add', '.']);
    await run('git', ['-C', online, '-c', 'user.name=Leaderboard', '-c', 'user.email=dev@leaderboard.example', 'commit', '--quiet', '-m', 'check the live rate']);
    const { stdout: sha } = await run('git', ['-C', online, 'rev-parse', 'HEAD']);

    const fix = await candidate('leaderboard-online-fix', [edit('  return users', 1, ['  return (users ?? [])'])]);
    const verification = await verifyCandidate(deps, { repoDir: online, depsDir, target: { ...target, sha: sha.trim() }, minimal, candidate: fix });
    expect(verification.verdict, verification.reason).toBe('verified');
    expect(verification.checks.suite.baselineFailures).toEqual(['reads the live exchange rate']);
    expect(verification.checks.suite.detail).toMatch(/\(1 failing at base too, where tests reach a host \(fetch failed\) over the network, which the sandbox does not have\)/);
  });

  it('rejects a fix that breaks an existing test, naming the suite and the test', async () => {
    const wrong = await candidate('leaderboard-off-by-one', [
      edit('  return users', 3, ['  return (users ?? [])', '    .sort(compareUsers)', '    .slice(0, k - 1)']),
    ], 'llm');
    const verification = await verify('breaks a test', wrong);

    expect(verification.verdict).toBe('rejected');
    expect(verification.reason).toMatch(/^suite failed: /);
    expect(verification.checks.typecheck.status).toBe('passed');
    expect(verification.checks.passesAfter.status).toBe('passed');
    expect(verification.checks.suite.status).toBe('failed');
    expect(verification.checks.suite.detail).toContain('topUsers > ranks by score, highest first');
    expect(verification.checks.suite.failed).toBeGreaterThanOrEqual(1);
    expect(verification.risk?.factors.find((f) => f.name === 'origin')).toMatchObject({ value: 1, detail: 'llm' });
  });

  it('rejects a candidate that does not fix the bug at passes-after', async () => {
    const noop = await candidate('leaderboard-comment-only', [
      edit('  const users = await cache.get<ActiveUser[]>(ACTIVE_USERS_KEY);', 1, [
        '  // The snapshot is refreshed every minute by the activity tracker.',
        '  const users = await cache.get<ActiveUser[]>(ACTIVE_USERS_KEY);',
      ]),
    ]);
    const verification = await verify('no-op', noop);

    expect(verification.verdict).toBe('rejected');
    expect(verification.reason).toMatch(/^passes-after failed: the minimal test still fails with the patch/);
    expect(verification.checks.typecheck.status).toBe('passed');
    expect(verification.checks.passesAfter.detail).toMatch(/Cannot read properties of null/);
    // The suite includes the minimal test, which is new and not a baseline failure.
    expect(verification.checks.suite.status).toBe('failed');
    expect(verification.checks.suite.baselineFailures).toEqual([]);
  });

  it('rejects at fails-before when the minimal test does not fail on the base commit', async () => {
    const fix = await candidate('leaderboard-null-guard-2', [edit('  return users', 1, ['  return (users ?? [])'])]);
    const passingTest = MINIMAL_TEST.replace('get: async () => null', 'get: async () => []');
    const verification = await verify('test passes at base', fix, { testFile: { ...minimal.testFile, content: passingTest } });

    expect(verification.verdict).toBe('rejected');
    expect(verification.reason).toMatch(/^fails-before failed: the minimal test passed on the base commit/);
  });

  it('rejects at fails-before a test that fails with the same error type for another reason, or from another file', async () => {
    const fix = await candidate('leaderboard-null-guard-3', [edit('  return users', 1, ['  return (users ?? [])'])]);
    const expected = "expected TypeError: Cannot read properties of null (reading 'sort') at src/leaderboard.ts";

    const otherMessage = MINIMAL_TEST.replace('get: async () => null', 'get: async () => ({})');
    const byMessage = await verify('same type, other message', fix, { testFile: { ...minimal.testFile, content: otherMessage } });
    expect(byMessage.verdict).toBe('rejected');
    expect(byMessage.reason).toBe(`fails-before failed: the minimal test failed with TypeError: users.sort is not a function at src/leaderboard.ts, ${expected} | ✗ topUsers resolves to an array when the active-users snapshot has expired: TypeError: users.sort is not a function`);

    const ownError = MINIMAL_TEST.replace('  const top = await topUsers(cache, 10);', '  const top = await topUsers(cache, 10).catch(() => (null as unknown as string[]).sort());');
    const byFile = await verify('same error, test file', fix, { testFile: { ...minimal.testFile, content: ownError } });
    expect(byFile.verdict).toBe('rejected');
    expect(byFile.checks.failsBefore.detail.split('\n')[0]).toBe(
      `the minimal test failed with TypeError: Cannot read properties of null (reading 'sort') at test/tracemend-leaderboard.test.ts (its stack does not name src/leaderboard.ts), ${expected}`,
    );
  });

  it('writes the support files the test imports beside it, before and after the patch', async () => {
    const fix = await candidate('leaderboard-null-guard-support', [edit('  return users', 1, ['  return (users ?? [])'])]);
    const helper = `import type { Cache } from '../src/cache.ts';

export const expiredCache = { get: async () => null, set: async () => {} } as unknown as Cache;
`;
    const importing = MINIMAL_TEST.replace("import type { Cache } from '../src/cache.ts';\n", "import { expiredCache } from './tracemend-replay.ts';\n").replace(
      '  const cache = { get: async () => null, set: async () => {} } as unknown as Cache;\n  const top = await topUsers(cache, 10);',
      '  const top = await topUsers(expiredCache, 10);',
    );
    expect(importing).toContain('topUsers(expiredCache, 10)');
    const verification = await verify('with support file', fix, {
      testFile: { ...minimal.testFile, content: importing, support: [{ path: 'test/tracemend-replay.ts', content: helper }] },
    });

    expect(verification.verdict).toBe('verified');
    expect(verification.checks.failsBefore.detail).toMatch(/Cannot read properties of null \(reading 'sort'\)/);
    expect(verification.checks.passesAfter).toMatchObject({ status: 'passed', detail: '1 test passed with the patch' });
    expect(verification.checks.suite).toMatchObject({ status: 'passed', passed: 8, failed: 0 });
  });

  it('rejects a candidate whose edit was planned against other text, without running the patched checks', async () => {
    const stale = await candidate('leaderboard-stale', [edit('  return users', 1, ['  return (users ?? [])'])]);
    const first = stale.editPlan.edits[0];
    if (first === undefined) throw new Error('no edit');
    const planned = { ...stale, editPlan: { diff: '', edits: [{ ...first, before: '  return people' }] } };
    const verification = await verify('does not apply', planned);

    expect(verification.verdict).toBe('rejected');
    expect(verification.reason).toMatch(/^the candidate does not apply: .*"before" does not match the file/);
    expect(verification.checks.typecheck.status).toBe('skipped');
    expect(verification.checks.suite.status).toBe('skipped');
    expect(verification.risk).toBeUndefined();
  });
});
