import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTarStream } from './tar';

const execFileAsync = promisify(execFile);

describe('createTarStream', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tracemend-tar-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes an archive that GNU tar extracts with the same contents, modes and links', async () => {
    const source = join(dir, 'source.bin');
    const payload = Buffer.alloc(1300, 7);
    await writeFile(source, payload);
    const longDir = `deep/${'d'.repeat(90)}/${'e'.repeat(40)}`;
    const archive = join(dir, 'out.tar');
    await pipeline(
      createTarStream([
        { type: 'dir', path: '/etc', mode: 0o755 },
        { type: 'dir', path: '/tmp', mode: 0o1777 },
        { type: 'dir', path: '/deep', mode: 0o755 },
        { type: 'dir', path: `/deep/${'d'.repeat(90)}`, mode: 0o755 },
        { type: 'dir', path: `/${longDir}`, mode: 0o755 },
        { type: 'inline', path: '/etc/hello', mode: 0o640, content: Buffer.from('hi\n') },
        { type: 'file', path: `/${longDir}/blob`, mode: 0o755, source, size: payload.length },
        { type: 'symlink', path: '/etc/link', target: '/etc/hello' },
      ]),
      createWriteStream(archive),
    );
    expect((await stat(archive)).size % 512).toBe(0);
    const out = join(dir, 'out');
    await execFileAsync('mkdir', ['-p', out]);
    await execFileAsync('tar', ['-xpf', archive, '-C', out]);
    expect(await readFile(join(out, 'etc/hello'), 'utf8')).toBe('hi\n');
    expect((await stat(join(out, 'etc/hello'))).mode & 0o7777).toBe(0o640);
    expect((await stat(join(out, 'tmp'))).mode & 0o7777).toBe(0o1777);
    expect(Buffer.compare(await readFile(join(out, longDir, 'blob')), payload)).toBe(0);
    expect(await readlink(join(out, 'etc/link'))).toBe('/etc/hello');
  });

  it('fails the stream when a source file changes size', async () => {
    const source = join(dir, 'shrunk.bin');
    await writeFile(source, 'short');
    const stream = createTarStream([{ type: 'file', path: '/x', mode: 0o644, source, size: 99 }]);
    await expect(pipeline(stream, createWriteStream(join(dir, 'bad.tar')))).rejects.toThrow(/changed while archiving/);
  });
});
