import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar, { type Headers } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { entryPath, extractArchiveInto } from './tar-extract';
import { refusal } from '../test/refusal';

let root: string;
let outside: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tracemend-extract-'));
  outside = await mkdtemp(join(tmpdir(), 'tracemend-extract-outside-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

/** An archive as the engine sends a folder's contents: `./` first, then `./…` entries. */
function archive(entries: readonly (Headers & { body?: string | Buffer })[]): Readable {
  const pack = tar.pack();
  pack.entry({ name: './', type: 'directory' });
  for (const { body, ...header } of entries) {
    if (body === undefined) pack.entry(header);
    else pack.entry(header, body);
  }
  pack.finalize();
  return pack;
}

describe('extractArchiveInto', () => {
  it('writes regular files and directories, skips unchanged files and keeps links inside the tree as the host has them', async () => {
    await writeFile(join(root, 'same.txt'), 'same');
    const sameSha = '0967115f2813a3541eaef77de9d9d5773f1c0c04314b0bbfe4ff3b3b1c55b5d5';
    const result = await extractArchiveInto(
      root,
      archive([
        { name: './same.txt', body: 'same' },
        { name: './reports', type: 'directory', mode: 0o755 },
        { name: './reports/junit.xml', body: '<testsuite/>', mode: 0o640 },
        { name: './empty', type: 'directory' },
        { name: './docs', type: 'symlink', linkname: 'reports' },
      ]),
      { unchanged: new Map([['same.txt', { sha256: sameSha, size: 4 }]]), limits: { maxBytes: 12, maxEntries: 10 } },
    );
    expect(result.written).toEqual(['reports/junit.xml']);
    expect(result.createdDirectories).toEqual(['reports', 'empty']);
    expect(result.skippedLinks).toEqual(['docs']);
    expect(await readFile(join(root, 'reports/junit.xml'), 'utf8')).toBe('<testsuite/>');
    expect((await stat(join(root, 'reports/junit.xml'))).mode & 0o777).toBe(0o640);
    expect((await stat(join(root, 'empty'))).isDirectory()).toBe(true);
    await expect(lstat(join(root, 'docs'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it.each([
    ['a .. entry', { name: './../escaped.txt', body: 'x' }, 'SANDBOX_ESCAPE', /"\.\/\.\.\/escaped\.txt" climbs out of the tree/],
    ['an absolute name', { name: '/etc/cron.d/job', body: 'x' }, 'SANDBOX_ESCAPE', /"\/etc\/cron\.d\/job" is an absolute path/],
    ['a symlink to a host file', { name: './pw', type: 'symlink', linkname: '/etc/passwd' }, 'SANDBOX_ESCAPE', /"\.\/pw" is a symbolic link to \/etc\/passwd, outside the tree/],
    ['a relative symlink climbing out', { name: './sub/up', type: 'symlink', linkname: '../../etc' }, 'SANDBOX_ESCAPE', /"\.\/sub\/up" is a symbolic link to \.\.\/\.\.\/etc, outside the tree/],
    ['a hard link out of the tree', { name: './hard', type: 'link', linkname: '../etc/shadow' }, 'SANDBOX_ESCAPE', /"\.\/hard" is a hard link to \.\.\/etc\/shadow/],
    ['a character device', { name: './null', type: 'character-device', devmajor: 1, devminor: 3 }, 'SANDBOX_ESCAPE', /"\.\/null" is a character-device entry/],
    ['a block device', { name: './disk', type: 'block-device', devmajor: 8, devminor: 0 }, 'SANDBOX_ESCAPE', /"\.\/disk" is a block-device entry/],
    ['a FIFO', { name: './pipe', type: 'fifo' }, 'SANDBOX_ESCAPE', /"\.\/pipe" is a fifo entry/],
    ['a file larger than the bound', { name: './big.bin', body: Buffer.alloc(2048) }, 'SANDBOX_RESOURCE_LIMIT', /"\.\/big\.bin" has 2048 bytes, which passes the 1024 bytes of new content/],
  ] as const)('refuses %s, names it and writes nothing', async (_what, hostile, code, message) => {
    const error = await refusal(
      extractArchiveInto(root, archive([{ name: './before.txt', body: 'written first in the archive' }, hostile, { name: './after.txt', body: 'x' }]), {
        limits: { maxBytes: 1024, maxEntries: 100 },
      }),
    );
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(await readdir(root)).toEqual([]);
    expect(await readdir(outside)).toEqual([]);
  });

  it('counts only new or changed content against the bound', async () => {
    const big = Buffer.alloc(2048, 7);
    const bigSha = createHash('sha256').update(big).digest('hex');
    const unchanged = new Map([['big.bin', { sha256: bigSha, size: big.length }]]);
    const limits = { maxBytes: 1024, maxEntries: 10 };
    const passed = await extractArchiveInto(root, archive([{ name: './big.bin', body: big }, { name: './small.txt', body: 'new' }]), { unchanged, limits });
    expect(passed).toMatchObject({ written: ['small.txt'], bytes: 3 });
    const changed = Buffer.alloc(2048, 8);
    const error = await refusal(extractArchiveInto(root, archive([{ name: './big.bin', body: changed }]), { unchanged, limits }));
    expect(error.message).toContain('"./big.bin" has 2048 bytes, which passes the 1024 bytes of new content');
    await expect(lstat(join(root, 'big.bin'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('bounds the number of entries', async () => {
    const many = Array.from({ length: 20 }, (_, index) => ({ name: `./f${index}`, body: '' }));
    const error = await refusal(extractArchiveInto(root, archive(many), { limits: { maxBytes: 1024, maxEntries: 10 } }));
    expect(error.code).toBe('SANDBOX_RESOURCE_LIMIT');
    expect(error.message).toContain('"./f9" is one entry more than the 10 allowed');
    expect(await readdir(root)).toEqual([]);
  });

  it('does not write through a host link that leaves the tree', async () => {
    await symlink(outside, join(root, 'out'));
    const error = await refusal(extractArchiveInto(root, archive([{ name: './out/planted.txt', body: 'x' }])));
    expect(error.code).toBe('SANDBOX_ESCAPE');
    expect(error.message).toContain('out is a symbolic link to');
    expect(await readdir(outside)).toEqual([]);
  });

  it('rejects an archive that is not a tar', async () => {
    await expect(extractArchiveInto(root, Readable.from([Buffer.from('not a tar archive '.repeat(64))]))).rejects.toThrow();
    expect(await readdir(root)).toEqual([]);
  });
});

describe('entryPath', () => {
  it('maps ./ names to tree-relative paths', () => {
    expect(entryPath('./')).toBe('');
    expect(entryPath('./a/b.txt')).toBe('a/b.txt');
    expect(entryPath('./a/b/')).toBe('a/b');
    expect(() => entryPath('a/b.txt')).toThrow(/does not lie under the archived folder/);
    expect(() => entryPath('./a/\0b')).toThrow(/NUL byte/);
  });
});

describe('extractArchiveInto creates directories', () => {
  it('creates nested folders for files whose folder entries come first', async () => {
    await mkdir(join(root, 'existing'));
    await extractArchiveInto(root, archive([{ name: './existing/new', type: 'directory' }, { name: './existing/new/file.txt', body: 'nested' }]));
    expect(await readFile(join(root, 'existing/new/file.txt'), 'utf8')).toBe('nested');
  });
});
