// Which runner a repository's tests use, read from its files alone. This module imports nothing that
// runs containers, so triage can read a repository at a commit from a bare mirror through it.
import type { TestRunner } from '@tracemend/contracts';
import { SHELL_SYNTAX } from './script';

/** The runner a repository's tests use, and what said so. */
export interface DetectedRunner {
  readonly runner: TestRunner;
  readonly evidence: string;
}

/** Read access to a repository's files, from a checkout or from git objects at a commit. */
export interface RepositoryFiles {
  /** A file's text, or undefined when it does not exist. */
  read(path: string): Promise<string | undefined>;
  /** The names of the entries in the repository's root folder. */
  rootEntries(): Promise<readonly string[]>;
}

/** How the repository's test suite is run, and what said so. */
export interface TestSetup {
  readonly runner: TestRunner;
  readonly command: string[];
  /** Where runner and command came from, for the operator (absent when the catalog named both). */
  readonly detectedFrom?: string;
}

interface Manifest {
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  jest?: unknown;
  mocha?: unknown;
  ava?: unknown;
}

// Runners as their command line names them, in the order a script is read.
const SCRIPT_WORDS: readonly [RegExp, TestRunner][] = [
  [/(?:^|[\s/])vitest(?:\s|$)/, 'vitest'],
  [/(?:^|[\s/])jest(?:\s|$)/, 'jest'],
  [/(?:^|[\s/])(?:_?mocha)(?:\s|$)/, 'mocha'],
  [/(?:^|[\s/])ava(?:\s|$)/, 'ava'],
  [/(?:^|\s)(?:node|tsx)\b[^&|;]*\s--test\b/, 'node:test'],
];
const CONFIG_FILES: readonly [RegExp, TestRunner][] = [
  [/^vitest\.config\.[cm]?[jt]s$/, 'vitest'],
  [/^jest\.config\.(?:[cm]?[jt]s|json)$/, 'jest'],
  [/^\.mocharc(?:\.(?:c?js|json|jsonc|ya?ml))?$/, 'mocha'],
  [/^ava\.config\.[cm]?js$/, 'ava'],
];
const PACKAGES: readonly TestRunner[] = ['vitest', 'jest', 'mocha', 'ava'];

/** The suite command of each runner when the repository has no plain `test` script to run instead. */
const RUNNER_SUITE: Record<TestRunner, string[]> = {
  vitest: ['npx', 'vitest', 'run'],
  jest: ['npx', 'jest'],
  mocha: ['npx', 'mocha'],
  'node:test': ['node', '--test'],
  ava: ['npx', 'ava'],
};

async function readManifest(files: RepositoryFiles): Promise<Manifest> {
  try {
    const text = await files.read('package.json');
    return text === undefined ? {} : (JSON.parse(text) as Manifest);
  } catch {
    // An unreadable package.json names nothing; the config files may still say.
    return {};
  }
}

/** The runner a command line (a catalog's test command or a package.json script) starts, if it names one. */
export function runnerOfCommand(command: string): TestRunner | undefined {
  return SCRIPT_WORDS.find(([word]) => word.test(command))?.[1];
}

/**
 * Reads which runner a repository's tests use: the `test` script's command first (following
 * `npm run <script>` one step), then a runner's config file or package.json key, then the one runner
 * among its dependencies. Undefined when nothing names one.
 */
export async function detectTestRunnerIn(files: RepositoryFiles): Promise<DetectedRunner | undefined> {
  return detectWith(await readManifest(files), files);
}

async function detectWith(manifest: Manifest, files: RepositoryFiles): Promise<DetectedRunner | undefined> {
  const script = testScript(manifest);
  if (script !== undefined) {
    const runner = runnerOfCommand(script);
    if (runner !== undefined) return { runner, evidence: `package.json scripts.test runs "${script.trim()}"` };
  }
  let entries: readonly string[] = [];
  try {
    entries = await files.rootEntries();
  } catch {
    // An unreadable folder names nothing.
  }
  for (const [file, runner] of CONFIG_FILES) {
    const found = entries.find((entry) => file.test(entry));
    if (found !== undefined) return { runner, evidence: `${found} in the repository root` };
  }
  for (const key of ['jest', 'mocha', 'ava'] as const) {
    if (manifest[key] !== undefined) return { runner: key, evidence: `a "${key}" key in package.json` };
  }
  const installed = PACKAGES.filter((name) => manifest.devDependencies?.[name] !== undefined || manifest.dependencies?.[name] !== undefined);
  if (installed.length === 1 && installed[0] !== undefined) return { runner: installed[0], evidence: `${installed[0]} among package.json's dependencies` };
  return undefined;
}

/** The `test` script, or the script it runs when it only delegates (`npm run test:unit`). */
function testScript(manifest: Manifest): string | undefined {
  const scripts = manifest.scripts ?? {};
  const script = scripts.test;
  const delegated = script === undefined ? undefined : /^(?:npm|pnpm|yarn)\s+(?:run\s+)?([\w:.-]+)\s*$/.exec(script.trim())?.[1];
  return delegated !== undefined && scripts[delegated] !== undefined ? scripts[delegated] : script;
}

/** Why a repository's tests cannot be driven, phrased as what to change; thrown by `resolveTestSetup`. */
export class UnsupportedRunnerError extends Error {
  override readonly name = 'UnsupportedRunnerError';
}

/**
 * How to run a repository's suite: the catalog's `test` settings where given, the rest read from the
 * repository. A runner named by neither is an `UnsupportedRunnerError` saying what to set; `where` names
 * the repository in that message.
 */
export async function resolveTestSetup(
  configured: { runner?: TestRunner | undefined; command?: readonly string[] | undefined } | undefined,
  files: RepositoryFiles,
  where: string,
): Promise<TestSetup> {
  const command = configured?.command === undefined ? undefined : [...configured.command];
  let runner: TestRunner | undefined = configured?.runner;
  let evidence: string | undefined;
  let manifest: Manifest | undefined;
  if (runner === undefined && command !== undefined) {
    runner = runnerOfCommand(command.join(' '));
    if (runner !== undefined) evidence = `the catalog's test command "${command.join(' ')}"`;
  }
  if (runner === undefined) {
    manifest = await readManifest(files);
    const detected = await detectWith(manifest, files);
    if (detected === undefined) {
      throw new UnsupportedRunnerError(
        `no test runner found in ${where}: package.json's test script names none, and there is no vitest, jest, mocha or ava config file or single runner ` +
          'among its dependencies; set test.runner (vitest, jest, mocha, node:test or ava) and test.command for this service in the catalog',
      );
    }
    runner = detected.runner;
    evidence = detected.evidence;
  }
  if (command !== undefined) return { runner, command, ...(evidence === undefined ? {} : { detectedFrom: evidence }) };
  manifest ??= await readManifest(files);
  const script = testScript(manifest);
  const from = evidence ?? `runner ${runner} from the catalog`;
  // `npm test` runs the suite as its maintainers do, when it starts this runner and needs no shell.
  const plain = [manifest.scripts?.test, script].every((text) => text !== undefined && !SHELL_SYNTAX.test(text));
  if (plain && script !== undefined && runnerOfCommand(script) === runner) return { runner, command: ['npm', 'test'], detectedFrom: `${from}; suite: npm test` };
  return { runner, command: RUNNER_SUITE[runner], detectedFrom: `${from}; suite: ${RUNNER_SUITE[runner].join(' ')}` };
}
