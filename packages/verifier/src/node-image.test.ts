// The verify stage runs a repository pinned to Node 18 on Node 18: its failing test fails there before
// the patch and passes after, while on the host's Node it would not fail at all.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Candidate, MinimalRepro, normalizeErrorMessage, parseContract, type RepoTarget, type VerifyInput } from '@tracemend/contracts';
import { exampleRepoTarget } from '@tracemend/contracts/examples';
import { buildBaseImage, createWorkspace, DockerSandboxDriver, reapOrphans, sandboxImageTag } from '@tracemend/sandbox';
import { createLogger } from '@tracemend/telemetry';
import { createVerifierActivities } from './activities';

const git = promisify(execFile);
const logger = createLogger({ name: 'verifier-node-image-test', level: 'silent' });
const SOURCE = 'src/rank.js';
const BROKEN = '  return scores.toSorted((a, b) => b - a);';
const FIXED = '  return [...scores].sort((a, b) => b - a);';
const MINIMAL_TEST = `import assert from 'node:assert/strict';
import { it } from 'node:test';
import { rank } from '../src/rank.js';

it('ranks scores from the highest', () => {
  assert.deepEqual(rank([3, 1, 2]), [3, 2, 1]);
});
`;

let root: string;
let target: RepoTarget;
let candidate: Candidate;
let minimal: MinimalRepro;

async function commitAll(dir: string, message: string): Promise<void> {
  await git('git', ['-C', dir, 'add', '.']);
  await git('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', message]);
}

beforeAll(async () => {
  await buildBaseImage();
  root = await mkdtemp(join(tmpdir(), 'tracemend-verifier-node-'));
  const origin = join(root, 'ranker');
  await mkdir(join(origin, 'src'), { recursive: true });
  await writeFile(join(origin, '.nvmrc'), 'lts/hydrogen\n');
  await writeFile(join(origin, 'package.json'), JSON.stringify({ name: 'ranker', version: '1.0.0', private: true, type: 'module', scripts: { test: 'node --test' } }));
  await writeFile(join(origin, 'package-lock.json'), JSON.stringify({ name: 'ranker', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'ranker', version: '1.0.0' } } }));
  await writeFile(join(origin, SOURCE), `export function rank(scores) {\n${BROKEN}\n}\n`);
  await git('git', ['init', '--quiet', '-b', 'main', origin]);
  await commitAll(origin, 'rank scores');
  const sha = (await git('git', ['-C', origin, 'rev-parse', 'HEAD'])).stdout.trim();
  target = { ...exampleRepoTarget, service: 'ranker', repository: { owner: 'acme', name: 'ranker', cloneUrl: origin }, sha, test: { runner: 'node:test', command: ['npm', 'test'] } };

  // The candidate's diff is what git prints for the edit, made in a scratch clone.
  const scratch = join(root, 'scratch');
  await git('git', ['clone', '--quiet', origin, scratch]);
  await writeFile(join(scratch, SOURCE), `export function rank(scores) {\n${FIXED}\n}\n`);
  const { stdout: diff } = await git('git', ['-C', scratch, 'diff', '--no-color']);
  candidate = parseContract(
    Candidate,
    {
      schemaVersion: 1,
      id: 'ranker-copy-then-sort',
      origin: 'template',
      template: 'api-fallback',
      rationale: 'sort a copy: Array.prototype.toSorted is not in Node 18',
      suspectRank: 0,
      editPlan: { edits: [{ file: SOURCE, startLine: 2, endLine: 2, before: BROKEN, after: FIXED }], diff },
      size: { files: 1, linesAdded: 1, linesRemoved: 1 },
    },
    'Candidate',
  );
  minimal = parseContract(
    MinimalRepro,
    {
      schemaVersion: 1,
      entry: { kind: 'function', module: SOURCE, export: 'rank', args: [[3, 1, 2]] },
      environment: { featureFlags: {}, env: {}, runtime: { name: 'node', version: '18.20.8' } },
      downstream: [],
      signature: {
        errorType: 'TypeError',
        normalizedMessage: normalizeErrorMessage('scores.toSorted is not a function'),
        frames: [{ function: 'rank', file: SOURCE }],
        hash: '7a0b1c2d3e4f5a6b',
      },
      testsRun: 3,
      cacheHits: 0,
      testFile: { path: 'test/tracemend-rank.test.js', content: MINIMAL_TEST, runner: 'node:test', command: ['node', '--test', 'test/tracemend-rank.test.js'] },
    },
    'MinimalRepro',
  );
}, 300_000);

afterAll(async () => {
  await reapOrphans({ olderThanMs: 0, labels: { 'tracemend.stage': 'verify' } });
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

function input(): VerifyInput {
  return { incidentId: 'verify-node-image', target, minimal, candidate };
}

describe('the verify stage on a repository whose .nvmrc asks for Node 18', () => {
  it("verifies the patch on Node 18, where the test fails before it; the host's Node cannot", { timeout: 600_000 }, async () => {
    const driver = new DockerSandboxDriver({ logger });
    const workspaceRoot = join(root, 'workspace');
    const onEighteen = await createVerifierActivities({
      driver,
      image: sandboxImageTag(),
      workspace: createWorkspace({ root: workspaceRoot, logger }),
      workRoot: join(root, 'verify'),
      logger,
    }).verify(input());
    expect(onEighteen.checks.failsBefore.detail).toMatch(/^the minimal test failed with TypeError: scores\.toSorted is not a function at src\/rank\.js, as recorded/);
    expect(onEighteen.checks.failsBefore.status).toBe('passed');
    expect(onEighteen.checks.passesAfter.status).toBe('passed');
    expect(onEighteen.verdict, onEighteen.reason).toBe('verified');

    // The image the operator names serves as it is: there the test passes before the patch too.
    const onHost = await createVerifierActivities({
      driver,
      image: sandboxImageTag(),
      workspace: createWorkspace({ root: workspaceRoot, logger, matchNode: false }),
      workRoot: join(root, 'verify'),
      logger,
    }).verify(input());
    expect(onHost.checks.failsBefore.status).toBe('failed');
    expect(onHost.verdict).toBe('rejected');
  });
});
