// The localize stage as the worker wires it: the leaderboard fixture checked out by a real workspace,
// reproduced and minimized in the Docker sandbox, then the minimal input and its passing neighbours
// replayed with V8 coverage and ranked. Needs a Docker engine and builds the sandbox image.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Localization, parseContract, type MinimalRepro, type RepoTarget } from '@tracemend/contracts';
import { FIXTURE_BUGS } from '@tracemend/fixture-kit';
import { collectSpectrumRuns, createMinimizerActivities } from '@tracemend/minimizer';
import { leaderboardSetup, released } from '@tracemend/minimizer/testing/leaderboard';
import { buildBaseImage, createSandboxActivities, DockerSandboxDriver, harnessStarter, sandboxImageTag, type Workspace } from '@tracemend/sandbox';
import { createLogger } from '@tracemend/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalizationActivities } from '../src/activities';

const BUG = FIXTURE_BUGS.leaderboard;
const runId = `${process.pid}-${Date.now()}`;
const logger = createLogger({ name: 'fault-localization-test', level: 'silent' });
const driver = new DockerSandboxDriver({ logger });
const image = sandboxImageTag();
const startHarness = harnessStarter({ driver, image, logger });

let root: string;
let workspace: Workspace;
let target: RepoTarget;
let minimal: MinimalRepro;
let topUsersLines: { start: number; end: number };

/** The 1-based lines from `export async function <name>` to its closing brace at column 0. */
function functionLines(source: string, name: string): { start: number; end: number } {
  const lines = source.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`export async function ${name}(`));
  const end = lines.findIndex((line, index) => index > start && line === '}');
  if (start < 0 || end < 0) throw new Error(`function ${name} not found`);
  return { start: start + 1, end: end + 1 };
}

beforeAll(async () => {
  await buildBaseImage();
  root = await mkdtemp(join(tmpdir(), 'tracemend-localize-'));
  const setup = await leaderboardSetup(root);
  ({ target, workspace } = setup);
  topUsersLines = functionLines(await readFile(join(target.repository.cloneUrl, BUG.file), 'utf8'), BUG.function);
  const incidentId = `test-localize-${runId}`;
  const gated = released(setup.envelope);
  const reproduction = await createSandboxActivities({ driver, image, workspace, logger }).reproduce({ incidentId, gated, target });
  if (!reproduction.reproduced) throw new Error(`the leaderboard alert did not reproduce: ${reproduction.reason}`);
  minimal = await createMinimizerActivities({ workspace, startHarness, logger }).minimize({ incidentId, gated, target, reproduction });
});

afterAll(async () => {
  await driver.reapOrphans({ olderThanMs: 0, labels: { 'tracemend.incident': `test-localize-${runId}` } });
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

describe('the localize stage on the leaderboard incident', () => {
  it('collects the failing run and passing neighbour runs with the lines each executed', async () => {
    const prepared = await workspace.prepare(target);
    const harness = await startHarness(prepared, `test-localize-${runId}`);
    const spectrum = await collectSpectrumRuns({ harness, minimal, repoDir: prepared.repoDir }).finally(() => harness.close());

    const crashLine = `${BUG.file}:${spectrum.frames[0]?.line ?? 0}`;
    expect(spectrum.frames[0]).toMatchObject({ file: BUG.file, function: BUG.function });
    expect(spectrum.frames[0]!.line).toBeGreaterThanOrEqual(topUsersLines.start);
    expect(spectrum.frames[0]!.line).toBeLessThanOrEqual(topUsersLines.end);
    const [failing, ...others] = spectrum.runs;
    expect(failing?.failed).toBe(true);
    expect(failing?.lines.has(crashLine)).toBe(true);
    const passing = others.filter((run) => !run.failed);
    expect(passing.length).toBeGreaterThan(0);
    // A neighbour that no longer shows the recorded signature never reaches the sort of a null snapshot.
    for (const run of passing) expect(run.lines.has(crashLine)).toBe(false);
    // Both kinds of run enter topUsers: its first line is executed by failing and passing runs alike.
    expect(passing.some((run) => run.lines.has(`${BUG.file}:${topUsersLines.start + 1}`))).toBe(true);
    expect(spectrum.sources.get(BUG.file)).toBe(await readFile(join(prepared.repoDir, BUG.file), 'utf8'));
  });

  it('ranks a line of topUsers first, from failing and passing sandbox runs', async () => {
    const stage = createLocalizationActivities({
      // As the worker wires it: the minimal input and its neighbours replayed in one resident harness.
      collectRuns: async (input) => {
        const prepared = await workspace.prepare(input.target);
        const harness = await startHarness(prepared, input.incidentId);
        try {
          return await collectSpectrumRuns({ harness, minimal: input.minimal, repoDir: prepared.repoDir });
        } finally {
          await harness.close();
        }
      },
      logger,
    });
    const localization = parseContract(Localization, await stage.localize({ incidentId: `test-localize-${runId}`, target, minimal }), 'Localization');

    expect(localization.failingRuns).toBeGreaterThanOrEqual(1);
    expect(localization.passingRuns).toBeGreaterThan(0);
    const [top, ...rest] = localization.suspects;
    expect(top).toMatchObject({ file: BUG.file, function: BUG.function });
    expect(top!.line).toBeGreaterThanOrEqual(topUsersLines.start);
    expect(top!.line).toBeLessThanOrEqual(topUsersLines.end);
    // The crashing line runs only in failing runs: Ochiai 1, on top of the stack.
    expect(top!.scores.ochiai).toBe(1);
    expect(top!.scores.frameWeight).toBe(1);
    expect(top!.context.lines.join('\n')).toContain('.sort(compareUsers)');

    // Ordered by score, each score the stack-weighted Ochiai (weight 0.5): off-stack lines run by
    // passing runs too score below the crash line.
    const scores = localization.suspects.map((suspect) => suspect.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    for (const suspect of localization.suspects) expect(suspect.score).toBeCloseTo((suspect.scores.ochiai * (1 + 0.5 * suspect.scores.frameWeight)) / 1.5, 10);
    expect(rest.length).toBeGreaterThan(0);
    expect(rest.some((suspect) => suspect.scores.ochiai < 1)).toBe(true);
    console.info(`leaderboard localization: ${localization.failingRuns} failing, ${localization.passingRuns} passing runs; top ${top!.file}:${top!.line} (${top!.function})`);
  });
});
