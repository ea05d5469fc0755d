import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TracemendError, type Candidate } from '@tracemend/contracts';
import { SANDBOX_UID, copyCheckout, grantSandboxAccess } from '@tracemend/sandbox';
import { readReportedTests } from '@tracemend/test-runners';
import { runReportReader } from './verify';
import { applyCandidate, assertRepoPath, diffPaths, writeRepoFile, writeTestFiles } from './workspace';

const run = promisify(execFile);
let root: string;
let repo: string;
const SOURCE = 'export function f(xs: number[] | null) {\n  return xs.length;\n}\n';
const DIFF = `diff --git a/src/f.ts b/src/f.ts
--- a/src/f.ts
+++ b/src/f.ts
@@ -1,3 +1,3 @@
 export function f(xs: number[] | null) {
-  return xs.length;
+  return (xs ?? []).length;
 }
`;

function candidate(diff: string, before = '  return xs.length;'): Candidate {
  return {
    schemaVersion: 1,
    id: 'c1',
    origin: 'template',
    rationale: 'guard',
    suspectRank: 0,
    editPlan: { diff, edits: [{ file: 'src/f.ts', startLine: 2, endLine: 2, before, after: '  return (xs ?? []).length;' }] },
    size: { files: 1, linesAdded: 1, linesRemoved: 1 },
  };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tracemend-verifier-workspace-'));
  repo = join(root, 'repo');
  await mkdir(join(repo, 'src'), { recursive: true });
  await mkdir(join(repo, 'node_modules', 'x'), { recursive: true });
  await writeFile(join(repo, 'src', 'f.ts'), SOURCE);
  await run('git', ['init', '--quiet', '-b', 'main', repo]);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('copyCheckout and grantSandboxAccess', () => {
  it('copies the checkout with .git and without node_modules, owned by the sandbox user', async () => {
    const copy = join(root, 'copy-1');
    await copyCheckout(repo, copy);
    await grantSandboxAccess(copy);
    expect(await readFile(join(copy, 'src', 'f.ts'), 'utf8')).toBe(SOURCE);
    expect((await stat(join(copy, '.git'))).isDirectory()).toBe(true);
    await expect(stat(join(copy, 'node_modules'))).rejects.toThrow(/ENOENT/);
    if (process.getuid?.() === 0) expect((await stat(join(copy, 'src', 'f.ts'))).uid).toBe(SANDBOX_UID);
  });
});

describe('applyCandidate', () => {
  it('applies the unified diff with git apply', async () => {
    const copy = join(root, 'copy-2');
    await copyCheckout(repo, copy);
    expect(await applyCandidate(copy, candidate(DIFF))).toEqual({ method: 'git-apply', files: ['src/f.ts'] });
    expect(await readFile(join(copy, 'src', 'f.ts'), 'utf8')).toContain('(xs ?? []).length');
  });

  it('falls back to the line-range edits when the diff does not apply', async () => {
    const copy = join(root, 'copy-3');
    await copyCheckout(repo, copy);
    const broken = DIFF.replace(' export function f', ' export function g');
    expect(await applyCandidate(copy, candidate(broken))).toEqual({ method: 'edits', files: ['src/f.ts'] });
    expect(await readFile(join(copy, 'src', 'f.ts'), 'utf8')).toBe(SOURCE.replace('xs.length', '(xs ?? []).length'));
  });

  it('throws VERIFICATION_FAILED naming both failures when neither applies', async () => {
    const copy = join(root, 'copy-4');
    await copyCheckout(repo, copy);
    const failure: unknown = await applyCandidate(copy, candidate('', '  return ys.length;')).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TracemendError);
    expect((failure as TracemendError).code).toBe('VERIFICATION_FAILED');
    expect((failure as TracemendError).message).toMatch(/the candidate carries no diff; edits: .*"before" does not match/);
  });

  it('refuses diffs and edits that leave the repository', async () => {
    const copy = join(root, 'copy-5');
    await copyCheckout(repo, copy);
    await expect(applyCandidate(copy, candidate(DIFF.replaceAll('src/f.ts', '../outside.ts')))).rejects.toThrow(/not inside the repository/);
  });
});

describe('paths', () => {
  it('accepts repository paths and refuses escapes, .git and node_modules', async () => {
    expect(assertRepoPath('test/./x.test.ts')).toBe('test/x.test.ts');
    for (const path of ['/etc/passwd', '../x', 'a/../../x', '.git/hooks/pre-commit', 'node_modules/x/index.js', '']) expect(() => assertRepoPath(path)).toThrow();
    await expect(writeRepoFile(repo, '../escape.ts', 'x')).rejects.toThrow(/not inside/);
  });

  it('writes the minimal test with its support files, refusing a path named twice or outside the repository', async () => {
    const copy = join(root, 'support-files');
    await copyCheckout(repo, copy);
    const testFile = { path: 'test/repro.test.ts', content: "import { replay } from './replay-helper.mjs';\n", support: [{ path: 'test/replay-helper.mjs', content: 'export const replay = 1;\n' }] };
    await writeTestFiles(copy, testFile);
    expect(await readFile(join(copy, 'test', 'repro.test.ts'), 'utf8')).toBe(testFile.content);
    expect(await readFile(join(copy, 'test', 'replay-helper.mjs'), 'utf8')).toBe('export const replay = 1;\n');
    await expect(writeTestFiles(copy, { ...testFile, support: [{ path: 'test/./repro.test.ts', content: '' }] })).rejects.toThrow(/name test\/repro\.test\.ts twice/);
    await expect(writeTestFiles(copy, { ...testFile, support: [{ path: '../helper.mjs', content: '' }] })).rejects.toThrow(/not inside the repository/);
  });

  it('reads the written paths of a diff', () => {
    expect(diffPaths(`${DIFF}--- a/gone.ts\n+++ /dev/null\n`)).toEqual(['src/f.ts']);
  });
});

describe('files the sandbox could have planted', () => {
  const HOST_TEXT = 'host file: not for the verifier to read or write\n';

  /** A host file outside every checkout, and a fresh copy of the repository. */
  async function setup(name: string): Promise<{ copy: string; hostFile: string; hostDir: string }> {
    const hostDir = join(root, `${name}-host`);
    await mkdir(hostDir);
    const hostFile = join(hostDir, 'secret.txt');
    await writeFile(hostFile, HOST_TEXT);
    const copy = join(root, name);
    await copyCheckout(repo, copy);
    return { copy, hostFile, hostDir };
  }

  async function refusal(promise: Promise<unknown>): Promise<TracemendError> {
    const error: unknown = await promise.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(TracemendError);
    return error as TracemendError;
  }

  it('does not write the minimal test through a directory link out of the copy', async () => {
    const { copy, hostDir } = await setup('planted-dir');
    await symlink(hostDir, join(copy, 'test'));
    const error = await refusal(writeRepoFile(copy, 'test/tracemend/repro.test.ts', 'planted'));
    expect(error.code).toBe('SANDBOX_ESCAPE');
    expect(error.message).toContain('test is a symbolic link');
    expect(await readdir(hostDir)).toEqual(['secret.txt']);
    await writeRepoFile(copy, 'test2/repro.test.ts', 'normal');
    expect(await readFile(join(copy, 'test2', 'repro.test.ts'), 'utf8')).toBe('normal');
  });

  it('does not apply edits through a file link to a host file, and names the file', async () => {
    const { copy, hostFile } = await setup('planted-file');
    await rm(join(copy, 'src', 'f.ts'));
    await writeFile(hostFile, SOURCE);
    await symlink(hostFile, join(copy, 'src', 'f.ts'));
    const error = await refusal(applyCandidate(copy, candidate(DIFF)));
    expect(error.code).toBe('SANDBOX_ESCAPE');
    expect(error.message).toContain('src/f.ts');
    expect(await readFile(hostFile, 'utf8')).toBe(SOURCE);
  });

  it('applies the diff without running a filter the copy\'s .git/config names', async () => {
    const { copy, hostDir } = await setup('planted-git-config');
    const marker = join(hostDir, 'filter-ran');
    await writeFile(join(copy, '.gitattributes'), '* filter=planted\n');
    await run('git', ['-C', copy, 'config', 'filter.planted.clean', `sh -c 'touch ${marker}; cat'`]);
    await run('git', ['-C', copy, 'config', 'core.fsmonitor', `touch ${marker}`]);
    expect(await applyCandidate(copy, candidate(DIFF))).toEqual({ method: 'git-apply', files: ['src/f.ts'] });
    expect(await readFile(join(copy, 'src', 'f.ts'), 'utf8')).toContain('(xs ?? []).length');
    expect(await readdir(hostDir)).toEqual(['secret.txt']);
  });

  it('refuses to copy a checkout holding a link to a host file', async () => {
    const { copy, hostFile } = await setup('planted-copy');
    await symlink(hostFile, join(copy, 'src', 'key.pem'));
    const error = await refusal(copyCheckout(copy, join(root, 'planted-copy-2')));
    expect(error.code).toBe('SANDBOX_ESCAPE');
    expect(error.message).toContain('src/key.pem');
  });

  it('refuses a test report that is a link to /etc/passwd, and reads a normal one', async () => {
    const { copy } = await setup('planted-report');
    await symlink('/etc/passwd', join(copy, '.tracemend-report-suite.json'));
    const error = await refusal(readReportedTests('json', { stdout: '', readReport: runReportReader(copy, '.tracemend-report-suite.json') }));
    expect(error.code).toBe('SANDBOX_ESCAPE');
    expect(error.message).toContain('.tracemend-report-suite.json');
    expect(error.message).not.toMatch(/root:/);
    await writeFile(join(copy, '.tracemend-report-baseline.json'), JSON.stringify({ testResults: [] }));
    expect(await readReportedTests('json', { stdout: '', readReport: runReportReader(copy, '.tracemend-report-baseline.json') })).toEqual([]);
  });
});
