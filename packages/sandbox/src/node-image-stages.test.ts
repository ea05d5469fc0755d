// A repository pinned to Node 18 replays on Node 18 in every sandbox stage: reproduce, a harness for
// minimize and localize (cold and from the warm pool), while the host runs another Node.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import semver from 'semver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseContract, Reproduction, type FailureEnvelope, type RepoTarget, type ReproduceInput } from '@tracemend/contracts';
import { exampleFailureEnvelope, exampleGatedEnvelope, exampleRepoTarget } from '@tracemend/contracts/examples';
import { testDriver, testLogger } from '../test/fixtures';
import { INCIDENT_LABEL, createSandboxActivities, createWorkspace, harnessStarter } from './activities';
import { connectDocker } from './engine';
import { buildBaseImage, sandboxImageTag } from './image/build-base-image';
import { replayJobFromEnvelope } from './reproduce';
import { WarmPool } from './warm-pool';

const git = promisify(execFile);
const incidentId = `node-images-${process.pid}-${Date.now()}`;
const hostImage = sandboxImageTag();

// Array.prototype.toSorted arrived in Node 20: on Node 18 this throws, on the host's Node it returns.
const RANK_SOURCE = `export function rank(scores: number[]): number[] {
  return scores.toSorted((a, b) => b - a);
}
`;

const envelope: FailureEnvelope = {
  ...exampleFailureEnvelope,
  symptom: {
    errorType: 'TypeError',
    message: 'scores.toSorted is not a function',
    messageHash: '0f1e2d3c4b5a6978',
    frames: [{ file: 'src/rank.ts', line: 2, column: 17, function: 'rank', inApp: true }],
  },
  entry: { kind: 'function', module: 'src/rank.ts', export: 'rank', args: [[3, 1, 2]] },
  environment: { ...exampleFailureEnvelope.environment, featureFlags: {}, runtime: { name: 'node', version: '18.20.8' } },
  downstream: [],
};

let dir: string;
let target: RepoTarget;

beforeAll(async () => {
  await buildBaseImage();
  dir = await mkdtemp(join(tmpdir(), 'tracemend-node-images-'));
  const origin = join(dir, 'ranker');
  await mkdir(join(origin, 'src'), { recursive: true });
  await writeFile(join(origin, '.nvmrc'), '18\n');
  await writeFile(join(origin, 'package.json'), JSON.stringify({ name: 'ranker', version: '1.0.0', private: true, type: 'module' }));
  await writeFile(
    join(origin, 'package-lock.json'),
    JSON.stringify({ name: 'ranker', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'ranker', version: '1.0.0' } } }),
  );
  await writeFile(join(origin, 'src', 'rank.ts'), RANK_SOURCE);
  await git('git', ['init', '--quiet', '-b', 'main', origin]);
  await git('git', ['-C', origin, 'add', '.']);
  await git('git', ['-C', origin, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', 'rank scores']);
  const sha = (await git('git', ['-C', origin, 'rev-parse', 'HEAD'])).stdout.trim();
  target = { ...exampleRepoTarget, service: 'ranker', repository: { owner: 'acme', name: 'ranker', cloneUrl: origin }, sha };
});

afterAll(async () => {
  await testDriver.reapOrphans({ olderThanMs: 0, labels: { [INCIDENT_LABEL]: incidentId } });
  await rm(dir, { recursive: true, force: true });
});

function reproduceInput(): ReproduceInput {
  return { incidentId, gated: { ...exampleGatedEnvelope, envelope }, target };
}

describe('a repository whose .nvmrc says 18', () => {
  it('is reproduced on Node 18, and not on the image the operator names', { timeout: 300_000 }, async () => {
    const workspace = createWorkspace({ root: join(dir, 'workspace'), logger: testLogger });
    const prepared = await workspace.prepare(target);
    expect(prepared.image).toMatch(/^tracemend\/sandbox-node:18\.\d+\.\d+$/);
    expect(semver.major(prepared.image?.split(':')[1] ?? '')).toBe(18);

    const stage = createSandboxActivities({ driver: testDriver, image: hostImage, workspace, logger: testLogger, runs: 2 });
    const onEighteen = parseContract(Reproduction, await stage.reproduce(reproduceInput()), 'Reproduction');
    expect(onEighteen.reproduced, onEighteen.reason).toBe(true);
    expect(onEighteen.matchingRuns).toBe(2);
    expect(onEighteen.sandbox.image).toBe(prepared.image);

    // An image named by the operator wins: here the host's Node, which has toSorted, so nothing fails.
    const named = createWorkspace({ root: join(dir, 'workspace'), logger: testLogger, matchNode: false });
    expect((await named.prepare(target)).image).toBeUndefined();
    const onHost = await createSandboxActivities({ driver: testDriver, image: hostImage, workspace: named, logger: testLogger, runs: 2 }).reproduce(reproduceInput());
    expect(onHost.reproduced).toBe(false);
    expect(onHost.sandbox.image).toBe(hostImage);
    expect(onHost.reason).toContain('the entry returned without an error');
  });

  it('runs the harnesses of later stages on Node 18 too, cold and from the warm pool', { timeout: 300_000 }, async () => {
    const workspace = createWorkspace({ root: join(dir, 'workspace'), logger: testLogger });
    const prepared = await workspace.prepare(target);
    const pool = new WarmPool({ driver: testDriver, image: hostImage, logger: testLogger });
    const job = replayJobFromEnvelope(envelope, { id: 'node-18' });
    try {
      const start = harnessStarter({ driver: testDriver, image: hostImage, logger: testLogger, pool });
      const cold = await start(prepared, incidentId);
      try {
        expect(await cold.judge(job)).toMatchObject({ outcome: 'threw', error: { type: 'TypeError', message: 'scores.toSorted is not a function' } });
      } finally {
        await cold.close();
      }
      // Taking nothing started a warm container for this target, on its own image.
      const poolTarget = { image: prepared.image ?? '', repoDir: prepared.repoDir, depsDir: prepared.depsDir };
      await expect.poll(() => pool.readyCount(poolTarget), { timeout: 60_000, interval: 250 }).toBe(1);
      expect(pool.readyCount({ repoDir: prepared.repoDir, depsDir: prepared.depsDir })).toBe(0);
      const warm = await start(prepared, incidentId);
      try {
        expect(pool.takenFor(warm.containerId)).toBe(incidentId);
        const inspected = await connectDocker().getContainer(warm.containerId).inspect();
        expect(inspected.Config.Image).toBe(prepared.image);
        expect(await warm.judge(job)).toMatchObject({ outcome: 'threw', error: { type: 'TypeError', message: 'scores.toSorted is not a function' } });
      } finally {
        await warm.close();
      }
    } finally {
      await pool.drain();
    }
  });
});
