import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareCheckout } from './checkout';
import { SANDBOX_UID } from './image/build-base-image';

const git = promisify(execFile);
let dir: string;
let origin: string;
let sha: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-checkout-'));
  origin = join(dir, 'origin');
  await git('git', ['init', '--quiet', '-b', 'main', origin]);
  await writeFile(join(origin, 'a.ts'), 'export const a = 1;\n');
  await git('git', ['-C', origin, 'add', '.']);
  await git('git', ['-C', origin, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', 'one']);
  sha = (await git('git', ['-C', origin, 'rev-parse', 'HEAD'])).stdout.trim();
  await writeFile(join(origin, 'a.ts'), 'export const a = 2;\n');
  await git('git', ['-C', origin, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-am', 'two']);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('prepareCheckout', () => {
  it('checks out the recorded commit once, for the sandbox user', async () => {
    const root = join(dir, 'checkouts');
    const checkout = await prepareCheckout({ cloneUrl: origin, sha, root, name: 'svc' });
    expect(await readFile(join(checkout, 'a.ts'), 'utf8')).toBe('export const a = 1;\n');
    if (process.getuid?.() === 0) expect((await stat(join(checkout, 'a.ts'))).uid).toBe(SANDBOX_UID);
    expect(await prepareCheckout({ cloneUrl: origin, sha, root, name: 'svc' })).toBe(checkout);
  });

  it('names the commit it cannot check out and refuses what is not a SHA', async () => {
    const root = join(dir, 'bad');
    await expect(prepareCheckout({ cloneUrl: origin, sha: 'f'.repeat(40), root, name: 'svc' })).rejects.toThrow(/cannot check out ffffffffffff of svc/);
    await expect(prepareCheckout({ cloneUrl: origin, sha: 'main', root, name: 'svc' })).rejects.toThrow(/needs a full commit SHA/);
    await expect(prepareCheckout({ cloneUrl: origin, sha, root, name: '../x' })).rejects.toThrow(/not a plain folder name/);
  });
});
