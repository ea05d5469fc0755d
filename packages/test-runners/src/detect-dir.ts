import { readdir } from 'node:fs/promises';
import { readTextInside } from '@tracemend/process';
import { detectTestRunnerIn, type DetectedRunner, type RepositoryFiles } from './detect';

/** A checkout's files, read without following links out of it. */
export function checkoutFiles(repoDir: string): RepositoryFiles {
  return {
    read: (path) => readTextInside(repoDir, path, { maxBytes: 1024 * 1024 }).catch(() => undefined),
    rootEntries: () => readdir(repoDir),
  };
}

/** Which runner the tests of the checkout in `repoDir` use (`detectTestRunnerIn` over its files). */
export function detectTestRunner(repoDir: string): Promise<DetectedRunner | undefined> {
  return detectTestRunnerIn(checkoutFiles(repoDir));
}
