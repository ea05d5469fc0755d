import { readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { readTextInside } from './safe-fs';

/** JavaScript and TypeScript sources of every module flavour. */
const SOURCE_FILE = /\.(?:[cm]?[jt]sx?)$/;
const MAX_SOURCE_FILES = 5_000;
/** A larger file is generated or bundled, not something a fix or a reader of the code cares about. */
export const MAX_SOURCE_BYTES = 1024 * 1024;

/**
 * A checkout's JavaScript and TypeScript files by repo-relative path, in name order, without following
 * a link out of the tree: at most 5000 files of at most 1 MiB each (larger ones are left out);
 * node_modules and dot-directories skipped.
 */
export async function readSourceFiles(root: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (relative: string): Promise<void> => {
    for (const entry of (await readdir(join(root, relative), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (files.size >= MAX_SOURCE_FILES) return;
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const path = relative === '' ? entry.name : posix.join(relative, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && SOURCE_FILE.test(entry.name)) {
        const text = await readTextInside(root, path, { maxBytes: MAX_SOURCE_BYTES }).catch((error: unknown) => {
          if ((error as { code?: string }).code === 'SANDBOX_RESOURCE_LIMIT') return undefined;
          throw error;
        });
        if (text !== undefined) files.set(path, text);
      }
    }
  };
  await walk('');
  return files;
}
