import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { TracemendError, applyFileEdits, editsByFile, type Candidate } from '@tracemend/contracts';

/**
 * A repository-relative path that stays inside the repository and out of places the verifier owns
 * (`.git`, `node_modules`); anything else is refused.
 */
export function assertRepoPath(path: string): string {
  const normalized = posix.normalize(path.replace(/\\/g, '/'));
  const first = normalized.split('/')[0] ?? '';
  if (path === '' || normalized.startsWith('/') || normalized === '..' || normalized.startsWith('../') || /^[A-Za-z]:/.test(normalized)) {
    throw new TracemendError('INVALID_INPUT', `path ${path} is not inside the repository`, { details: { path } });
  }
  if (first === '.git' || first === 'node_modules') {
    throw new TracemendError('INVALID_INPUT', `path ${path} is inside ${first}, which a candidate may not touch`, { details: { path } });
  }
  return normalized;
}

/** Writes a repository-relative file (the minimal test) into a checkout copy. */
export async function writeRepoFile(root: string, path: string, content: string): Promise<void> {
  const target = join(root, assertRepoPath(path));
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, content);
}

function runGit(cwd: string, args: string[], input: string): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('git', args, {
      cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      // The ceiling keeps git from adopting an enclosing repository when the copy has no .git of its own.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_CEILING_DIRECTORIES: dirname(cwd) },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? 1, output }));
    child.stdin.end(input);
  });
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
    const result = await runGit(dir, ['apply', '--whitespace=nowarn', '-'], candidate.editPlan.diff);
    if (result.code === 0) return { method: 'git-apply', files: [...new Set([...files, ...diffPaths(candidate.editPlan.diff)])] };
    diffFailure = `git apply: ${result.output.trim()}`;
  }
  try {
    const updated = new Map<string, string>();
    for (const [file, edits] of editsByFile(candidate.editPlan.edits)) {
      updated.set(assertRepoPath(file), applyFileEdits(file, await readFile(join(dir, assertRepoPath(file)), 'utf8'), edits));
    }
    for (const [file, text] of updated) await writeFile(join(dir, file), text);
  } catch (error) {
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
