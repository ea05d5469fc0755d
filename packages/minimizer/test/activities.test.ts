// The minimize stage as the worker runs it: a real checkout of the leaderboard fixture, the reproduce
// stage's signature, every candidate judged by a resident harness in the Docker sandbox. Needs a
// Docker engine and builds the sandbox image.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MinimalRepro, parseContract, type FailureEnvelope, type Reproduction } from '@tracemend/contracts';
import { FIXTURE_BUGS } from '@tracemend/fixture-kit';
import { buildBaseImage, createSandboxActivities } from '@tracemend/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMinimizerActivities } from '../src/activities';
import { countContainers, leaderboardSetup, released, type LeaderboardSetup } from './leaderboard';

const exec = promisify(execFile);
const runId = `${process.pid}-${Date.now()}`;
const BUG = FIXTURE_BUGS.leaderboard;
/**
 * The failing call as the crash needs it: a cache whose `active_users` snapshot is null. The recorded
 * fields stay as they were (k is still 10): only whole subtrees and array items are removed.
 */
const MINIMAL_ARGS = [{ $stub: { get: { active_users: null } } }, 10];

let root: string;
let setup: LeaderboardSetup;
let reproduction: Reproduction;

beforeAll(async () => {
  await buildBaseImage();
  root = await mkdtemp(join(tmpdir(), 'tracemend-minimizer-'));
  setup = await leaderboardSetup(root);
  const sandbox = createSandboxActivities({ driver: setup.driver, image: setup.image, workspace: setup.workspace, logger: setup.logger });
  reproduction = await sandbox.reproduce({ incidentId: `test-reproduce-${runId}`, gated: released(setup.envelope), target: setup.target });
  if (!reproduction.reproduced) throw new Error(`the leaderboard alert did not reproduce: ${reproduction.reason}`);
});

afterAll(async () => {
  for (const incident of ['reproduce', 'recorded', 'noisy']) await setup?.driver.reapOrphans({ olderThanMs: 0, labels: { 'tracemend.incident': `test-${incident}-${runId}` } });
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

/** Runs the minimize stage for `envelope` as incident `name`, counting the incident's containers. */
async function minimize(name: string, envelope: FailureEnvelope) {
  const incidentId = `test-${name}-${runId}`;
  const stage = createMinimizerActivities({ workspace: setup.workspace, startHarness: setup.startHarness, logger: setup.logger });
  const { result, containers } = await countContainers(incidentId, () => stage.minimize({ incidentId, gated: released(envelope), target: setup.target, reproduction }));
  return { minimal: parseContract(MinimalRepro, result, 'MinimalRepro'), containers };
}

/**
 * What both recordings must come down to: the crashing call with its null entry and nothing else, the
 * recorded signature, more than `minTests` runs, and every run judged in `sandboxes` containers that
 * are gone afterwards.
 */
function expectMinimizedToTheCrash(
  { minimal, containers }: Awaited<ReturnType<typeof minimize>>,
  label: string,
  minTests: number,
  { sandboxes = 1, args = MINIMAL_ARGS }: { sandboxes?: number; args?: unknown[] } = {},
): void {
  expect(minimal.entry).toEqual({ kind: 'function', module: BUG.entry.module, export: 'topUsers', args });
  expect(minimal.signature).toEqual(reproduction.expected);
  expect(minimal.environment.featureFlags).toEqual({});
  expect(minimal.environment.env).toEqual({});
  expect(minimal.downstream).toEqual([]);
  expect(minimal.testsRun).toBeGreaterThan(minTests);
  // One container judges every candidate; a second, fresh one checks smaller flags and env (modules may read them when they load).
  expect(containers.created).toHaveLength(sandboxes);
  expect(containers.seenRunning).toEqual(containers.created);
  expect(containers.remaining).toEqual([]);
  console.info(`${label} leaderboard input: testsRun=${minimal.testsRun} cacheHits=${minimal.cacheHits}`);
}

/** Runs `command` in `dir` on the host; ok is whether it exited 0. */
async function run(dir: string, command: readonly string[]): Promise<{ ok: boolean; output: string }> {
  const [program = 'node', ...args] = command;
  try {
    const { stdout, stderr } = await exec(program, args, { cwd: dir, env: { ...process.env, CI: '1' } });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return { ok: false, output: (failed.stdout ?? '') + (failed.stderr ?? '') };
  }
}

describe('the minimize stage on the leaderboard incident', () => {
  it('keeps the recorded null active_users entry, judging every candidate in one sandbox container', async () => {
    expect(setup.envelope.entry).toEqual({ kind: 'function', module: BUG.entry.module, export: 'topUsers', args: [{ $stub: { get: { active_users: null } } }, 10] });
    expectMinimizedToTheCrash(await minimize('recorded', setup.envelope), 'recorded', 1);
  });

  it('removes every subtree, argument, flag, variable and call of a noisier recording the crash does not need', async () => {
    // What a busier production recording holds besides the crash: more cache answers, a set call,
    // an options argument, feature flags, env vars and a downstream HTTP call the function never makes.
    const noisy: FailureEnvelope = {
      ...setup.envelope,
      entry: {
        kind: 'function',
        module: BUG.entry.module,
        export: 'topUsers',
        args: [
          {
            $stub: {
              get: { active_users: null, 'leaderboard:weekly': [{ id: 'usr_1', score: 40 }], 'config:page_size': 25 },
              set: { active_users: true },
            },
          },
          10,
          { requestId: 'req-81f2', locale: 'sv-SE', dryRun: false },
        ],
      },
      environment: {
        ...setup.envelope.environment,
        featureFlags: { leaderboardV2: true, compactRows: false, weeklyReset: 'monday' },
        env: { CACHE_URL: 'redis://cache.internal:6379/0', LEADERBOARD_TTL: '300', LOG_LEVEL: 'info' },
      },
      downstream: [
        {
          method: 'GET',
          urlTemplate: 'http://profiles.internal/v1/users/{id}',
          url: 'http://profiles.internal/v1/users/usr_1',
          status: 200,
          responseHeaders: { 'content-type': 'application/json' },
          responseBody: { id: 'usr_1', displayName: 'Player One' },
        },
      ],
    };
    const minimized = await minimize('noisy', noisy);
    // The cache's recorded page size is a field of the stub object that stays, and the code calls the
    // cache's `set`, so both stay; the weekly board (an array the code never names) and the options go.
    expectMinimizedToTheCrash(minimized, 'noisy', 5, {
      sandboxes: 2,
      args: [{ $stub: { get: { active_users: null, 'config:page_size': 25 }, set: { active_users: true } } }, 10],
    });
    expect(minimized.minimal.cacheHits).toBeGreaterThan(0);

    // The emitted test, run by the service's own runner in a checkout of the recorded commit, fails with
    // the recorded error; with the crash fixed it passes, so it fails for that reason and no other.
    const checkout = join(root, 'regression');
    await exec('git', ['clone', '--quiet', setup.target.repository.cloneUrl, checkout]);
    await exec('git', ['-C', checkout, 'checkout', '--quiet', setup.target.sha]);
    const { depsDir } = await setup.workspace.prepare(setup.target);
    await symlink(depsDir, join(checkout, 'node_modules'));
    const { testFile } = minimized.minimal;
    expect(testFile.runner).toBe('node:test');
    expect(testFile.command).toEqual(['node', '--import', 'tsx', '--test', testFile.path]);
    await writeFile(join(checkout, testFile.path), testFile.content);
    // The replay the test imports is committed beside it, as the pull request carries it.
    expect(testFile.support?.map((file) => file.path)).toEqual(['test/tracemend-replay.mjs', 'test/tracemend-replay.d.mts']);
    for (const file of testFile.support ?? []) await writeFile(join(checkout, file.path), file.content);

    const before = await run(checkout, testFile.command);
    expect(before.ok, before.output).toBe(false);
    // node:test reports the error as TAP: its name, message and the crashing frame.
    expect(before.output).toContain("name: 'TypeError'");
    expect(before.output).toContain(`error: "${BUG.message}"`);
    expect(before.output).toMatch(new RegExp(`${BUG.function} \\(.*/${BUG.file}:\\d+:\\d+\\)`));

    const source = join(checkout, BUG.file);
    await writeFile(source, (await readFile(source, 'utf8')).replace('return users\n', 'return (users ?? [])\n'));
    const after = await run(checkout, testFile.command);
    expect(after.ok, after.output).toBe(true);
  });
});
