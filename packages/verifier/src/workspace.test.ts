import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TracemendError, type Candidate } from '@tracemend/contracts';
import { SANDBOX_UID, copyCheckout, grantSandboxAccess } from '@tracemend/sandbox';
import { applyCandidate, assertRepoPath, diffPaths, writeRepoFile } from './workspace';

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

  it('reads the written paths of a diff', () => {
    expect(diffPaths(`${DIFF}--- a/gone.ts\n+++ /dev/null\n`)).toEqual(['src/f.ts']);
  });
});
