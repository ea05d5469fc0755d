// `tracemend run` as an operator runs it: the executable in its own process, against a real Temporal
// dev server, the worker it starts itself, the GitHub emulator and a recorded production alert.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { IncidentOutcome, STAGES } from '@tracemend/contracts';
import { startFixtureGitHub, type FixtureGitHub } from '@tracemend/e2e';
import { fixtureAlertPaths } from '@tracemend/fixture-kit';
import { startTemporalDevServer, type TemporalDevServer } from '@tracemend/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopBackground } from '../src/background';
import { runBin, type BinResult } from './bin';

const alert = fixtureAlertPaths('leaderboard');
let temporal: TemporalDevServer;
let dir: string;
let state: string;
let github: FixtureGitHub;
let env: NodeJS.ProcessEnv;
let connection: Connection;
let client: Client;
/** The workflow the alert started when submitted without --wait. */
let submittedWorkflowId: string;

beforeAll(async () => {
  // A Temporal server of its own: Temporal keeps listing a stopped worker's pollers for minutes, and
  // other test files of this package expect no worker on the shared one.
  temporal = await startTemporalDevServer();
  dir = await mkdtemp(join(tmpdir(), 'tracemend-cli-run-'));
  state = join(dir, 'state');
  github = await startFixtureGitHub(dir);
  env = {
    TRACEMEND_TEMPORAL_ADDRESS: temporal.address,
    TRACEMEND_STATE_DIR: state,
    TRACEMEND_GITHUB_API_URL: github.emulator.url,
    TRACEMEND_GITHUB_TOKEN: github.githubToken,
  };
  connection = await Connection.connect({ address: temporal.address });
  client = new Client({ connection });
});

afterAll(async () => {
  // The worker `tracemend run` started keeps running in the background, as it does for an operator.
  await stopBackground(state, 'worker');
  await connection?.close();
  await github?.emulator.stop();
  await temporal?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The background worker's log, to explain a failure. */
async function workerLog(): Promise<string> {
  return (await readFile(join(state, 'logs', 'worker.log'), 'utf8').catch(() => '(no worker log)')).slice(-4_000);
}

async function run(...args: string[]): Promise<BinResult> {
  return runBin(['run', ...args], env);
}

/** Exit code 2 or 1 with exactly one line on stderr, nothing on stdout. */
function expectOneLineError(result: BinResult, code: number): string {
  expect(result.code, result.stderr).toBe(code);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  return lines[0] ?? '';
}

describe('tracemend run <alert-file> --config <file>', () => {
  it('without --wait, --json prints what the intake did with each alert and returns at once', async () => {
    const logs = await run(alert.logs, '--config', github.catalogFile, '--json');
    expect(logs.code, `${logs.stderr}\n${await workerLog()}`).toBe(0);
    // A log export only joins its failure's trace: it is stored, it starts nothing.
    const stored = JSON.parse(logs.stdout) as Record<string, unknown>;
    expect(Object.keys(stored).sort()).toEqual(['alertId', 'format', 'reason', 'status', 'traceIds']);
    expect(stored).toMatchObject({ format: 'otlp-logs-json', status: 'stored' });
    expect(stored.reason).toEqual(expect.any(String));
    expect(stored.alertId).toMatch(/^[0-9a-f]{64}$/);
    expect((stored.traceIds as string[]).length).toBeGreaterThan(0);

    const traces = await run(alert.traces, '--config', github.catalogFile, '--json');
    expect(traces.code, `${traces.stderr}\n${await workerLog()}`).toBe(0);
    const accepted = JSON.parse(traces.stdout) as Record<string, unknown>;
    expect(Object.keys(accepted).sort()).toEqual(['alertId', 'fingerprint', 'format', 'incidentId', 'status', 'workflowId']);
    expect(accepted).toMatchObject({ format: 'otlp-traces-json', status: 'started', fingerprint: accepted.incidentId });
    submittedWorkflowId = String(accepted.workflowId);
    // The workflow is real: Temporal knows it by the printed id.
    const described = await client.workflow.getHandle(submittedWorkflowId).describe();
    expect(described.type).toBe('repairIncident');
    // The alerts, the worker's pid file and its log are in the state folder the worker reads.
    expect(await readdir(join(state, 'evidence', 'alerts'))).not.toHaveLength(0);
    expect(await readFile(join(state, 'run', 'worker.pid'), 'utf8')).toMatch(/^\d+\n$/);
    expect(await workerLog()).toContain('"msg":"worker started"');
  }, 300_000);

  it('with --wait --json prints the IncidentOutcome: pull request, risk and every stage', async () => {
    expect(submittedWorkflowId, 'the alert was not submitted').toBeDefined();
    const result = await run(alert.traces, '--config', github.catalogFile, '--wait', '--json');
    expect(result.code, `${result.stdout}\n${result.stderr}\n${await workerLog()}`).toBe(0);
    const outcome = IncidentOutcome.parse(JSON.parse(result.stdout));
    // The same failure is the same incident: it attaches to the workflow while that runs, or (when the
    // incident already ended) starts a new run under the same workflow id. Which one depends on timing;
    // the end-to-end package tests the attaching itself.
    expect(outcome.workflowId).toBe(submittedWorkflowId);
    expect([1, 2]).toContain(outcome.occurrences);
    expect(outcome.outcome, outcome.reason).toBe('pr-opened');
    expect(outcome.service).toBe('leaderboard');

    const pr = outcome.pr!;
    expect(pr.url).toBe(`${github.emulator.webUrl}/acme/leaderboard/pull/${pr.number}`);
    expect(pr.number).toBeGreaterThan(0);
    expect(pr.branch).toMatch(/^tracemend\/leaderboard\/[0-9a-f]+-/);
    const pull = await fetch(`${github.emulator.url}/repos/acme/leaderboard/pulls/${pr.number}`, { headers: { authorization: `Bearer ${github.githubToken}` } });
    expect(pull.status, 'the pull request is not in the emulator').toBe(200);
    expect(((await pull.json()) as { head: { ref: string } }).head.ref).toBe(pr.branch);

    const risk = outcome.risk!;
    expect(risk.score).toBeGreaterThanOrEqual(0);
    expect(risk.score).toBeLessThanOrEqual(100);
    expect(risk.factors.length).toBeGreaterThan(0);
    for (const factor of risk.factors) expect(factor.name).not.toBe('');

    const names = outcome.stages.map((stage) => stage.stage);
    // Every stage of the pipeline, once each, in order: an incident with one repair round.
    expect(names).toEqual([...STAGES]);
    for (const stage of outcome.stages) {
      expect(['succeeded', 'skipped'], `${stage.stage}: ${stage.summary}`).toContain(stage.status);
      expect(stage.durationMs, stage.stage).toBeGreaterThanOrEqual(0);
      expect(stage.summary.length, stage.stage).toBeGreaterThan(0);
    }
    expect(outcome.stages.find((stage) => stage.stage === 'verify')?.status).toBe('succeeded');
  }, 300_000);

  it('names a missing alert file, an unknown option and a file that is not an alert, on one line', async () => {
    const missing = join(dir, 'absent.json');
    expect(expectOneLineError(await run(missing, '--config', github.catalogFile), 2)).toBe(`tracemend run: cannot read the alert file ${missing}: no such file`);

    const absentCatalog = join(dir, 'absent.yaml');
    expect(expectOneLineError(await run(alert.traces, '--config', absentCatalog), 2)).toMatch(new RegExp(`^tracemend run: cannot read the service catalog ${absentCatalog}: `));

    expect(expectOneLineError(await run(alert.traces, '--config', github.catalogFile, '--fast'), 2)).toMatch(/^tracemend run: unknown option --fast; usage: tracemend run <alert-file>/);
    expect(expectOneLineError(await run(alert.traces), 2)).toMatch(/^tracemend run: --config <tracemend.config.yaml> is required; usage: /);

    const notJson = join(dir, 'not-json.txt');
    // Short enough that the parser's message quotes all of it, line break included.
    await writeFile(notJson, 'TypeError\n  at topUsers\n');
    expect(expectOneLineError(await run(notJson, '--config', github.catalogFile), 2)).toMatch(new RegExp(`^tracemend run: the alert file ${notJson} is not JSON: `));

    // Valid JSON, but no alert format the intake reads: refused before any incident starts.
    const notAlert = join(dir, 'not-an-alert.json');
    await writeFile(notAlert, JSON.stringify({ service: 'leaderboard', message: 'it broke' }));
    const refused = expectOneLineError(await run(notAlert, '--config', github.catalogFile, '--json'), 1);
    expect(refused).toMatch(new RegExp(`^tracemend run: the alert ${notAlert} was refused \\(4\\d\\d [A-Z_]+\\): \\S`));
  }, 300_000); // six CLI processes, one after another
});
