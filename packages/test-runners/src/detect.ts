import { readdir } from 'node:fs/promises';
import type { TestRunner } from '@tracemend/contracts';
import { readTextInside } from '@tracemend/sandbox';

/** The runner a repository's tests use, and what said so. */
export interface DetectedRunner {
  readonly runner: TestRunner | 'ava';
  readonly evidence: string;
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
const SCRIPT_WORDS: readonly [RegExp, DetectedRunner['runner']][] = [
  [/(?:^|[\s/])vitest(?:\s|$)/, 'vitest'],
  [/(?:^|[\s/])jest(?:\s|$)/, 'jest'],
  [/(?:^|[\s/])(?:_?mocha)(?:\s|$)/, 'mocha'],
  [/(?:^|[\s/])ava(?:\s|$)/, 'ava'],
  [/(?:^|\s)(?:node|tsx)\b[^&|;]*\s--test\b/, 'node:test'],
];
const CONFIG_FILES: readonly [RegExp, DetectedRunner['runner']][] = [
  [/^vitest\.config\.[cm]?[jt]s$/, 'vitest'],
  [/^jest\.config\.(?:[cm]?[jt]s|json)$/, 'jest'],
  [/^\.mocharc(?:\.(?:c?js|json|jsonc|ya?ml))?$/, 'mocha'],
  [/^ava\.config\.[cm]?js$/, 'ava'],
];
const PACKAGES: readonly DetectedRunner['runner'][] = ['vitest', 'jest', 'mocha', 'ava'];

/**
 * Reads which runner a repository's tests use: the `test` script's command first (following
 * `npm run <script>` one step), then a runner's config file or package.json key, then the one runner
 * among its dependencies. Undefined when nothing names one; ava is reported though tracemend has no
 * adapter for it, so the caller can say so.
 */
export async function detectTestRunner(repoDir: string): Promise<DetectedRunner | undefined> {
  let manifest: Manifest = {};
  try {
    manifest = JSON.parse(await readTextInside(repoDir, 'package.json', { maxBytes: 1024 * 1024 })) as Manifest;
  } catch {
    // No package.json: only config files can say.
  }
  const scripts = manifest.scripts ?? {};
  let script = scripts.test;
  const delegated = script === undefined ? undefined : /^(?:npm|pnpm|yarn)\s+(?:run\s+)?([\w:.-]+)\s*$/.exec(script.trim())?.[1];
  if (delegated !== undefined && scripts[delegated] !== undefined) script = scripts[delegated];
  if (script !== undefined) {
    for (const [word, runner] of SCRIPT_WORDS) if (word.test(script)) return { runner, evidence: `package.json scripts.test runs "${script.trim()}"` };
  }
  let entries: string[] = [];
  try {
    entries = await readdir(repoDir);
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
