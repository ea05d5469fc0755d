import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { TracemendError, TestRunner } from '@tracemend/contracts';
import type { ResolvedCommand } from './command';
import { mochaJsonFromStdout, parseJestStyleJson, parseMochaJson, parseTap, type TestOutcome } from './report';

/** A module system: `import` statements (`.mjs`), or `require` calls (`.cjs`). */
export type ModuleSyntax = 'esm' | 'cjs';

/**
 * How a run's tests are read: node:test's or ava's TAP on stdout, a vitest/jest JSON report file, mocha's JSON
 * report as a file or (mocha before 9.2, whose json reporter cannot write a file) on stdout, or none.
 */
export type ReportKind = 'tap' | 'ava-tap' | 'json' | 'mocha-json' | 'mocha-stdout' | 'none';

/** What a finished run left to read its tests from. */
export interface RunOutput {
  readonly stdout: string;
  /** Reads the report file the run wrote (the caller bounds it and never follows a link out of the run's folder). */
  readReport(): Promise<string>;
}

/** Everything tracemend knows about one test runner, in one place. */
export interface RunnerAdapter {
  readonly runner: TestRunner;
  /** The module system every test file of this runner is written in, whatever the package says (vitest transforms tests as ESM). */
  readonly testSyntax?: ModuleSyntax;
  /** The module system of the replay support file a test loads, given the test file's own. */
  supportSyntax(testSyntax: ModuleSyntax): ModuleSyntax;
  /** The folder the replay support file goes in, given the test's, where the runner would load it as a test beside it; else the test's. */
  supportDir?(testDir: string): string;
  /** The statement that gives a test file the function `testBlock` calls, or undefined where the runner makes it a global. */
  itImport(syntax: ModuleSyntax): string | undefined;
  /** The lines of one async test titled `title` running `body` (lines indented two spaces), as this runner writes one. */
  testBlock(title: string, body: readonly string[]): string[];
  /** argv that runs one test file, as a reviewer would type it in the repository. */
  fileCommand(path: string, typescript: boolean): string[];
  /**
   * The resolved command with the runner's machine-readable reporter added (the repository's own reporter
   * options removed), or undefined when the command does not start this runner directly.
   */
  withReporter(command: ResolvedCommand, reportFile: string, depsDir: string): Promise<{ command: ResolvedCommand; report: ReportKind } | undefined>;
}

/** An `it(title, async () => { … })` test, as vitest, jest, mocha and node:test write one. */
function itBlock(title: string, body: readonly string[]): string[] {
  return [`it(${JSON.stringify(title)}, async () => {`, ...body, `});`];
}

const NODE_TEST_REPORTER = /^--test-reporter(?:-destination)?(?:=|$)/;
const MOCHA_REPORTER_FLAG = /^(?:--reporter|-R|--reporter-options?|-O)(?:=|$)/;
// ava's reporter choices are switches without a value; --tap replaces them.
const AVA_REPORTER_SWITCH = /^(?:--tap|-t|--verbose|-v|--watch|-w)$/;

/** `argv` without the flags `matches` names, each with its value when it is written as a separate word. */
function withoutFlags(argv: readonly string[], matches: RegExp): string[] {
  const kept: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const word = argv[index] ?? '';
    if (matches.test(word)) {
      if (!word.includes('=')) index++;
      continue;
    }
    kept.push(word);
  }
  return kept;
}

/** Major and minor version of an installed package, [0, 0] when unknown. */
async function packageVersion(depsDir: string, name: string): Promise<[number, number]> {
  try {
    const manifest = JSON.parse(await readFile(join(depsDir, name, 'package.json'), 'utf8')) as { version?: string };
    const [major = 0, minor = 0] = (manifest.version ?? '').split('.').map((part) => Number.parseInt(part, 10) || 0);
    return [major, minor];
  } catch {
    return [0, 0];
  }
}

const vitest: RunnerAdapter = {
  runner: 'vitest',
  testSyntax: 'esm',
  supportSyntax: () => 'esm',
  itImport: () => `import { it } from 'vitest';`,
  testBlock: itBlock,
  fileCommand: (path) => ['npx', 'vitest', 'run', path],
  async withReporter(command, reportFile, depsDir) {
    const entry = command.argv[1] ?? '';
    if (!entry.startsWith('node_modules/vitest/')) return undefined;
    const args = command.argv.slice(2).filter((word) => !/^--reporter(?:=|$)/.test(word) && !/^--outputFile/.test(word));
    const sub = args[0];
    if (sub === 'watch' || sub === 'dev') args[0] = 'run';
    else if (sub !== 'run' && sub !== 'related') args.unshift('run');
    const extra = ['--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`];
    // Vite otherwise bundles the config into node_modules/.vite-temp, which is mounted read-only.
    if ((await packageVersion(depsDir, 'vitest'))[0] >= 3 && !args.some((word) => word.startsWith('--configLoader'))) extra.push('--configLoader=runner');
    return { command: { ...command, argv: ['node', entry, ...args, ...extra] }, report: 'json' };
  },
};

const jest: RunnerAdapter = {
  runner: 'jest',
  // jest's module registry runs CommonJS unless a repository opts into its experimental ESM mode.
  supportSyntax: () => 'cjs',
  itImport: () => undefined,
  testBlock: itBlock,
  fileCommand: (path) => ['npx', 'jest', path],
  withReporter(command, reportFile) {
    if (!(command.argv[1] ?? '').startsWith('node_modules/jest')) return Promise.resolve(undefined);
    return Promise.resolve({ command: { ...command, argv: [...command.argv, '--json', `--outputFile=${reportFile}`] }, report: 'json' as const });
  },
};

const mocha: RunnerAdapter = {
  runner: 'mocha',
  supportSyntax: (syntax) => syntax,
  itImport: () => undefined,
  testBlock: itBlock,
  fileCommand: (path) => ['npx', 'mocha', path],
  async withReporter(command, reportFile, depsDir) {
    const entry = command.argv[1] ?? '';
    if (!entry.startsWith('node_modules/mocha/')) return undefined;
    const args = withoutFlags(command.argv.slice(2), MOCHA_REPORTER_FLAG);
    const [major, minor] = await packageVersion(depsDir, 'mocha');
    // The json reporter's `output` option arrived in mocha 9.2; before it the report goes to stdout.
    if (major > 9 || (major === 9 && minor >= 2)) {
      return { command: { ...command, argv: ['node', entry, ...args, '--reporter', 'json', '--reporter-option', `output=${reportFile}`] }, report: 'mocha-json' };
    }
    return { command: { ...command, argv: ['node', entry, ...args, '--reporter', 'json'] }, report: 'mocha-stdout' };
  },
};

const nodeTest: RunnerAdapter = {
  runner: 'node:test',
  supportSyntax: (syntax) => syntax,
  itImport: (syntax) => (syntax === 'esm' ? `import { it } from 'node:test';` : `const { it } = require('node:test');`),
  testBlock: itBlock,
  fileCommand: (path, typescript) => (typescript ? ['node', '--import', 'tsx', '--test', path] : ['node', '--test', path]),
  withReporter(command) {
    if (!command.argv.includes('--test')) return Promise.resolve(undefined);
    const argv: string[] = [];
    for (const word of withoutFlags(command.argv, NODE_TEST_REPORTER)) {
      argv.push(word);
      // Right after --test, so a wrapper such as tsx's CLI passes the flags on to node's runner.
      if (word === '--test') argv.push('--test-reporter=tap', '--test-reporter-destination=stdout');
    }
    return Promise.resolve({ command: { ...command, argv }, report: 'tap' as const });
  },
};

const ava: RunnerAdapter = {
  runner: 'ava',
  // ava loads each test file as its package's module system, like node:test.
  supportSyntax: (syntax) => syntax,
  // ava takes every script under test/ or __tests__ for a test and fails one without tests; its helper folders it skips.
  supportDir(testDir) {
    const parts = testDir.split('/');
    if (parts.includes('__tests__')) return posix.join(testDir, '__helpers__');
    return parts.includes('test') || parts.includes('tests') ? posix.join(testDir, 'helpers') : testDir;
  },
  itImport: (syntax) => (syntax === 'esm' ? `import test from 'ava';` : `const test = require('ava');`),
  // ava fails a test that ran no assertion, so one that returns without the entry's error passes explicitly.
  testBlock: (title, body) => [`test(${JSON.stringify(title)}, async (t) => {`, ...body, `  t.pass();`, `});`],
  fileCommand: (path) => ['npx', 'ava', path],
  withReporter(command) {
    const entry = command.argv[1] ?? '';
    if (!entry.startsWith('node_modules/ava/')) return Promise.resolve(undefined);
    const args = command.argv.slice(2).filter((word) => !AVA_REPORTER_SWITCH.test(word));
    return Promise.resolve({ command: { ...command, argv: ['node', entry, ...args, '--tap'] }, report: 'ava-tap' as const });
  },
};

const ADAPTERS: Readonly<Record<TestRunner, RunnerAdapter>> = { vitest, jest, mocha, 'node:test': nodeTest, ava };

/** The runners tracemend can write, run and read tests for. */
export const SUPPORTED_RUNNERS: readonly TestRunner[] = TestRunner.options;

/** The adapter of `runner`; an unknown runner is INVALID_INPUT naming the supported ones. */
export function runnerAdapter(runner: string): RunnerAdapter {
  const adapter = (ADAPTERS as Record<string, RunnerAdapter | undefined>)[runner];
  if (adapter === undefined) {
    throw new TracemendError('INVALID_INPUT', `tracemend has no adapter for the test runner "${runner}"; supported: ${SUPPORTED_RUNNERS.join(', ')}. Set the catalog's test.runner to one of them.`, {
      details: { runner },
    });
  }
  return adapter;
}

/**
 * Adds `runner`'s machine-readable reporter to a resolved command: TAP on stdout for node:test and ava, a JSON
 * report file (relative to the working directory) for vitest, jest and mocha; `report: 'none'` when the
 * command does not start the runner directly (a wrapper script), so only its exit code can be judged.
 */
export async function withReporter(
  command: ResolvedCommand,
  runner: TestRunner,
  reportFile: string,
  depsDir: string,
): Promise<{ command: ResolvedCommand; report: ReportKind }> {
  return (await runnerAdapter(runner).withReporter({ ...command, argv: [...command.argv] }, reportFile, depsDir)) ?? { command, report: 'none' };
}

/** The tests a run reported, read the way `withReporter` arranged; undefined when it gave no per-test report. */
export async function readReportedTests(report: ReportKind, output: RunOutput): Promise<TestOutcome[] | undefined> {
  switch (report) {
    case 'tap':
      return parseTap(output.stdout);
    case 'ava-tap':
      // ava names a test `<file> › <title>` only when several files ran, so the suite at base (without the
      // regression test) and after the patch (with it) would name the same test differently: keep the title.
      return parseTap(output.stdout).map((test) => ({ ...test, name: test.name.split(' › ').at(-1) ?? test.name }));
    case 'json':
      return parseJestStyleJson(await output.readReport());
    case 'mocha-json':
      return parseMochaJson(await output.readReport());
    case 'mocha-stdout': {
      // No report when mocha stopped before its reporter ran (a syntax error): the output says why.
      const json = mochaJsonFromStdout(output.stdout);
      return json === undefined ? undefined : parseMochaJson(json);
    }
    case 'none':
      return undefined;
  }
}
