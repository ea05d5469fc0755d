import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readOrCreateSecretFile } from './secret-file';

let root: string | undefined;
afterEach(async () => {
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

describe('readOrCreateSecretFile', () => {
  it('gives every caller starting together the same whole secret, in a file only its owner reads', async () => {
    root = await mkdtemp(join(tmpdir(), 'secret-file-'));
    const file = join(root, 'keys', 'evidence-key');
    let made = 0;
    const secrets = await Promise.all(Array.from({ length: 20 }, () => readOrCreateSecretFile(file, () => `secret-${++made}-${'x'.repeat(4096)}`)));
    expect(new Set(secrets).size).toBe(1);
    expect(secrets[0]).toMatch(/^secret-\d+-x{4096}$/);
    expect(((await stat(file)).mode & 0o777).toString(8)).toBe('600');
    expect(((await stat(join(root, 'keys'))).mode & 0o777).toString(8)).toBe('700');
    // No temporary file is left behind.
    expect(await readdir(join(root, 'keys'))).toEqual(['evidence-key']);
  });

  it('reads an existing secret without making a new one', async () => {
    root = await mkdtemp(join(tmpdir(), 'secret-file-'));
    const file = join(root, 'token-key.json');
    await writeFile(file, '{"id":"k1"}');
    expect(await readOrCreateSecretFile(file, () => 'never')).toBe('{"id":"k1"}');
  });
});
