import { TracemendError } from '@tracemend/contracts';
import { readTextInside } from '@tracemend/process';
import { detectPackageManager, LOCKFILES, readNodeRequirement, type LockfileName, type NodeRequirement, type PackageManagerPlan } from '@tracemend/sandbox';
import { checkoutFiles, detectTestRunner, resolveTestSetup, UnsupportedRunnerError, type DetectedRunner, type TestSetup } from '@tracemend/test-runners';

/** The parts of package.json the inspection reads. */
export interface Manifest {
  name?: string;
}

const MAX_MANIFEST_BYTES = 1024 * 1024;
const MAX_LOCKFILE_BYTES = 64 * 1024 * 1024;

/**
 * The repository facts beside its entries. Runner, suite command and Node are read by the same code
 * triage and the sandbox use, so the catalog entry says what they would decide.
 */
export interface RepoFacts {
  readonly manifest: Manifest | undefined;
  /** What the tests run with, and what said so. */
  readonly runner: DetectedRunner | undefined;
  readonly testSetup: TestSetup | { problem: string };
  readonly packageManager: { plan: PackageManagerPlan; evidence: string } | { problem: string };
  /** The Node version the checkout asks for, as written; undefined when it names none. */
  readonly node: NodeRequirement | { problem: string } | undefined;
}

async function readOptional(root: string, path: string, maxBytes: number): Promise<string | undefined> {
  try {
    return await readTextInside(root, path, { maxBytes });
  } catch {
    return undefined;
  }
}

/** package.json parsed, undefined when there is none; INVALID_INPUT naming the file when it is not a JSON object. */
async function readManifest(root: string): Promise<{ manifest: Manifest; text: string } | undefined> {
  const text = await readOptional(root, 'package.json', MAX_MANIFEST_BYTES);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TracemendError('INVALID_INPUT', `package.json is not valid JSON (${(error as Error).message}); fix it and run init again`, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TracemendError('INVALID_INPUT', 'package.json must hold a JSON object');
  return { manifest: value, text };
}

/** Reads the runner, suite command, package manager and requested Node version of a repository folder. */
export async function inspectRepoFacts(root: string): Promise<RepoFacts> {
  const read = await readManifest(root);
  const manifest = read?.manifest;
  const runner = await detectTestRunner(root);
  const lockfiles: Partial<Record<LockfileName, string>> = {};
  for (const name of LOCKFILES) {
    const text = await readOptional(root, name, MAX_LOCKFILE_BYTES);
    if (text !== undefined) lockfiles[name] = text;
  }
  let packageManager: RepoFacts['packageManager'];
  try {
    const plan = detectPackageManager({ packageJson: read?.text ?? '{}', lockfiles });
    const evidence = plan.lockfile === null ? 'no lockfile: npm, resolving by date' : `${plan.lockfile} in the repository root`;
    packageManager = { plan, evidence };
  } catch (error) {
    if (!(error instanceof TracemendError)) throw error;
    packageManager = { problem: error.message };
  }
  let node: RepoFacts['node'];
  try {
    node = await readNodeRequirement(root);
  } catch (error) {
    if (!(error instanceof TracemendError)) throw error;
    node = { problem: error.message };
  }
  let testSetup: RepoFacts['testSetup'];
  try {
    testSetup = await resolveTestSetup(undefined, checkoutFiles(root), 'this repository');
  } catch (error) {
    if (!(error instanceof UnsupportedRunnerError)) throw error;
    testSetup = { problem: error.message };
  }
  return { manifest, runner, testSetup, packageManager, node };
}
