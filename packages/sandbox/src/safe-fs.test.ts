import { execFile } from 'node:child_process';
import { chmod, link, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TracemendError } from '@tracemend/contracts';
import { copyCheckout } from './checkout';
import { installDependencies } from './dependencies';
import { copyTreeInside, readTextInside, resolveInside, writeFileInside } from '@tracemend/process';

const execFileAsync = promisify(execFile);
const HOST_SECRET = 'host secret: must never be read or overwritten through the work folder\n';

let base: string;
/** The sandbox-writable tree. */
let work: string;
/** A host file outside the tree, standing in for the token key or /etc/shadow. */
let hostFile: string;
let hostDir: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'tracemend-safe-fs-'));
  work = join(base, 'work');
  hostDir = join(base, 'host');
  hostFile = join(hostDir, 'token.key');
  await mkdir(join(work, 'src'), { recursive: true });
  await mkdir(hostDir);
  await writeFile(hostFile, HOST_SECRET);
  await writeFile(join(work, 'src', 'app.ts'), 'export const app = 1;\n');
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

/** The rejection of `promise`, which must be a TracemendError. */
async function refusal(promise: Promise<unknown>): Promise<TracemendError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(TracemendError);
  return error as TracemendError;
}

describe('readTextInside', () => {
  it('reads a normal file and follows a link that stays inside the tree', async () => {
    await symlink('src/app.ts', join(work, 'alias.ts'));
    await symlink('src', join(work, 'lib'));
    expect(await readTextInside(work, 'src/app.ts')).toBe('export const app = 1;\n');
    expect(await readTextInside(work, 'alias.ts')).toBe('export const app = 1;\n');
    expect(await readTextInside(work, 'lib/app.ts')).toBe('export const app = 1;\n');
    await expect(readTextInside(work, 'src/missing.ts')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a file link to a host file outside the tree, naming the path, and reads nothing of it', async () => {
    await symlink(hostFile, join(work, 'src', 'suspect.ts'));
    const error = await refusal(readTextInside(work, 'src/suspect.ts'));
    expect(error.code).toBe('SANDBOX_ESCAPE');
    expect(error.message).toContain('src/suspect.ts');
    expect(error.message).toContain(hostFile);
    expect(error.message).not.toContain('host secret');
  });

  it('refuses a directory link out of the tree anywhere on the path', async () => {
    await symlink(hostDir, join(work, 'src', 'config'));
    const error = await refusal(readTextInside(work, 'src/config/token.key'));
    expect(error.code).toBe('SANDBOX_ESCAPE');
    expect(error.message).toContain('src/config is a symbolic link');
    // A relative link that climbs out is no different from an absolute one.
    await symlink('../../host', join(work, 'src', 'up'));
    expect((await refusal(readTextInside(work, 'src/up/token.key'))).message).toContain('src/up');
  });

  it('refuses a link to /etc/passwd and a dangling link', async () => {
    await symlink('/etc/passwd', join(work, '.tracemend-report-suite.json'));
    const passwd = await refusal(readTextInside(work, '.tracemend-report-suite.json'));
    expect(passwd.code).toBe('SANDBOX_ESCAPE');
    expect(passwd.message).toContain('.tracemend-report-suite.json');
    expect(passwd.message).not.toContain('root:');
    await symlink(join(hostDir, 'not-yet'), join(work, 'later.json'));
    expect((await refusal(readTextInside(work, 'later.json'))).message).toMatch(/later\.json .* does not resolve/);
  });

  it('refuses paths that climb out, and files that are not regular without blocking on them', async () => {
    expect((await refusal(readTextInside(work, '../host/token.key'))).code).toBe('INVALID_INPUT');
    expect((await refusal(readTextInside(work, hostFile))).code).toBe('INVALID_INPUT');
    await execFileAsync('mkfifo', [join(work, 'pipe.json')]);
    const fifo = await refusal(readTextInside(work, 'pipe.json'));
    expect(fifo.message).toContain('pipe.json');
    expect(fifo.message).toContain('not a regular file');
  });

  it('refuses a file above maxBytes before reading it', async () => {
    await writeFile(join(work, 'big.json'), 'x'.repeat(2_000));
    expect((await refusal(readTextInside(work, 'big.json', { maxBytes: 1_000 }))).code).toBe('SANDBOX_RESOURCE_LIMIT');
    expect(await readTextInside(work, 'big.json', { maxBytes: 2_000 })).toHaveLength(2_000);
  });
});

describe('writeFileInside', () => {
  it('writes a normal file, creating its parents, and replaces an existing one', async () => {
    await writeFileInside(work, 'test/tracemend/repro.test.ts', 'first\n');
    await writeFileInside(work, 'src/app.ts', 'export const app = 2;\n');
    expect(await readFile(join(work, 'test', 'tracemend', 'repro.test.ts'), 'utf8')).toBe('first\n');
    expect(await readFile(join(work, 'src', 'app.ts'), 'utf8')).toBe('export const app = 2;\n');
  });

  it('does not write through a file link to a host file, and names the path', async () => {
    await symlink(hostFile, join(work, 'src', 'index.ts'));
    const error = await refusal(writeFileInside(work, 'src/index.ts', 'overwritten\n'));
    expect(error.code).toBe('SANDBOX_ESCAPE');
    expect(error.message).toContain('src/index.ts');
    expect(await readFile(hostFile, 'utf8')).toBe(HOST_SECRET);
  });

  it('does not create files through a directory link out of the tree', async () => {
    await symlink(hostDir, join(work, 'test'));
    const error = await refusal(writeFileInside(work, 'test/tracemend/repro.test.ts', 'planted\n'));
    expect(error.code).toBe('SANDBOX_ESCAPE');
    expect(error.message).toContain('test is a symbolic link');
    expect(await readdir(hostDir)).toEqual(['token.key']);
  });

  it('does not create a file at the target of a dangling link', async () => {
    await symlink(join(hostDir, 'created-by-worker'), join(work, 'src', 'new.ts'));
    expect((await refusal(writeFileInside(work, 'src/new.ts', 'x'))).code).toBe('SANDBOX_ESCAPE');
    expect(await readdir(hostDir)).toEqual(['token.key']);
  });

  it('resolves a path to the real file inside the tree', async () => {
    await symlink('src', join(work, 'lib'));
    const resolved = await resolveInside(work, 'lib/app.ts');
    expect(resolved).toMatchObject({ exists: true, path: join(resolved.root, 'src', 'app.ts') });
    expect(await resolveInside(work, 'lib/new/file.ts')).toMatchObject({ exists: false, path: join(resolved.root, 'src', 'new', 'file.ts') });
  });
});

describe('copyTreeInside and copyCheckout', () => {
  it('copies files with their modes and times, keeps links inside the tree and leaves node_modules out', async () => {
    await writeFile(join(work, 'run.sh'), '#!/bin/sh\n');
    await chmod(join(work, 'run.sh'), 0o755);
    await symlink('src/app.ts', join(work, 'alias.ts'));
    await mkdir(join(work, 'node_modules', 'x'), { recursive: true });
    await writeFile(join(work, 'node_modules', 'x', 'index.js'), '');
    await mkdir(join(work, '.git'));
    await writeFile(join(work, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    const dest = join(base, 'copy');
    await copyCheckout(work, dest);
    expect((await readdir(dest)).sort()).toEqual(['.git', 'alias.ts', 'run.sh', 'src']);
    expect(await readFile(join(dest, 'src', 'app.ts'), 'utf8')).toBe('export const app = 1;\n');
    expect(await readFile(join(dest, '.git', 'HEAD'), 'utf8')).toBe('ref: refs/heads/main\n');
    expect((await stat(join(dest, 'run.sh'))).mode & 0o777).toBe(0o755);
    expect(await readlink(join(dest, 'alias.ts'))).toBe('src/app.ts');
    expect(Math.trunc((await stat(join(dest, 'src', 'app.ts'))).mtimeMs)).toBe(Math.trunc((await stat(join(work, 'src', 'app.ts'))).mtimeMs));
  });

  it('refuses a link to a host file, naming it, without copying the file', async () => {
    await symlink(hostFile, join(work, 'src', 'key.pem'));
    const dest = join(base, 'copy');
    const error = await refusal(copyCheckout(work, dest));
    expect(error.code).toBe('SANDBOX_ESCAPE');
    expect(error.message).toContain('src/key.pem');
    const copied = await readdir(dest, { recursive: true });
    for (const entry of copied) {
      const info = await lstat(join(dest, entry));
      if (info.isFile()) expect(await readFile(join(dest, entry), 'utf8')).not.toContain('host secret');
    }
  });

  it('refuses a directory link out of the tree and drops setuid bits and FIFOs', async () => {
    await writeFile(join(work, 'tool'), '');
    await chmod(join(work, 'tool'), 0o4755);
    await execFileAsync('mkfifo', [join(work, 'pipe')]);
    const dest = join(base, 'copy');
    await copyTreeInside(work, dest);
    expect((await stat(join(dest, 'tool'))).mode & 0o7777).toBe(0o755);
    expect(await readdir(dest)).not.toContain('pipe');
    await symlink(hostDir, join(work, 'src', 'etc'));
    expect((await refusal(copyTreeInside(work, join(base, 'copy2')))).message).toContain('src/etc');
  });
});

describe('hard links', () => {
  // The host file and the tree share one filesystem here, as a checkout and the worker's state folder do.
  it('refuses to read a file hard-linked to a host file, naming the path, and reads nothing of it', async () => {
    await link(hostFile, join(work, 'src', 'report.json'));
    const error = await refusal(readTextInside(work, 'src/report.json'));
    expect(error.code).toBe('SANDBOX_ESCAPE');
    expect(error.message).toContain('src/report.json');
    expect(error.message).toContain('2 hard links');
    expect(error.message).not.toContain(HOST_SECRET.trim());
  });

  it('refuses to write through a hard link and leaves the host file as it was', async () => {
    await link(hostFile, join(work, 'src', 'app.test.ts'));
    const error = await refusal(writeFileInside(work, 'src/app.test.ts', 'overwritten'));
    expect(error.code).toBe('SANDBOX_ESCAPE');
    expect(error.message).toContain('src/app.test.ts');
    expect(await readFile(hostFile, 'utf8')).toBe(HOST_SECRET);
  });

  it('refuses to copy a tree that holds a hard-linked file, without copying the file', async () => {
    await link(hostFile, join(work, 'src', 'fixture.json'));
    const dest = join(base, 'copy');
    const error = await refusal(copyCheckout(work, dest));
    expect(error.code).toBe('SANDBOX_ESCAPE');
    expect(error.message).toContain('src/fixture.json');
    await expect(readFile(join(dest, 'src', 'fixture.json'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reads a hard-linked file only when the caller vouches that no sandbox writes the tree', async () => {
    // A package manager's store links files into installed packages (tracemend's own toolchain).
    await link(hostFile, join(work, 'src', 'LICENSE'));
    expect(await readTextInside(work, 'src/LICENSE', { allowHardLinks: true })).toBe(HOST_SECRET);
    expect((await refusal(readTextInside(work, 'src/LICENSE'))).code).toBe('SANDBOX_ESCAPE');
  });

  it('still reads, writes and copies the same file once it has a single link again', async () => {
    const linked = join(work, 'src', 'fixture.json');
    await link(hostFile, linked);
    await rm(hostFile);
    expect((await stat(linked)).nlink).toBe(1);
    expect(await readTextInside(work, 'src/fixture.json')).toBe(HOST_SECRET);
    await writeFileInside(work, 'src/fixture.json', '{}');
    await copyCheckout(work, join(base, 'copy'));
    expect(await readFile(join(base, 'copy', 'src', 'fixture.json'), 'utf8')).toBe('{}');
  });
});

describe('installDependencies', () => {
  it('refuses a lockfile that links to a host file before anything reads it', async () => {
    await writeFile(join(work, 'package.json'), '{"name":"probe","version":"1.0.0"}');
    await symlink(hostFile, join(work, 'package-lock.json'));
    const error = await refusal(installDependencies({ repoDir: work, cacheRoot: join(base, 'cache') }));
    expect(error.code).toBe('SANDBOX_ESCAPE');
    expect(error.message).toContain('package-lock.json');
  });
});
