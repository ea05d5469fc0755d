import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_SOURCE_BYTES, readSourceFiles } from './source-files';

let root: string | undefined;
afterEach(async () => {
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

describe('readSourceFiles', () => {
  it('reads every JavaScript and TypeScript flavour, skipping dependencies, dot folders, large files and links out of the tree', async () => {
    root = await mkdtemp(join(tmpdir(), 'source-files-'));
    const outside = await mkdtemp(join(tmpdir(), 'source-files-outside-'));
    try {
      await writeFile(join(outside, 'secret.js'), 'export const key = 1;\n');
      const files: Record<string, string> = {
        'src/a.ts': 'a', 'src/b.mjs': 'b', 'src/c.cjs': 'c', 'src/d.tsx': 'd', 'lib/e.js': 'e', 'README.md': 'no',
        'node_modules/dep/index.js': 'no', '.cache/x.js': 'no',
      };
      for (const [path, text] of Object.entries(files)) {
        await mkdir(join(root, path, '..'), { recursive: true });
        await writeFile(join(root, path), text);
      }
      await writeFile(join(root, 'src/big.js'), 'x'.repeat(MAX_SOURCE_BYTES + 1));
      await symlink(join(outside, 'secret.js'), join(root, 'src/linked.js'));
      const read = await readSourceFiles(root);
      expect([...read.keys()]).toEqual(['lib/e.js', 'src/a.ts', 'src/b.mjs', 'src/c.cjs', 'src/d.tsx']);
      expect(read.get('src/a.ts')).toBe('a');
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});
