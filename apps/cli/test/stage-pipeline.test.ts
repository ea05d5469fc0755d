// The standalone stage commands as an operator chains them: each one the `tracemend` executable in its
// own process, contract JSON in on stdin and out on stdout, over a real Docker sandbox.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FailureEnvelope,
  GatedEnvelope,
  STAGE_ACTIVITIES,
  type Candidate,
  type Localization,
  type MinimalRepro,
  type RepoTarget,
  type Reproduction,
  type StageActivityName,
  type Verification,
} from '@tracemend/contracts';
import { FIXTURE_BUGS, fixtureAlertPaths, fixtureCatalogYaml, loadFixtureRepo, type FixtureRepo } from '@tracemend/fixture-kit';
import type { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from './bin';

const incidentId = 'leaderboard-from-the-command-line';
let dir: string;
let catalog: string;
let repo: FixtureRepo;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-cli-stages-'));
  repo = await loadFixtureRepo('leaderboard', join(dir, 'repos', 'leaderboard'));
  catalog = join(dir, 'tracemend.config.yaml');
  await writeFile(catalog, fixtureCatalogYaml({ 'users-api': '/absent/users-api.git', leaderboard: repo.dir, 'checkout-worker': '/absent/checkout-worker.git' }));
  env = { TRACEMEND_STATE_DIR: join(dir, 'state') };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `tracemend <command> - --config <catalog>` with `input` on stdin; returns its stdout, failing with its stderr. */
async function stage(command: string, input: string): Promise<unknown> {
  const result = await runBin([command, '-', '--config', catalog], env, { stdin: input });
  expect(result.code, `tracemend ${command} failed:\n${result.stderr}`).toBe(0);
  return JSON.parse(result.stdout) as unknown;
}

/** Runs one activity stage over its input contract and parses what it printed with its output contract. */
async function activity<N extends StageActivityName>(name: N, input: z.input<(typeof STAGE_ACTIVITIES)[N]['input']>): Promise<z.infer<(typeof STAGE_ACTIVITIES)[N]['output']>> {
  const output = await stage(name, JSON.stringify(input));
  return STAGE_ACTIVITIES[name].output.parse(output) as z.infer<(typeof STAGE_ACTIVITIES)[N]['output']>;
}

// Each stage starts its own process and sandbox; the whole chain takes about forty seconds on two cores.
describe('tracemend <stage> over stdin and stdout', () => {
  it('takes the leaderboard alert from ingest through verify to a verified patch', async () => {
    const alert = await readFile(fixtureAlertPaths('leaderboard').traces, 'utf8');
    const envelope = FailureEnvelope.parse(await stage('ingest', alert));
    expect(envelope.identity.service).toBe('leaderboard');
    expect(envelope.symptom.errorType).toBe('TypeError');

    const email = /[\w.+-]+@example\.net/.exec(alert)?.[0];
    expect(email, 'the alert carries no e-mail address').toBeDefined();
    expect(JSON.stringify(envelope)).toContain(email);
    const gated = GatedEnvelope.parse(await stage('gate', JSON.stringify(envelope)));
    expect(gated.privacy.contract.id).toBe('leaderboard');
    expect(JSON.stringify(gated)).not.toContain(email);

    const target: RepoTarget = await activity('triage', { incidentId, gated });
    expect(target).toMatchObject({ service: 'leaderboard', sha: repo.sha, repository: { cloneUrl: repo.dir } });

    const reproduction: Reproduction = await activity('reproduce', { incidentId, gated, target });
    expect(reproduction.reproduced, reproduction.reason).toBe(true);
    expect(reproduction.observed?.errorType).toBe('TypeError');

    const minimal: MinimalRepro = await activity('minimize', { incidentId, gated, target, reproduction });
    expect(minimal.signature.errorType).toBe('TypeError');
    expect(minimal.testsRun).toBeGreaterThan(0);
    expect(minimal.testFile.content).toContain('topUsers');

    const localization: Localization = await activity('localize', { incidentId, target, minimal });
    const top = localization.suspects[0];
    expect(top, 'no suspect').toBeDefined();
    expect(top).toMatchObject({ file: FIXTURE_BUGS.leaderboard.file, function: FIXTURE_BUGS.leaderboard.function });

    const set = await activity('repair', { incidentId, target, symptom: gated.envelope.symptom, minimal, localization, round: 1, maxCandidates: 5, rejected: [] });
    expect(set.candidates.length).toBeGreaterThan(0);

    // As the workflow does: verify in rank order until a candidate holds.
    const verdicts: { candidate: Candidate; verification: Verification }[] = [];
    for (const candidate of set.candidates) {
      const verification = await activity('verify', { incidentId, target, minimal, candidate });
      expect(verification.candidateId).toBe(candidate.id);
      verdicts.push({ candidate, verification });
      if (verification.verdict === 'verified') break;
    }
    const final = verdicts.at(-1)!.verification;
    expect(final.verdict, verdicts.map((v) => `${v.candidate.id}: ${v.verification.reason}`).join('\n')).toBe('verified');
    expect(final.checks.failsBefore.status).toBe('passed');
    expect(final.checks.passesAfter.status).toBe('passed');
    expect(final.checks.suite.status).toBe('passed');
    expect(final.checks.suite.failed).toBe(0);
  }, 300_000);

  it('names the path of a contract field that is wrong, or input that is not JSON, on one line and exits 1', async () => {
    const input = { incidentId, target: { schemaVersion: 1, service: 'leaderboard' }, minimal: {} };
    const result = await runBin(['localize', '-', '--config', catalog], env, { stdin: JSON.stringify(input) });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^tracemend localize: localize input is invalid: /);
    expect(lines[0]).toContain('target.repository: ');
    expect(lines[0]).toContain('minimal.testFile: ');

    const notJson = await runBin(['verify', '-', '--config', catalog], env, { stdin: '{"a"\n:x}' });
    expect(notJson.code).toBe(1);
    expect(notJson.stderr.trimEnd().split('\n'), notJson.stderr).toHaveLength(1);
    expect(notJson.stderr).toMatch(/^tracemend verify: verify input is not JSON: Unexpected token/);
  });
});
