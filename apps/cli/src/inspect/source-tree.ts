import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Folders that hold no source of the service's own: dependencies, build output, tool state. */
const SKIPPED_DIRS = new Set(['node_modules', '.git', 'dist', 'build', 'out', 'coverage', 'cdk.out', '.serverless', '.aws-sam', '.next', '.turbo', '.cache']);
const CODE_FILE = /\.(?:[cm]?[jt]s|tsx|jsx)$/;
const TEST_FILE = /(?:^|\/)(?:test|tests|__tests__|spec)\/|\.(?:test|spec)\.[cm]?[jt]sx?$/;
/** Bounds the walk so a monorepo checked out by mistake stays quick to inspect. */
const MAX_FILES = 5_000;

/** The repository's files as repo-relative paths with `/`, code files split into source and tests. */
export interface SourceTree {
  readonly files: readonly string[];
  readonly sources: readonly string[];
  readonly tests: readonly string[];
}

/** Lists a repository's files (dependencies and build output left out), sorted. */
export async function listSourceTree(root: string): Promise<SourceTree> {
  const files: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(join(root, relative), { withFileTypes: true });
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (files.length >= MAX_FILES) return;
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) await walk(path);
      } else if (entry.isFile()) files.push(path);
    }
  };
  await walk('');
  const code = files.filter((file) => CODE_FILE.test(file) && !/\.d\.[cm]?ts$/.test(file));
  return { files, sources: code.filter((file) => !TEST_FILE.test(file)), tests: code.filter((file) => TEST_FILE.test(file)) };
}
