import { execFile } from 'node:child_process';
import { readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Octokit } from '@octokit/rest';
import type { IncidentOutcome } from '@tracemend/contracts';
import { FIXTURE_BUGS, FIXTURE_CATALOG, fixtureAlertPaths, fixtureServiceNames, type FixtureServiceName } from '@tracemend/fixture-kit';
import { installDependencies } from '@tracemend/sandbox';
import { resolveTestCommand } from '@tracemend/test-runners';
import { eventually } from '@tracemend/testing';
import type {} from '@tracemend/testing/temporal-global-setup';
import { statusQuery } from '@tracemend/workflows/client';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { postAlert, startStack, type Stack } from '../src/stack';

const exec = promisify(execFile);
let stack: Stack;
const outcomes = new Map<FixtureServiceName, IncidentOutcome>();
/** Sandbox containers that other test files left before this stack started; not this run's to judge. */
let containersBefore: Set<string>;

async function sandboxContainers(): Promise<string[]> {
  const { stdout } = await exec('docker', ['ps', '-a', '--filter', 'label=tracemend.sandbox=1', '--format', '{{.ID}}']);
  return stdout.split('\n').filter((id) => id !== '');
}

beforeAll(async () => {
  containersBefore = new Set(await sandboxContainers());
  stack = await startStack(inject('temporalAddress'));
});
afterAll(async () => {
  await stack?.close();
});

/**
 * Raw personal values and secrets of an alert: emails, phone numbers and secret-looking tokens
 * anywhere in it, and the names and addresses in its recorded input (the `tracemend.input.*` JSON).
 */
function rawValuesOf(alert: string): string[] {
  const values = new Set<string>();
  for (const match of alert.matchAll(/[\w.+-]+@[\w-]+\.[\w.-]+/g)) values.add(match[0]);
  for (const match of alert.matchAll(/\+\d{8,15}/g)) values.add(match[0]);
  for (const match of alert.matchAll(/\b(?:sk|pk|rk)_live_[A-Za-z0-9]+|\btok_[A-Za-z0-9]{12,}|\bpm_[A-Za-z0-9]{8,}/g)) values.add(match[0]);
  const walk = (value: unknown, key: string): void => {
    if (typeof value === 'string') {
      if (/^(?:name|displayName|fullName|full_name|street|line1|city)$/i.test(key)) values.add(value);
    } else if (Array.isArray(value)) value.forEach((item) => walk(item, key));
    else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, k);
  };
  for (const match of alert.matchAll(/"key":\s*"tracemend\.input\.(?:body|args|payload)",\s*"value":\s*\{\s*"stringValue":\s*("(?:[^"\\]|\\.)*")/g)) {
    walk(JSON.parse(JSON.parse(match[1] ?? '""') as string), '');
  }
  for (const match of alert.matchAll(/"key":\s*"user\.(?:full_name|email)",\s*"value":\s*\{\s*"stringValue":\s*"([^"]+)"/g)) values.add(match[1] ?? '');
  return [...values].filter((value) => value.length >= 4);
}

async function git(dir: string, ...args: string[]): Promise<string> {
  return (await exec('git', ['-C', dir, ...args])).stdout.trim();
}

/** Runs a test command of the fixture's own runner on the host, in `dir`, resolved as the verifier resolves it. */
async function runTests(dir: string, command: readonly string[]): Promise<{ ok: boolean; output: string }> {
  const { argv, env } = await resolveTestCommand(command, { repoDir: dir, depsDir: join(dir, 'node_modules') });
  try {
    const { stdout, stderr } = await exec(process.execPath, argv.slice(1), { cwd: dir, env: { ...process.env, ...env, CI: '1' }, maxBuffer: 16 * 1024 * 1024 });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return { ok: false, output: (failed.stdout ?? '') + (failed.stderr ?? '') };
  }
}

/** The argv of the pull request body's "Run it with:" shell block (plain words, as the PR bot writes test paths). */
function runItWith(body: string): string[] {
  const match = /Run it with:\s*\n\s*```sh\n([^\n]+)\n```/.exec(body);
  expect(match, 'the pull request body has no "Run it with:" command').not.toBeNull();
  return (match?.[1] ?? '').trim().split(/\s+/);
}

/** The line range of a named function in a TypeScript source. */
function functionLines(source: string, name: string): { start: number; end: number } | undefined {
  const file = ts.createSourceFile('f.ts', source, ts.ScriptTarget.Latest, true);
  let found: { start: number; end: number } | undefined;
  const visit = (node: ts.Node): void => {
    const named =
      (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) && node.name?.getText() === name
        ? node
        : ts.isVariableDeclaration(node) && node.name.getText() === name && node.initializer && (ts.isArrowFunction(node.initializer) || ts.isFunctionExpression(node.initializer))
          ? node
          : undefined;
    if (named) {
      found = { start: file.getLineAndCharacterOfPosition(named.getStart()).line + 1, end: file.getLineAndCharacterOfPosition(named.getEnd()).line + 1 };
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

describe('three production incidents, alert to pull request', () => {
  it('turns each recorded alert into a verified pull request', async () => {
    const ids: [FixtureServiceName, string][] = [];
    for (const service of fixtureServiceNames) {
      const paths = fixtureAlertPaths(service);
      expect((await postAlert(stack, await readFile(paths.logs))).status).toBe(202);
      const accepted = await postAlert(stack, await readFile(paths.traces));
      expect(accepted.status).toBe(202);
      ids.push([service, String(accepted.json.workflowId)]);
    }
    for (const [service, workflowId] of ids) {
      const outcome = (await stack.client.workflow.getHandle(workflowId).result()) as IncidentOutcome;
      outcomes.set(service, outcome);
      expect(outcome.outcome, `${service}: ${outcome.reason}`).toBe('pr-opened');
      expect(outcome.pr?.url).toContain(`/acme/${service}/pull/`);
    }
  });

  it.each(fixtureServiceNames)('%s: the test fails on the recorded commit and passes on the PR head; the suite passes; the patch stays in the suspect function', async (service) => {
    const outcome = outcomes.get(service);
    expect(outcome?.pr, 'the incident opened no pull request').toBeDefined();
    const pr = outcome!.pr!;
    const checkout = join(stack.dir, 'verify', service);
    await exec('git', ['clone', '--quiet', stack.emulator.repoDir('acme', service), checkout]);
    await git(checkout, 'fetch', '--quiet', 'origin', `${pr.branch}:pr`);
    const deps = await installDependencies({ repoDir: checkout, cacheRoot: join(stack.stateDir, 'workspace', 'deps') });
    await symlink(deps.depsDir, join(checkout, 'node_modules'));

    const base = stack.repos[service].sha;
    expect(await git(checkout, 'rev-parse', 'pr~2')).toBe(base);
    // The test commit adds the test and the replay it imports (with its type declaration), nothing else.
    const added = (await git(checkout, 'diff', '--name-only', 'pr~2', 'pr~1')).split('\n');
    const testPath = added.find((path) => /^test\/tracemend-[0-9a-f]{8}\.test\.ts$/.test(path)) ?? '';
    expect(added.filter((path) => path !== testPath).sort()).toEqual(['test/tracemend-replay.d.mts', 'test/tracemend-replay.mjs']);
    const testFiles = await Promise.all(added.map(async (path) => ({ path, content: await git(checkout, 'show', `pr:${path}`) })));
    const single = service === 'leaderboard' ? ['node', '--import', 'tsx', '--test', testPath] : ['npx', 'vitest', 'run', testPath];
    // The reviewer's command: the one the pull request says to run the new test with.
    const { data: pull } = await new Octokit({ baseUrl: stack.emulator.url, auth: stack.githubToken }).pulls.get({ owner: 'acme', repo: service, pull_number: pr.number });
    const command = runItWith(pull.body ?? '');
    expect(command).toEqual(single);

    await git(checkout, 'checkout', '--quiet', base);
    for (const file of testFiles) await writeFile(join(checkout, file.path), file.content);
    const before = await runTests(checkout, command);
    expect(before.ok, `the new test passed on the recorded commit:\n${before.output}`).toBe(false);
    // The app's own error, not an answer code: the test replays the crash as the sandbox did.
    const bug = FIXTURE_BUGS[service];
    expect(before.output).toContain(bug.message);
    expect(before.output).toContain(bug.errorType);
    expect(before.output).toContain(bug.function);

    await git(checkout, 'checkout', '--quiet', '--force', 'pr');
    const after = await runTests(checkout, command);
    expect(after.ok, after.output).toBe(true);
    const suite = await runTests(checkout, FIXTURE_CATALOG[service].command);
    expect(suite.ok, suite.output).toBe(true);

    expect(outcome!.stages.find((stage) => stage.stage === 'localize')?.summary).toMatch(new RegExp(`^top suspect ${bug.file}:\\d+ \\(${bug.function}\\)`));
    const patchFiles = (await git(checkout, 'diff', '--name-only', 'pr~1', 'pr')).split('\n');
    expect(patchFiles).toEqual([bug.file]);
    const range = functionLines(await git(checkout, 'show', `${base}:${bug.file}`), bug.function);
    expect(range, `${bug.function} not found in ${bug.file}`).toBeDefined();
    const hunks = (await git(checkout, 'diff', '-U0', 'pr~1', 'pr', '--', bug.file)).matchAll(/^@@ -(\d+)(?:,(\d+))? /gm);
    for (const hunk of hunks) {
      const start = Number(hunk[1]);
      const count = hunk[2] === undefined ? 1 : Number(hunk[2]);
      expect(start).toBeGreaterThanOrEqual(range!.start);
      expect(start + Math.max(count, 1) - 1).toBeLessThanOrEqual(range!.end);
    }
  });

  it('lets no raw personal value or secret of the alerts reach a pull request, a log line or the workflow history', async () => {
    const octokit = new Octokit({ baseUrl: stack.emulator.url, auth: stack.githubToken });
    for (const service of fixtureServiceNames) {
      const paths = fixtureAlertPaths(service);
      const raw = rawValuesOf(await readFile(paths.traces, 'utf8'));
      expect(raw.length, `${service}: the alert carries no raw values to look for`).toBeGreaterThanOrEqual(2);
      expect(raw.some((value) => /^[A-Z][a-z]+ [A-Z][a-z]+$/.test(value)), `${service}: no personal name found in the alert`).toBe(true);
      const outcome = outcomes.get(service);
      const number = outcome?.pr?.number ?? 0;
      const { data: pull } = await octokit.pulls.get({ owner: 'acme', repo: service, pull_number: number });
      const { data: commits } = await octokit.pulls.listCommits({ owner: 'acme', repo: service, pull_number: number });
      const { data: files } = await octokit.pulls.listFiles({ owner: 'acme', repo: service, pull_number: number });
      const { data: comments } = await octokit.issues.listComments({ owner: 'acme', repo: service, issue_number: number });
      const history = JSON.stringify(await stack.client.workflow.getHandle(outcome?.workflowId ?? '').fetchHistory());
      const decoded = [...history.matchAll(/"data":"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1] ?? '', 'base64').toString('utf8')).join('\n');
      const places: [string, string][] = [
        ['the pull request', [pull.title, pull.body ?? '', ...commits.map((c) => c.commit.message), ...files.map((f) => f.patch ?? ''), ...comments.map((c) => c.body ?? '')].join('\n')],
        ['the logs', stack.logs.join('\n')],
        ['the workflow history', `${history}\n${decoded}`],
      ];
      for (const value of raw) {
        for (const [where, text] of places) expect(text.includes(value), `${service}: "${value.slice(0, 3)}…" found in ${where}`).toBe(false);
      }
    }
  });

  it('attaches ten copies of one alert to one workflow with occurrences = 10', async () => {
    const body = await readFile(fixtureAlertPaths('leaderboard').traces);
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await postAlert(stack, body));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(202));
    const workflowIds = new Set(answers.map((a) => String(a.json.workflowId)));
    expect(workflowIds.size).toBe(1);
    expect(answers.filter((a) => a.json.status === 'started')).toHaveLength(1);
    const handle = stack.client.workflow.getHandle([...workflowIds][0] ?? '');
    const status = await handle.query(statusQuery);
    expect(status.occurrences).toBe(10);
    const outcome = (await handle.result()) as IncidentOutcome;
    expect(outcome.occurrences).toBe(10);
    expect(outcome.outcome).toBe('pr-opened');
    expect(outcome.pr?.number).toBe(outcomes.get('leaderboard')?.pr?.number);
  });

  it('leaves no sandbox container behind', async () => {
    // Removal finishes after the activity has answered, so give it a few seconds.
    const left = async (): Promise<string[]> => (await sandboxContainers()).filter((id) => !containersBefore.has(id));
    await eventually(async () => ((await left()).length === 0 ? true : undefined), 'sandbox containers of this run removed', 15_000).catch(() => undefined);
    expect(await left()).toEqual([]);
    expect(await readdir(stack.stateDir)).toEqual(expect.arrayContaining(['evidence', 'workspace', 'audit']));
  });
});
