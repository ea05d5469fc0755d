import type { Octokit } from '@octokit/rest';
import {
  LIMITS,
  applyFileEdits,
  editsByFile,
  parseContract,
  PullRequestInput,
  PullRequestRecord,
  TracemendError,
  type PullRequestInput as PullRequestInputType,
  type PullRequestRecord as PullRequestRecordType,
} from '@tracemend/contracts';
import { bindIncidentContext, type Logger } from '@tracemend/telemetry';
import { assertRepositoryPath } from './edits';
import { callGitHub, hasStatus, toTracemendError } from './github-errors';
import { branchName } from './naming';
import { GITHUB_BODY_LIMIT, renderBody, renderFixCommitMessage, renderTestCommitMessage, renderTitle, renderUpdateComment } from './render';

/** Checks outgoing text and throws to block it (the privacy gate's egress guard is wired here). */
export type EgressCheck = (text: string, where: string) => void | Promise<void>;

/** What the PR bot needs: an Octokit pointed at GitHub (or the emulator) and a logger. */
export interface PrBotDeps {
  octokit: Octokit;
  logger: Logger;
  /** Called with every text before it is sent to GitHub; a throw blocks the PR before anything is written. */
  egress?: EgressCheck;
  /** Labels added next to `tracemend` and `risk:<level>`. */
  labels?: readonly string[];
  /** Logins asked to review. */
  reviewers?: readonly string[];
}

const FILE_MODE = '100644';
const BASE_LABEL = 'tracemend';
// GitHub's own bounds: label names up to 50 characters, logins up to 39; the record holds 32 of each.
const MAX_LABEL = 50;
const MAX_LOGIN = 39;
const MAX_ENTRIES = 30;

function assertConfigured(values: readonly string[], what: string, maxLength: number): void {
  if (values.length > MAX_ENTRIES) {
    throw new TracemendError('INVALID_INPUT', `at most ${MAX_ENTRIES} ${what} can be configured, got ${values.length}`);
  }
  const bad = values.find((value) => value.trim() === '' || value.length > maxLength || /[\r\n,]/.test(value));
  if (bad !== undefined) {
    throw new TracemendError('INVALID_INPUT', `configured ${what} ${JSON.stringify(bad)} is empty, longer than ${maxLength} or contains a comma or line break`);
  }
}

interface OutgoingTexts {
  title: string;
  body: string;
  testMessage: string;
  fixMessage: string;
  updateComment: string;
}

function decodeBase64(content: string): string {
  return Buffer.from(content.replace(/\s+/g, ''), 'base64').toString('utf8');
}

function clipForRecord(message: string): string {
  return message.length > LIMITS.text ? `${message.slice(0, LIMITS.text - 1)}…` : message;
}

async function checkEgress(deps: PrBotDeps, text: string, where: string): Promise<void> {
  if (!deps.egress) return;
  try {
    await deps.egress(text, where);
  } catch (error) {
    if (error instanceof TracemendError) throw error;
    throw new TracemendError('EGRESS_BLOCKED', `the egress guard blocked ${where}`, { cause: error, details: { where } });
  }
}

/**
 * Every text the PR will carry, checked by the egress guard before the first GitHub write, so a
 * blocked finding leaves nothing behind on GitHub.
 */
async function prepareTexts(deps: PrBotDeps, input: PullRequestInputType): Promise<OutgoingTexts> {
  const texts: OutgoingTexts = {
    title: renderTitle(input),
    body: renderBody(input),
    testMessage: renderTestCommitMessage(input),
    fixMessage: renderFixCommitMessage(input),
    updateComment: renderUpdateComment(input),
  };
  if (texts.body.length > GITHUB_BODY_LIMIT) {
    throw new TracemendError('INTERNAL', `rendered PR body is ${texts.body.length} characters, above GitHub's ${GITHUB_BODY_LIMIT}`);
  }
  await checkEgress(deps, texts.title, 'pull-request.title');
  await checkEgress(deps, texts.body, 'pull-request.body');
  await checkEgress(deps, texts.testMessage, 'commit.test.message');
  await checkEgress(deps, texts.fixMessage, 'commit.fix.message');
  for (const file of testFiles(input)) await checkEgress(deps, file.content, `test-file:${file.path}`);
  for (const edit of input.candidate.editPlan.edits) {
    await checkEgress(deps, edit.after, `patch:${edit.file}:${edit.startLine}-${edit.endLine}`);
  }
  await checkEgress(deps, texts.updateComment, 'pull-request.comment');
  return texts;
}

/** The minimal test and the support files it imports, which the test commit adds together. */
function testFiles(input: PullRequestInputType): { path: string; content: string }[] {
  return [input.minimal.testFile, ...(input.minimal.testFile.support ?? [])];
}

/**
 * Opens (or, for a fingerprint that already has one, updates) the pull request with the minimal
 * failing test and the verified patch as two commits on top of `target.sha`, the commit the failure
 * was recorded on: the test is known to fail and the edits known to apply exactly there. The PR
 * targets `target.baseBranch`; if that branch has moved, GitHub shows whether the head still merges.
 */
export async function openPullRequest(deps: PrBotDeps, rawInput: PullRequestInputType): Promise<PullRequestRecordType> {
  const input = parseContract(PullRequestInput, rawInput, 'PullRequestInput');
  const { octokit } = deps;
  const { owner, name: repo } = input.target.repository;
  const sha = input.target.sha;
  const branch = branchName(input);
  const logger = bindIncidentContext(deps.logger, {
    incidentId: input.incidentId,
    fingerprint: input.gated.envelope.identity.fingerprint,
    stage: 'pr-bot',
  }).child({ repository: `${owner}/${repo}`, branch });

  assertConfigured(deps.labels ?? [], 'labels', MAX_LABEL);
  assertConfigured(deps.reviewers ?? [], 'reviewers', MAX_LOGIN);
  const added = testFiles(input);
  const addedPaths = new Set<string>();
  for (const file of added) {
    assertRepositoryPath(file.path, file === input.minimal.testFile ? 'test file' : 'test support file');
    if (addedPaths.has(file.path)) {
      throw new TracemendError('INVALID_INPUT', `the minimal test and its support files name ${file.path} twice; give each file its own path`);
    }
    addedPaths.add(file.path);
  }
  const byFile = editsByFile(input.candidate.editPlan.edits);
  for (const file of byFile.keys()) assertRepositoryPath(file, 'edit');
  for (const path of addedPaths) {
    if (byFile.has(path)) throw new TracemendError('INVALID_INPUT', `the candidate edits ${path}, a file the new failing test adds`);
  }
  const texts = await prepareTexts(deps, input);

  const baseCommit = await callGitHub('git.getCommit', () => octokit.rest.git.getCommit({ owner, repo, commit_sha: sha })).catch(
    (error: unknown) => {
      if (error instanceof TracemendError && error.code === 'GITHUB_REJECTED' && error.details?.status === 404) {
        throw new TracemendError('GITHUB_REJECTED', `the recorded SHA ${sha} is not a commit of ${owner}/${repo}`, { cause: error });
      }
      throw error;
    },
  );

  const patchedFiles = new Map<string, string>();
  for (const [file, edits] of byFile) {
    const original = await readFileAt(octokit, owner, repo, file, sha);
    patchedFiles.set(file, applyFileEdits(file, original, edits));
  }

  const testEntries: { path: string; mode: typeof FILE_MODE; type: 'blob'; sha: string }[] = [];
  for (const file of added) {
    const blob = await callGitHub('git.createBlob', () => octokit.rest.git.createBlob({ owner, repo, content: file.content, encoding: 'utf-8' }));
    testEntries.push({ path: file.path, mode: FILE_MODE, type: 'blob', sha: blob.data.sha });
  }
  const testTree = await callGitHub('git.createTree', () =>
    octokit.rest.git.createTree({ owner, repo, base_tree: baseCommit.data.tree.sha, tree: testEntries }),
  );
  const testCommit = await callGitHub('git.createCommit', () =>
    octokit.rest.git.createCommit({ owner, repo, message: texts.testMessage, tree: testTree.data.sha, parents: [sha] }),
  );

  const fixEntries: { path: string; mode: typeof FILE_MODE; type: 'blob'; sha: string }[] = [];
  for (const [file, content] of patchedFiles) {
    const blob = await callGitHub('git.createBlob', () => octokit.rest.git.createBlob({ owner, repo, content, encoding: 'utf-8' }));
    fixEntries.push({ path: file, mode: FILE_MODE, type: 'blob', sha: blob.data.sha });
  }
  const fixTree = await callGitHub('git.createTree', () =>
    octokit.rest.git.createTree({ owner, repo, base_tree: testTree.data.sha, tree: fixEntries }),
  );
  const fixCommit = await callGitHub('git.createCommit', () =>
    octokit.rest.git.createCommit({ owner, repo, message: texts.fixMessage, tree: fixTree.data.sha, parents: [testCommit.data.sha] }),
  );
  const headSha = fixCommit.data.sha;

  const branchExisted = await pointBranch(octokit, owner, repo, branch, headSha);
  logger.info({ headSha, branchExisted }, branchExisted ? 'branch force-updated' : 'branch created');

  const existing = await findOpenPull(octokit, owner, repo, branch);
  let pull: { number: number; html_url: string; labels: { name?: string }[] };
  let created: boolean;
  if (existing) {
    pull = await updatePull(octokit, owner, repo, existing.number, texts);
    created = false;
  } else {
    const opened = await createPull(octokit, owner, repo, branch, input.target.baseBranch, texts);
    pull = opened.pull;
    created = opened.created;
  }

  const risk = input.verification.risk;
  const wanted = [...new Set([BASE_LABEL, ...(risk ? [`risk:${risk.level}`] : []), ...(deps.labels ?? [])])];
  if (!created) await removeStaleRiskLabels(octokit, owner, repo, pull, risk ? `risk:${risk.level}` : undefined, logger);
  const labelled = await callGitHub('issues.addLabels', () =>
    octokit.rest.issues.addLabels({ owner, repo, issue_number: pull.number, labels: wanted }),
  );
  const wantedKeys = new Set(wanted.map((label) => label.toLowerCase()));
  const labels = labelled.data.map((label) => label.name).filter((label) => wantedKeys.has(label.toLowerCase()));

  const reviewers = await requestReviewers(octokit, owner, repo, pull.number, deps.reviewers ?? [], logger);

  if (!created) {
    await callGitHub('issues.createComment', () =>
      octokit.rest.issues.createComment({ owner, repo, issue_number: pull.number, body: texts.updateComment }),
    );
  }
  logger.info({ number: pull.number, created, headSha }, created ? 'pull request opened' : 'pull request updated');

  return parseContract(
    PullRequestRecord,
    {
      schemaVersion: 1,
      url: pull.html_url,
      number: pull.number,
      branch,
      baseBranch: input.target.baseBranch,
      headSha,
      created,
      commits: [
        { sha: testCommit.data.sha, message: clipForRecord(texts.testMessage) },
        { sha: headSha, message: clipForRecord(texts.fixMessage) },
      ],
      labels,
      reviewers,
    },
    'PullRequestRecord',
  );
}

async function readFileAt(octokit: Octokit, owner: string, repo: string, file: string, ref: string): Promise<string> {
  let data: unknown;
  try {
    ({ data } = await octokit.rest.repos.getContent({ owner, repo, path: file, ref }));
  } catch (error) {
    if (hasStatus(error, 404)) {
      throw new TracemendError('INVALID_INPUT', `the candidate edits ${file}, which does not exist at the recorded SHA ${ref}`, {
        cause: error,
        details: { file },
      });
    }
    throw toTracemendError(error, 'repos.getContent');
  }
  const item = data as { type?: string; content?: string; encoding?: string; sha?: string };
  if (Array.isArray(data) || item.type !== 'file') {
    throw new TracemendError('INVALID_INPUT', `the candidate edits ${file}, which is not a regular file at ${ref}`, { details: { file } });
  }
  if (item.encoding === 'base64' && typeof item.content === 'string' && item.content !== '') return decodeBase64(item.content);
  // Files over 1 MB come back without content from the contents API; the blobs API has them.
  const blobSha = item.sha;
  if (!blobSha) throw new TracemendError('GITHUB_REJECTED', `GitHub returned no content or blob SHA for ${file} at ${ref}`);
  const blob = await callGitHub('git.getBlob', () => octokit.rest.git.getBlob({ owner, repo, file_sha: blobSha }));
  return blob.data.encoding === 'base64' ? decodeBase64(blob.data.content) : blob.data.content;
}

/** Creates the branch at `sha`, or force-moves it there if it exists. Returns whether it existed. */
async function pointBranch(octokit: Octokit, owner: string, repo: string, branch: string, sha: string): Promise<boolean> {
  const force = () =>
    callGitHub('git.updateRef', () => octokit.rest.git.updateRef({ owner, repo, ref: `heads/${branch}`, sha, force: true }));
  let exists: boolean;
  try {
    await octokit.rest.git.getRef({ owner, repo, ref: `heads/${branch}` });
    exists = true;
  } catch (error) {
    if (!hasStatus(error, 404)) throw toTracemendError(error, 'git.getRef');
    exists = false;
  }
  if (exists) {
    await force();
    return true;
  }
  try {
    await octokit.rest.git.createRef({ owner, repo, ref: `refs/heads/${branch}`, sha });
    return false;
  } catch (error) {
    // Another run created it between our read and write: move it like any existing branch.
    if (hasStatus(error, 422)) {
      await force();
      return true;
    }
    throw toTracemendError(error, 'git.createRef');
  }
}

async function findOpenPull(octokit: Octokit, owner: string, repo: string, branch: string) {
  const { data } = await callGitHub('pulls.list', () =>
    octokit.rest.pulls.list({ owner, repo, head: `${owner}:${branch}`, state: 'open', per_page: 10 }),
  );
  return data.find((pull) => pull.head.ref === branch) ?? data[0];
}

async function updatePull(octokit: Octokit, owner: string, repo: string, number: number, texts: OutgoingTexts) {
  const { data } = await callGitHub('pulls.update', () =>
    octokit.rest.pulls.update({ owner, repo, pull_number: number, title: texts.title, body: texts.body }),
  );
  return data;
}

async function createPull(octokit: Octokit, owner: string, repo: string, branch: string, base: string, texts: OutgoingTexts) {
  try {
    const { data } = await octokit.rest.pulls.create({ owner, repo, head: branch, base, title: texts.title, body: texts.body });
    return { pull: data, created: true };
  } catch (error) {
    // A PR for this head appeared since we looked (a concurrent run): update it instead of failing.
    if (hasStatus(error, 422)) {
      const existing = await findOpenPull(octokit, owner, repo, branch);
      if (existing) return { pull: await updatePull(octokit, owner, repo, existing.number, texts), created: false };
    }
    throw toTracemendError(error, 'pulls.create');
  }
}

async function removeStaleRiskLabels(
  octokit: Octokit,
  owner: string,
  repo: string,
  pull: { number: number; labels: { name?: string }[] },
  keep: string | undefined,
  logger: Logger,
): Promise<void> {
  const stale = pull.labels.map((label) => label.name ?? '').filter((label) => label.startsWith('risk:') && label !== keep);
  for (const label of stale) {
    try {
      await octokit.rest.issues.removeLabel({ owner, repo, issue_number: pull.number, name: label });
    } catch (error) {
      // 404: already gone.
      if (!hasStatus(error, 404)) throw toTracemendError(error, 'issues.removeLabel');
      logger.warn({ label }, 'stale risk label was not on the pull request');
    }
  }
}

async function requestReviewers(
  octokit: Octokit,
  owner: string,
  repo: string,
  number: number,
  reviewers: readonly string[],
  logger: Logger,
): Promise<string[]> {
  if (reviewers.length === 0) return [];
  try {
    const { data } = await octokit.rest.pulls.requestReviewers({ owner, repo, pull_number: number, reviewers: [...reviewers] });
    const requested = new Set((data.requested_reviewers ?? []).map((user) => user.login.toLowerCase()));
    return reviewers.filter((login) => requested.has(login.toLowerCase()));
  } catch (error) {
    // A reviewer GitHub refuses (not a collaborator, the PR's author) must not undo an opened PR.
    if (hasStatus(error, 422)) {
      logger.warn({ reviewers }, 'GitHub refused the review request; the pull request stays without reviewers');
      return [];
    }
    throw toTracemendError(error, 'pulls.requestReviewers');
  }
}
