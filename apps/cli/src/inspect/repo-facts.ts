import { TracemendError } from '@tracemend/contracts';
import { readTextInside } from '@tracemend/process';
import { detectPackageManager, LOCKFILES, type LockfileName, type PackageManagerPlan } from '@tracemend/sandbox';
import { detectTestRunner, type DetectedRunner } from '@tracemend/test-runners';

/** The parts of package.json the inspection reads. */
export interface Manifest {
  name?: string;
  scripts?: Record<string, string>;
  engines?: { node?: string };
  volta?: { node?: string };
}

/** The command that runs a runner's suite when package.json has no `test` script. */
const RUNNER_COMMANDS: Record<DetectedRunner['runner'], string[]> = {
  vitest: ['npx', 'vitest', 'run'],
  jest: ['npx', 'jest'],
  mocha: ['npx', 'mocha'],
  'node:test': ['node', '--test'],
  ava: ['npx', 'ava'],
};

const MAX_MANIFEST_BYTES = 1024 * 1024;
const MAX_LOCKFILE_BYTES = 64 * 1024 * 1024;

/** A Node version the repository asks for, as written, and the file that asks. */
export interface NodeVersionRequest {
  readonly version: string;
  readonly source: string;
}

/** The repository facts beside its entries: runner, test command, package manager, Node version. */
export interface RepoFacts {
  readonly manifest: Manifest | undefined;
  readonly runner: DetectedRunner | undefined;
  readonly testCommand: { command: string[]; evidence: string } | undefined;
  readonly packageManager: { plan: PackageManagerPlan; evidence: string } | { problem: string };
  readonly node: readonly NodeVersionRequest[];
}

async function readOptional(root: string, path: string, maxBytes: number): Promise<string | undefined> {
  try {
    return await readTextInside(root, path, { maxBytes });
  } catch {
    return undefined;
  }
}

/** package.json parsed, undefined when there is none; INVALID_INPUT naming the file when it is not a JSON object. */
export async function readManifest(root: string): Promise<{ manifest: Manifest; text: string } | undefined> {
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

/** The suite command: `npm test` when package.json has a `test` script, else the runner's own command. */
export function testCommandOf(manifest: Manifest | undefined, runner: DetectedRunner | undefined): RepoFacts['testCommand'] {
  const script = manifest?.scripts?.test;
  // npm's placeholder script fails on purpose: it is no test command.
  if (script !== undefined && !/no test specified/.test(script)) return { command: ['npm', 'test'], evidence: `package.json scripts.test is "${script}"` };
  if (runner === undefined) return undefined;
  return { command: RUNNER_COMMANDS[runner.runner], evidence: `no test script; ${runner.runner}'s own command` };
}

/** Reads the runner, test command, package manager and requested Node versions of a repository folder. */
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
  const node: NodeVersionRequest[] = [];
  for (const file of ['.nvmrc', '.node-version']) {
    const text = (await readOptional(root, file, 4096))?.trim();
    if (text) node.push({ version: text.split(/\r?\n/)[0]?.trim() ?? text, source: file });
  }
  if (typeof manifest?.engines?.node === 'string') node.push({ version: manifest.engines.node, source: 'package.json engines.node' });
  if (typeof manifest?.volta?.node === 'string') node.push({ version: manifest.volta.node, source: 'package.json volta.node' });
  return { manifest, runner, testCommand: testCommandOf(manifest, runner), packageManager, node };
}
