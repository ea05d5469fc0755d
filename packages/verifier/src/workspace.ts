import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { TracemendError, applyFileEdits, editsByFile, type Candidate, type TestFile } from '@tracemend/contracts';
import { runCommand } from '@tracemend/process';
import { readTextInside, treeRelativePath, writeFileInside } from '@tracemend/process';

/**
 * A repository-relative path that stays inside the repository and out of places the verifier owns
 * (`.git`, `node_modules`); anything else is refused.
 */
export function assertRepoPath(path: string): string {
  let normalized: string;
  try {
    normalized = treeRelativePath(path);
  } catch (error) {
    throw new TracemendError('INVALID_INPUT', `path ${path.slice(0, 200)} is not inside the repository`, { cause: error, details: { path: path.slice(0, 1_024) } });
  }
  const first = normalized.split('/')[0] ?? '';
  if (first === '.git' || first === 'node_modules') {
    throw new TracemendError('INVALID_INPUT', `path ${path} is inside ${first}, which a candidate may not touch`, { details: { path } });
  }
  return normalized;
}

/**
 * Writes a repository-relative file (the minimal test) into a checkout copy. The copy came from a
 * sandbox-writable checkout, so a link on the way out of it is refused (SANDBOX_ESCAPE), never written through.
 */
export async function writeRepoFile(root: string, path: string, content: string): Promise<void> {
  await writeFileInside(root, assertRepoPath(path), content);
}

/**
 * Writes the minimal test and the support files it imports (a replay helper) into a checkout copy,
 * each through `writeRepoFile`. Two files at one path are refused: one would silently replace the other.
 */
export async function writeTestFiles(root: string, testFile: Pick<TestFile, 'path' | 'content' | 'support'>): Promise<void> {
  const written = new Set<string>();
  for (const file of [testFile, ...(testFile.support ?? [])]) {
    const path = assertRepoPath(file.path);
    if (written.has(path)) {
      throw new TracemendError('INVALID_INPUT', `the minimal test and its support files name ${path} twice; give each file its own path`, { details: { path } });
    }
    written.add(path);
    await writeRepoFile(root, path, file.content);
  }
}

/** Runs git with `input` on stdin; a git that stops reading early is a failed step with the reason, not a crash. */
async function runGit(cwd: string, args: string[], input: string, env: Readonly<Record<string, string>> = {}): Promise<{ code: number; output: string }> {
  const result = await runCommand('git', args, {
    cwd,
    input,
    timeoutMs: 120_000,
    // The ceiling keeps git from adopting an enclosing repository when the copy has no .git of its own.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_CEILING_DIRECTORIES: dirname(cwd), ...env },
  });
  const output = `${result.stdout.toString()}${result.stderr.toString()}`;
  const inputNote = result.inputError === undefined ? '' : `\ngit stopped reading its input: ${result.inputError}`;
  const timeoutNote = result.timedOut ? '\ngit was killed after 120000 ms' : '';
  const failed = result.code !== 0 || result.inputError !== undefined;
  return { code: failed ? (result.code === 0 || result.code === null ? 1 : result.code) : 0, output: `${output}${inputNote}${timeoutNote}` };
}

/**
 * `git apply` of `diff` onto the working tree `dir` with a fresh, empty repository as GIT_DIR. The copy's
 * own `.git` is sandbox-writable: its config could name a clean filter (with a `.gitattributes` line)
 * or an fsmonitor command that git would run on the host while reading the files it patches.
 */
async function gitApply(dir: string, diff: string): Promise<{ code: number; output: string }> {
  const gitDir = await mkdtemp(join(tmpdir(), 'tracemend-apply-'));
  try {
    const init = await runGit(gitDir, ['init', '--quiet', '--bare', gitDir], '');
    if (init.code !== 0) return init;
    return await runGit(dir, ['apply', '--whitespace=nowarn', '-'], diff, { GIT_DIR: gitDir, GIT_WORK_TREE: dir });
  } finally {
    await rm(gitDir, { recursive: true, force: true });
  }
}

/** How a candidate reached the checkout copy. */
export interface AppliedCandidate {
  readonly method: 'git-apply' | 'edits';
  readonly files: string[];
}

/**
 * Applies a candidate to a checkout copy: `git apply` of its unified diff (what a pull request would
 * carry), else its line-range edits with `before` verified. Throws when neither applies.
 */
export async function applyCandidate(dir: string, candidate: Candidate): Promise<AppliedCandidate> {
  const files = [...new Set(candidate.editPlan.edits.map((edit) => assertRepoPath(edit.file)))];
  let diffFailure = 'the candidate carries no diff';
  if (candidate.editPlan.diff.trim() !== '') {
    for (const path of diffPaths(candidate.editPlan.diff)) assertRepoPath(path);
    const result = await gitApply(dir, candidate.editPlan.diff);
    if (result.code === 0) return { method: 'git-apply', files: [...new Set([...files, ...diffPaths(candidate.editPlan.diff)])] };
    diffFailure = `git apply: ${result.output.trim()}`;
  }
  try {
    const updated = new Map<string, string>();
    for (const [file, edits] of editsByFile(candidate.editPlan.edits)) {
      updated.set(assertRepoPath(file), applyFileEdits(file, await readTextInside(dir, assertRepoPath(file)), edits));
    }
    for (const [file, text] of updated) await writeFileInside(dir, file, text);
  } catch (error) {
    if (error instanceof TracemendError && error.code === 'SANDBOX_ESCAPE') throw error;
    throw new TracemendError('VERIFICATION_FAILED', `the candidate does not apply: ${diffFailure}; edits: ${(error as Error).message}`, {
      cause: error,
      details: { candidateId: candidate.id },
    });
  }
  return { method: 'edits', files };
}

/** The `b/` paths a unified diff writes. */
export function diffPaths(diff: string): string[] {
  const paths: string[] = [];
  for (const line of diff.split(/\r?\n/)) {
    const match = /^\+\+\+ (?:b\/)?(.+?)\s*$/.exec(line);
    if (match?.[1] !== undefined && match[1] !== '/dev/null') paths.push(match[1]);
  }
  return paths;
}
