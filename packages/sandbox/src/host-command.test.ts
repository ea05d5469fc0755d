import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processAlive } from '../test/host-tools';
import { HostCommandError, moveIntoPlace, runHostCommand } from './host-command';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-host-command-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runHostCommand', () => {
  it('gives the child exactly the environment it is handed, none of the worker\'s', async () => {
    process.env.TRACEMEND_HOST_COMMAND_TEST_TOKEN = 'worker-only-value';
    try {
      const { stdout } = await runHostCommand('/usr/bin/env', [], { cwd: dir, env: { ONLY: 'this' }, timeoutMs: 10_000 });
      expect(stdout.trim().split('\n').sort()).toEqual(['ONLY=this']);
    } finally {
      delete process.env.TRACEMEND_HOST_COMMAND_TEST_TOKEN;
    }
  });

  it('kills the whole process group at the time limit and reports the timeout', async () => {
    const pidFile = join(dir, 'pids');
    const started = Date.now();
    const error = await runHostCommand('/bin/sh', ['-c', `sleep 30 & echo "$$ $!" > ${pidFile}; wait`], { cwd: dir, env: {}, timeoutMs: 500 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HostCommandError);
    expect((error as HostCommandError).timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
    const pids = (await readFile(pidFile, 'utf8')).trim().split(' ').map(Number);
    for (const pid of pids) expect(await processAlive(pid)).toBe(false);
  });

  it('reports a failing command with its exit code and stderr', async () => {
    const error = await runHostCommand('/bin/sh', ['-c', 'echo broken lockfile >&2; exit 3'], { cwd: dir, env: {}, timeoutMs: 10_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HostCommandError);
    expect((error as HostCommandError).exitCode).toBe(3);
    expect((error as HostCommandError).stderr).toContain('broken lockfile');
  });
});

describe('moveIntoPlace', () => {
  it('copies across filesystems into place and leaves nothing half-copied beside it', async () => {
    const from = join(dir, 'tree');
    await mkdir(join(from, 'src'), { recursive: true });
    await writeFile(join(from, 'src', 'a.ts'), 'export const a = 1;\n');
    await symlink('src/a.ts', join(from, 'alias.ts'));
    // /dev/shm is a tmpfs, so a rename there from the temporary folder fails with EXDEV.
    const other = await mkdtemp('/dev/shm/tracemend-move-');
    try {
      const dest = join(other, 'tree');
      expect(await moveIntoPlace(from, dest, () => Promise.resolve(false))).toBe(true);
      expect(await readFile(join(dest, 'alias.ts'), 'utf8')).toBe('export const a = 1;\n');
      expect(await readdir(other)).toEqual(['tree']);
      // A second move finds the tree placed and keeps it.
      await mkdir(join(from, 'src'), { recursive: true }).catch(() => undefined);
      await writeFile(join(from, 'src', 'b.ts'), 'other\n');
      expect(await moveIntoPlace(from, dest, () => Promise.resolve(true))).toBe(false);
      expect(await readdir(other)).toEqual(['tree']);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
