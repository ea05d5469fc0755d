import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { Octokit } from '@octokit/rest';
import { TracemendError, type FailureEnvelope, type PullRequestInput, type PullRequestRecord } from '@tracemend/contracts';
import { createOpenApiChecker, startGitHubEmulator, type GitHubEmulator } from '@tracemend/github-emulator';
import { createLogger } from '@tracemend/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_SECTIONS, createPrBotActivities, openPullRequest, type PrBotDeps } from '../src/index';
import { pullRequestInput } from './pull-request-input';

const run = promisify(execFile);
const TOKEN = 'emulator-token-for-pr-bot';
const OWNER = 'acme';
const REPO = 'users-api';
const BRANCH = 'tracemend/users-api/9a1c0e4f-typeerror-in-createuser';
const TEST_PATH = 'test/tracemend-9a1c0e4f.test.ts';

const CREATE_USER = `import { randomUUID } from 'node:crypto';

export interface Preferences {
  newsletter?: boolean;
  marketing?: string[];
}

export interface CreateUserBody {
  name: string;
  email: string;
  preferences: Preferences;
}

export interface User extends CreateUserBody {
  id: string;
}

const users = new Map<string, User>();
export function createUser(body: CreateUserBody): User {
  const prefs = body.preferences;
  prefs.marketing.push("signup");
  const user = { ...body, id: randomUUID() };
  users.set(user.id, user);
  return user;
}
`;
const PATCHED = CREATE_USER.replace('  prefs.marketing.push("signup");', '  (prefs.marketing ??= []).push("signup");');

const TEST_FILE = `import { expect, it } from 'vitest';
import { createUser } from '../src/handlers/create-user';

// tracemend 9a1c0e4f2b7d3c5a: TypeError in createUser
it('creates a user whose preferences have no marketing list', () => {
  const user = createUser({ name: 'tok_name_7f3a', email: 'u7f3a9c@example.com', preferences: {} });
  expect(user.preferences.marketing).toEqual(['signup']);
});
`;

const SUPPORT_PATH = 'test/tracemend-replay.ts';
const SUPPORT_FILE = `// Replays the recorded request through the handler.
export const recordedBody = { name: 'tok_name_7f3a', email: 'u7f3a9c@example.com', preferences: {} };
`;

/** Values only the raw, ungated envelope holds: the gate tokenized or dropped them. */
const UNGATED = { email: 'jane.doe@acme-customers.example', name: 'Jane Doe', session: 'sess_9f8e7d6c5b4a39281706' };
/** Values the gate let through but that sit in fields the PR never copies (payload, attributes, status, logs). */
const GATED_UNSHOWN = { attribute: 'attr-value-never-shown-31337', status: 'status-message-never-shown', log: 'log-body-never-shown' };

function ungatedEnvelope(gated: FailureEnvelope): FailureEnvelope {
  const raw = structuredClone(gated);
  if (raw.entry.kind === 'http') {
    raw.entry.body = { name: UNGATED.name, email: UNGATED.email, preferences: { newsletter: true } };
    raw.entry.headers = { ...raw.entry.headers, 'x-session': UNGATED.session };
  }
  return raw;
}

function incident(fingerprint: string, sha: string, cloneUrl: string): { input: PullRequestInput; ungated: FailureEnvelope } {
  const input = pullRequestInput();
  input.incidentId = fingerprint;
  input.gated.envelope.identity.fingerprint = fingerprint;
  input.target.repository = { owner: OWNER, name: REPO, cloneUrl };
  input.target.sha = sha;
  input.gated.envelope.identity.version = sha;
  input.minimal.testFile = {
    path: `test/tracemend-${fingerprint.slice(0, 8)}.test.ts`,
    content: TEST_FILE,
    runner: 'vitest',
    command: ['npx', 'vitest', 'run', `test/tracemend-${fingerprint.slice(0, 8)}.test.ts`],
    support: [{ path: SUPPORT_PATH, content: SUPPORT_FILE }],
  };
  const span = input.gated.envelope.spans[0];
  if (!span) throw new Error('the example has a span');
  span.attributes = { ...span.attributes, 'app.custom': GATED_UNSHOWN.attribute };
  span.status = { code: 'error', message: GATED_UNSHOWN.status };
  input.gated.envelope.logs = [{ timestamp: span.startTime, severity: 'error', body: GATED_UNSHOWN.log, attributes: {} }];
  return { input, ungated: ungatedEnvelope(input.gated.envelope) };
}

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd });
  return stdout.trim();
}

async function caught(promise: Promise<unknown>): Promise<TracemendError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TracemendError) return error;
    throw error;
  }
  throw new Error('expected a TracemendError');
}

describe('openPullRequest against the GitHub emulator', () => {
  const checker = createOpenApiChecker();
  const logLines: string[] = [];
  const egressCalls: { where: string; text: string }[] = [];
  let tmp: string;
  let emulator: GitHubEmulator;
  let octokit: Octokit;
  let deps: PrBotDeps;
  let recordedSha: string;
  let movedMainSha: string;
  let cloneUrl: string;
  let first: PullRequestRecord;
  let firstInput: PullRequestInput;
  let firstUngated: FailureEnvelope;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'pr-bot-test-'));
    const source = path.join(tmp, 'users-api');
    await mkdir(path.join(source, 'src', 'handlers'), { recursive: true });
    await writeFile(path.join(source, 'src', 'handlers', 'create-user.ts'), CREATE_USER);
    await writeFile(path.join(source, 'package.json'), '{ "name": "users-api", "type": "module", "scripts": { "test": "vitest run" } }\n');
    await writeFile(path.join(source, 'tsconfig.json'), '{ "compilerOptions": { "strict": true, "module": "nodenext" } }\n');
    emulator = await startGitHubEmulator({ dataDir: path.join(tmp, 'data'), token: TOKEN });
    cloneUrl = (await emulator.createRepository(OWNER, REPO, { fromDir: source })).cloneUrl;

    octokit = new Octokit({ baseUrl: emulator.url, auth: TOKEN, log: { debug: () => undefined, info: () => undefined, warn: console.warn, error: () => undefined } });
    // Every answer the bot gets must be a documented GitHub operation with a valid shape.
    octokit.hook.wrap('request', async (request, options) => {
      const response = await request(options);
      checker.check(options.method, options.url, response.status, response.data);
      return response;
    });
    recordedSha = (await octokit.rest.git.getRef({ owner: OWNER, repo: REPO, ref: 'heads/main' })).data.object.sha;

    // main moves on after the failure was recorded.
    const base = await octokit.rest.git.getCommit({ owner: OWNER, repo: REPO, commit_sha: recordedSha });
    const tree = await octokit.rest.git.createTree({
      owner: OWNER,
      repo: REPO,
      base_tree: base.data.tree.sha,
      tree: [{ path: 'README.md', mode: '100644', type: 'blob', content: '# users-api\n' }],
    });
    const moved = await octokit.rest.git.createCommit({ owner: OWNER, repo: REPO, message: 'docs: readme', tree: tree.data.sha, parents: [recordedSha] });
    await octokit.rest.git.updateRef({ owner: OWNER, repo: REPO, ref: 'heads/main', sha: moved.data.sha });
    movedMainSha = moved.data.sha;

    const logger = createLogger({
      name: 'pr-bot-test',
      level: 'debug',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          logLines.push(chunk.toString('utf8'));
          done();
        },
      }),
    });
    deps = {
      octokit,
      logger,
      labels: ['team:identity'],
      reviewers: ['alice'],
      egress: (text, where) => {
        egressCalls.push({ where, text });
      },
    };
    ({ input: firstInput, ungated: firstUngated } = incident('9a1c0e4f2b7d3c5a', recordedSha, cloneUrl));
    first = await openPullRequest(deps, firstInput);
  });

  afterAll(async () => {
    await emulator.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('opens one PR from the tracemend branch to the base branch', async () => {
    expect(first).toMatchObject({
      schemaVersion: 1,
      number: 1,
      branch: BRANCH,
      baseBranch: 'main',
      created: true,
      url: `${emulator.webUrl}/acme/users-api/pull/1`,
    });
    const { data: pull } = await octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: 1 });
    expect(pull.head.ref).toBe(BRANCH);
    expect(pull.head.sha).toBe(first.headSha);
    expect(pull.base.ref).toBe('main');
    expect(pull.title).toBe('fix(users-api): TypeError in createUser (9a1c0e4f)');
    expect(pull.commits).toBe(2);
  });

  it('commits the failing test, then the patch, on top of the recorded SHA', async () => {
    const { data: commits } = await octokit.rest.pulls.listCommits({ owner: OWNER, repo: REPO, pull_number: 1 });
    expect(commits.map((commit) => commit.sha)).toEqual(first.commits.map((commit) => commit.sha));
    expect(commits.map((commit) => commit.commit.message.split('\n')[0])).toEqual([
      'test(users-api): reproduce TypeError in createUser',
      'fix(users-api): preferences.marketing may be absent; default it to an empty list…',
    ]);
    expect(commits[0]?.parents.map((parent) => parent.sha)).toEqual([recordedSha]);
    expect(commits[1]?.parents.map((parent) => parent.sha)).toEqual([commits[0]?.sha]);

    const clone = path.join(tmp, 'clone');
    await run('git', ['clone', '--quiet', emulator.repoDir(OWNER, REPO), clone]);
    await git(clone, 'checkout', '--quiet', BRANCH);
    expect(await git(clone, 'rev-parse', 'HEAD')).toBe(first.headSha);
    expect(await git(clone, 'rev-parse', 'HEAD~2')).toBe(recordedSha);
    expect(await git(clone, 'rev-parse', 'origin/main')).toBe(movedMainSha);
    expect(await readFile(path.join(clone, 'src', 'handlers', 'create-user.ts'), 'utf8')).toBe(PATCHED);
    expect(await readFile(path.join(clone, TEST_PATH), 'utf8')).toBe(TEST_FILE);
    expect(await readFile(path.join(clone, SUPPORT_PATH), 'utf8')).toBe(SUPPORT_FILE);
    // The test commit alone holds the test, its support file and the unpatched source.
    expect(await git(clone, 'show', `HEAD~1:src/handlers/create-user.ts`)).toBe(CREATE_USER.trimEnd());
    expect((await git(clone, 'diff', '--name-only', recordedSha, 'HEAD~1')).split('\n')).toEqual([TEST_PATH, SUPPORT_PATH]);
    expect(await git(clone, 'diff', '--name-only', 'HEAD~1', 'HEAD')).toBe('src/handlers/create-user.ts');
    expect(await git(clone, 'log', '-1', '--format=%B', 'HEAD~1')).toContain('Run it with:\n  npx vitest run test/tracemend-9a1c0e4f.test.ts');
    expect(await git(clone, 'fsck', '--strict', '--no-dangling')).toBe('');
  });

  it('writes every body section from gated data only', async () => {
    const { data: pull } = await octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: 1 });
    const body = pull.body ?? '';
    expect([...body.matchAll(/^## (.+)$/gm)].map((match) => match[1])).toEqual([...BODY_SECTIONS]);
    expect(body).toContain(`| Commit | \`${recordedSha}\` |`);
    expect(body).toContain(TEST_FILE.trimEnd());
    expect(body).toContain(`Committed beside it, for the test to import: \`${SUPPORT_PATH}\`.`);
    expect(body).toContain('+  (prefs.marketing ??= []).push("signup");');
    expect(body).toContain('| Fails before the patch | passed |');

    const clone = path.join(tmp, 'clone');
    const everything = [
      pull.title,
      body,
      await git(clone, 'log', '--format=%B', `${recordedSha}..${BRANCH}`),
      await git(clone, 'diff', recordedSha, BRANCH),
    ].join('\n');
    // The raw values exist in the ungated envelope (and nowhere in the bot's input).
    expect(JSON.stringify(firstUngated)).toContain(UNGATED.email);
    expect(JSON.stringify(firstInput)).not.toContain(UNGATED.email);
    for (const value of [...Object.values(UNGATED), ...Object.values(GATED_UNSHOWN)]) expect(everything).not.toContain(value);
  });

  it('labels the PR and requests the configured reviewers', async () => {
    expect(first.labels).toEqual(['tracemend', 'risk:low', 'team:identity']);
    expect(first.reviewers).toEqual(['alice']);
    const { data: pull } = await octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: 1 });
    expect(pull.labels.map((label) => label.name)).toEqual(['tracemend', 'risk:low', 'team:identity']);
    expect(pull.requested_reviewers?.map((user) => user.login)).toEqual(['alice']);
  });

  it('sends every outgoing text through the egress hook and logs none of them', async () => {
    const { data: pull } = await octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: 1 });
    const firstRun = egressCalls.slice(0, 8);
    expect(firstRun.map((call) => call.where)).toEqual([
      'pull-request.title',
      'pull-request.body',
      'commit.test.message',
      'commit.fix.message',
      `test-file:${TEST_PATH}`,
      `test-file:${SUPPORT_PATH}`,
      'patch:src/handlers/create-user.ts:21-21',
      'pull-request.comment',
    ]);
    expect(firstRun[0]?.text).toBe(pull.title);
    expect(firstRun[1]?.text).toBe(pull.body);
    expect(firstRun[2]?.text).toBe(first.commits[0]?.message);
    expect(firstRun[3]?.text).toBe(first.commits[1]?.message);
    expect(firstRun[4]?.text).toBe(TEST_FILE);
    expect(firstRun[5]?.text).toBe(SUPPORT_FILE);
    const logs = logLines.join('');
    expect(logs).toContain('"msg":"pull request opened"');
    expect(logs).toContain('"fingerprint":"9a1c0e4f2b7d3c5a"');
    expect(logs).not.toContain('## Summary');
    expect(logs).not.toContain(pull.title);
  });

  it('updates the same PR on a rerun for the fingerprint instead of opening a second one', async () => {
    const { input } = incident('9a1c0e4f2b7d3c5a', recordedSha, cloneUrl);
    input.gated.envelope.identity.occurrences = 2;
    input.gated.envelope.identity.lastSeen = '2026-11-20T10:00:00.000Z';
    const activities = createPrBotActivities(deps);
    const second = await activities.openPullRequest(input);
    expect(second.number).toBe(first.number);
    expect(second.created).toBe(false);
    expect(second.branch).toBe(BRANCH);
    // The rerun rewrites the branch with the same change: the same tree. Whether the commit SHAs differ
    // depends only on whether the clock's second moved between the runs, so they are not compared.
    const treeOf = async (sha: string) => (await octokit.rest.git.getCommit({ owner: OWNER, repo: REPO, commit_sha: sha })).data.tree.sha;
    expect(await treeOf(second.headSha)).toBe(await treeOf(first.headSha));
    const { data: ref } = await octokit.rest.git.getRef({ owner: OWNER, repo: REPO, ref: `heads/${BRANCH}` });
    expect(ref.object.sha).toBe(second.headSha);
    const { data: all } = await octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: 'all' });
    expect(all.map((pull) => pull.number)).toEqual([1]);
    const { data: commits } = await octokit.rest.pulls.listCommits({ owner: OWNER, repo: REPO, pull_number: 1 });
    expect(commits.map((commit) => commit.sha)).toEqual(second.commits.map((commit) => commit.sha));
    expect(commits[0]?.parents.map((parent) => parent.sha)).toEqual([recordedSha]);
    const { data: pull } = await octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: 1 });
    expect(pull.body).toContain('| Occurrences | 2 |');
    expect(pull.labels.map((label) => label.name)).toEqual(['tracemend', 'risk:low', 'team:identity']);
    const { data: comments } = await octokit.rest.issues.listComments({ owner: OWNER, repo: REPO, issue_number: 1 });
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain('Updated by tracemend: occurrence 2 of fingerprint `9a1c0e4f2b7d3c5a` (last seen 2026-11-20T10:00:00.000Z).');
  });

  it('refuses an edit whose `before` does not match the file at the recorded SHA, writing nothing', async () => {
    const { input } = incident('b0b0b0b0c1c1c1c1', recordedSha, cloneUrl);
    const edit = input.candidate.editPlan.edits[0];
    if (!edit) throw new Error('the example has an edit');
    edit.before = '  prefs.marketing.push("welcome");';
    const error = await caught(openPullRequest(deps, input));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toBe(
      'edit to src/handlers/create-user.ts lines 21-21: "before" does not match the file ' +
        '(expected 1 line(s) starting "  prefs.marketing.push(\\"welcome\\");", found "  prefs.marketing.push(\\"signup\\");")',
    );
    const { data: refs } = await octokit.rest.git.listMatchingRefs({ owner: OWNER, repo: REPO, ref: 'heads/tracemend/' });
    expect(refs.map((ref) => ref.ref)).toEqual([`refs/heads/${BRANCH}`]);
  });

  it('opens nothing when the egress hook blocks a text', async () => {
    const { input } = incident('c2c2c2c2d3d3d3d3', recordedSha, cloneUrl);
    const seen: string[] = [];
    const blocking: PrBotDeps = {
      ...deps,
      egress: (text, where) => {
        seen.push(where);
        if (where === 'pull-request.body') throw new TracemendError('EGRESS_BLOCKED', `email found in ${where}`);
      },
    };
    const error = await caught(openPullRequest(blocking, input));
    expect(error.code).toBe('EGRESS_BLOCKED');
    expect(error.message).toBe('email found in pull-request.body');
    expect(seen).toEqual(['pull-request.title', 'pull-request.body']);
    const { data: refs } = await octokit.rest.git.listMatchingRefs({ owner: OWNER, repo: REPO, ref: 'heads/tracemend/' });
    expect(refs.map((ref) => ref.ref)).toEqual([`refs/heads/${BRANCH}`]);
    const { data: all } = await octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: 'all' });
    expect(all).toHaveLength(1);

    const plainThrow: PrBotDeps = {
      ...deps,
      egress: () => {
        throw new Error('guard says no');
      },
    };
    const wrapped = await caught(openPullRequest(plainThrow, input));
    expect(wrapped.code).toBe('EGRESS_BLOCKED');
    expect(wrapped.message).toBe('the egress guard blocked pull-request.title');
  });

  it('refuses a support file the egress hook blocks, one outside the repository or one the candidate edits, writing nothing', async () => {
    const { input } = incident('e4e4e4e4f5f5f5f5', recordedSha, cloneUrl);
    const blocking: PrBotDeps = {
      ...deps,
      egress: (_text, where) => {
        if (where === `test-file:${SUPPORT_PATH}`) throw new TracemendError('EGRESS_BLOCKED', `token found in ${where}`);
      },
    };
    expect((await caught(openPullRequest(blocking, input))).message).toBe(`token found in test-file:${SUPPORT_PATH}`);

    const outside = structuredClone(input);
    outside.minimal.testFile.support = [{ path: '../outside.ts', content: '' }];
    expect((await caught(openPullRequest(deps, outside))).message).toMatch(/test support file/);

    const edited = structuredClone(input);
    const edit = edited.candidate.editPlan.edits[0];
    if (!edit) throw new Error('the example has an edit');
    edited.minimal.testFile.support = [{ path: edit.file, content: CREATE_USER }];
    expect((await caught(openPullRequest(deps, edited))).message).toBe(`the candidate edits ${edit.file}, a file the new failing test adds`);

    const { data: refs } = await octokit.rest.git.listMatchingRefs({ owner: OWNER, repo: REPO, ref: 'heads/tracemend/' });
    expect(refs.map((ref) => ref.ref)).toEqual([`refs/heads/${BRANCH}`]);
  });

  it('maps GitHub refusals to GITHUB_REJECTED naming the endpoint and never the token', async () => {
    const { input } = incident('d4d4d4d4e5e5e5e5', 'f'.repeat(40), cloneUrl);
    const missing = await caught(openPullRequest(deps, input));
    expect(missing.code).toBe('GITHUB_REJECTED');
    expect(missing.message).toBe(`the recorded SHA ${'f'.repeat(40)} is not a commit of acme/users-api`);

    const intruder = new Octokit({ baseUrl: emulator.url, auth: 'wrong-token', log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } });
    const denied = await caught(openPullRequest({ ...deps, octokit: intruder }, incident('d4d4d4d4e5e5e5e5', recordedSha, cloneUrl).input));
    expect(denied.code).toBe('GITHUB_REJECTED');
    expect(denied.retryable).toBe(false);
    expect(denied.message).toBe(
      `GitHub rejected git.getCommit (GET /api/v3/repos/acme/users-api/git/commits/${recordedSha}) with HTTP 401: Bad credentials`,
    );
    expect(denied.message).not.toContain('wrong-token');
  });

  it('refuses labels or reviewers GitHub would not take before writing anything', async () => {
    const { input } = incident('f8f8f8f8a9a9a9a9', recordedSha, cloneUrl);
    const longLabel = await caught(openPullRequest({ ...deps, labels: ['x'.repeat(51)] }, input));
    expect(longLabel.code).toBe('INVALID_INPUT');
    expect(longLabel.message).toBe(`configured labels "${'x'.repeat(51)}" is empty, longer than 50 or contains a comma or line break`);
    const badReviewer = await caught(openPullRequest({ ...deps, reviewers: ['alice,bob'] }, input));
    expect(badReviewer.message).toBe('configured reviewers "alice,bob" is empty, longer than 39 or contains a comma or line break');
    const { data: refs } = await octokit.rest.git.listMatchingRefs({ owner: OWNER, repo: REPO, ref: 'heads/tracemend/' });
    expect(refs).toHaveLength(1);
  });

  it('refuses an edit of a file that does not exist at the recorded SHA', async () => {
    const { input } = incident('e6e6e6e6f7f7f7f7', recordedSha, cloneUrl);
    const edit = input.candidate.editPlan.edits[0];
    if (!edit) throw new Error('the example has an edit');
    edit.file = 'src/handlers/delete-user.ts';
    const error = await caught(openPullRequest(deps, input));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toBe(`the candidate edits src/handlers/delete-user.ts, which does not exist at the recorded SHA ${recordedSha}`);
  });
});
