import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TracemendError } from '@tracemend/contracts';
import { readReportedTests, withReporter } from './adapters';
import { expandGlob, resolveBin, resolveTestCommand, splitScript } from './command';

let root: string;
let repoDir: string;
let depsDir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tracemend-verifier-command-'));
  repoDir = join(root, 'repo');
  depsDir = join(root, 'deps');
  await mkdir(join(repoDir, 'test', 'unit'), { recursive: true });
  for (const file of ['test/b.test.ts', 'test/a.test.ts', 'test/helpers.ts', 'test/unit/c.test.ts', 'test/.hidden.test.ts']) await writeFile(join(repoDir, file), '');
  await writeFile(
    join(repoDir, 'package.json'),
    JSON.stringify({
      scripts: {
        test: 'node --import tsx --test test/*.test.ts',
        'test:unit': 'vitest run --dir test/unit',
        'test:ci': 'CI=true TZ=UTC npm run test:unit',
        chained: 'tsc && vitest run',
        quoted: "node --test --test-name-pattern='top users' test/a.test.ts",
      },
    }),
  );
  await mkdir(join(depsDir, '.bin'), { recursive: true });
  await mkdir(join(depsDir, 'vitest'), { recursive: true });
  await writeFile(join(depsDir, 'vitest', 'package.json'), JSON.stringify({ name: 'vitest', version: '4.1.12', bin: { vitest: 'vitest.mjs' } }));
  await symlink('../vitest/vitest.mjs', join(depsDir, '.bin', 'vitest'));
  await mkdir(join(depsDir, 'tsx', 'dist'), { recursive: true });
  await writeFile(join(depsDir, 'tsx', 'package.json'), JSON.stringify({ name: 'tsx', version: '4.23.15', bin: './dist/cli.mjs' }));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('resolveTestCommand', () => {
  const resolve = (command: string[]) => resolveTestCommand(command, { repoDir, depsDir });

  it('runs npx bins through their installed entry with node', async () => {
    expect(await resolve(['npx', 'vitest', 'run'])).toEqual({ argv: ['node', 'node_modules/vitest/vitest.mjs', 'run'], env: {} });
    expect(await resolve(['npx', '--no-install', 'vitest', 'run', 'test/a.test.ts'])).toEqual({
      argv: ['node', 'node_modules/vitest/vitest.mjs', 'run', 'test/a.test.ts'],
      env: {},
    });
  });

  it('falls back to the package bin field when .bin has no link', async () => {
    expect(await resolve(['tsx', '--test', 'test/a.test.ts'])).toEqual({ argv: ['node', 'node_modules/tsx/dist/cli.mjs', '--test', 'test/a.test.ts'], env: {} });
  });

  it('expands npm test into its script and the script glob like sh, skipping hidden files', async () => {
    expect(await resolve(['npm', 'test'])).toEqual({
      argv: ['node', '--import', 'tsx', '--test', 'test/a.test.ts', 'test/b.test.ts'],
      env: {},
    });
  });

  it('follows npm run and pnpm scripts, keeps extra args after --, and collects variable assignments', async () => {
    expect(await resolve(['npm', 'run', 'test:ci', '--', '--bail=1'])).toEqual({
      argv: ['node', 'node_modules/vitest/vitest.mjs', 'run', '--dir', 'test/unit', '--bail=1'],
      env: { CI: 'true', TZ: 'UTC' },
    });
    expect(await resolve(['pnpm', 'test:unit'])).toEqual({ argv: ['node', 'node_modules/vitest/vitest.mjs', 'run', '--dir', 'test/unit'], env: {} });
    expect(await resolve(['pnpm', 'exec', 'vitest'])).toEqual({ argv: ['node', 'node_modules/vitest/vitest.mjs'], env: {} });
  });

  it('keeps quoted words together', async () => {
    expect((await resolve(['npm', 'run', 'quoted'])).argv).toEqual(['node', '--test', '--test-name-pattern=top users', 'test/a.test.ts']);
  });

  it('refuses shell syntax, bins that are not installed and missing scripts', async () => {
    await expect(resolve(['npm', 'run', 'chained'])).rejects.toThrow(/shell syntax \(&\)/);
    await expect(resolve(['npx', 'jest'])).rejects.toThrow(/jest is not an installed dependency/);
    await expect(resolve(['npm', 'run', 'lint'])).rejects.toThrow(TracemendError);
  });
});

describe('expandGlob', () => {
  it('matches * within a segment and ** across directories, and leaves unmatched patterns as they are', async () => {
    expect(await expandGlob(repoDir, 'test/*.test.ts')).toEqual(['test/a.test.ts', 'test/b.test.ts']);
    expect(await expandGlob(repoDir, 'test/**/*.test.ts')).toEqual(['test/a.test.ts', 'test/b.test.ts', 'test/unit/c.test.ts']);
    expect(await expandGlob(repoDir, 'spec/*.ts')).toEqual(['spec/*.ts']);
    expect(await expandGlob(repoDir, '--test-name-pattern=*')).toEqual(['--test-name-pattern=*']);
  });
});

describe('resolveBin and splitScript', () => {
  it('refuses names that climb out of node_modules', async () => {
    expect(await resolveBin(depsDir, '../etc/passwd')).toBeUndefined();
  });

  it('splits on whitespace outside quotes', () => {
    expect(splitScript(`vitest run  "a b" 'c'`)).toEqual(['vitest', 'run', 'a b', 'c']);
    expect(() => splitScript('vitest "open')).toThrow(/unterminated quote/);
  });
});

describe('withReporter', () => {
  it('puts the TAP reporter right after --test for node:test and drops the repo reporter', async () => {
    const { command, report } = await withReporter(
      { argv: ['node', '--import', 'tsx', '--test', '--test-reporter', 'spec', 'test/a.test.ts'], env: {} },
      'node:test',
      '.report.json',
      depsDir,
    );
    expect(report).toBe('tap');
    expect(command.argv).toEqual(['node', '--import', 'tsx', '--test', '--test-reporter=tap', '--test-reporter-destination=stdout', 'test/a.test.ts']);
  });

  it('gives vitest a JSON report file, run mode and the runner config loader', async () => {
    const { command, report } = await withReporter({ argv: ['node', 'node_modules/vitest/vitest.mjs', '--reporter=dot', 'test/a.test.ts'], env: { A: '1' } }, 'vitest', '.r.json', depsDir);
    expect(report).toBe('json');
    expect(command).toEqual({
      argv: ['node', 'node_modules/vitest/vitest.mjs', 'run', 'test/a.test.ts', '--reporter=default', '--reporter=json', '--outputFile.json=.r.json', '--configLoader=runner'],
      env: { A: '1' },
    });
  });

  it('gives mocha its json reporter writing a file, replacing the repository\'s reporter and its options', async () => {
    const mochaDeps = join(root, 'mocha-12');
    await mkdir(join(mochaDeps, 'mocha'), { recursive: true });
    await writeFile(join(mochaDeps, 'mocha', 'package.json'), JSON.stringify({ name: 'mocha', version: '12.0.3' }));
    const resolved = { argv: ['node', 'node_modules/mocha/bin/mocha.js', '--reporter', 'spec', '-O', 'maxDiffSize=0', '--reporter-option=x=1', '--recursive', 'test'], env: {} };
    expect(await withReporter(resolved, 'mocha', '.r.json', mochaDeps)).toEqual({
      command: { argv: ['node', 'node_modules/mocha/bin/mocha.js', '--recursive', 'test', '--reporter', 'json', '--reporter-option', 'output=.r.json'], env: {} },
      report: 'mocha-json',
    });
  });

  it('reads the json report from stdout for a mocha older than 9.2', async () => {
    const mochaDeps = join(root, 'mocha-9-1');
    await mkdir(join(mochaDeps, 'mocha'), { recursive: true });
    await writeFile(join(mochaDeps, 'mocha', 'package.json'), JSON.stringify({ name: 'mocha', version: '9.1.4' }));
    const resolved = { argv: ['node', 'node_modules/mocha/bin/_mocha', '-R', 'dot', 'test'], env: {} };
    expect(await withReporter(resolved, 'mocha', '.r.json', mochaDeps)).toEqual({
      command: { argv: ['node', 'node_modules/mocha/bin/_mocha', 'test', '--reporter', 'json'], env: {} },
      report: 'mocha-stdout',
    });
  });

  it('gives ava TAP on stdout in place of the repository\'s reporter switches', async () => {
    const resolved = { argv: ['node', 'node_modules/ava/entrypoints/cli.mjs', '--verbose', '-t', '--serial', 'test/a.test.js'], env: { A: '1' } };
    expect(await withReporter(resolved, 'ava', '.r.json', depsDir)).toEqual({
      command: { argv: ['node', 'node_modules/ava/entrypoints/cli.mjs', '--serial', 'test/a.test.js', '--tap'], env: { A: '1' } },
      report: 'ava-tap',
    });
    // One file ran at base, two with the regression test: ava prefixes the file only then; the title stays the name.
    const twoFiles = ['TAP version 13', 'ok 1 - cart › adds up', 'not ok 2 - tracemend-1 › prices the recorded cart', '1..2'].join('\n');
    const oneFile = ['TAP version 13', 'ok 1 - adds up', '1..1'].join('\n');
    const names = async (stdout: string) => ((await readReportedTests('ava-tap', { stdout, readReport: () => Promise.reject(new Error('no file')) })) ?? []).map((test) => test.name);
    expect(await names(twoFiles)).toEqual(['adds up', 'prices the recorded cart']);
    expect(await names(oneFile)).toEqual(['adds up']);
    const wrapped = { argv: ['node', 'scripts/test.js'], env: {} };
    expect(await withReporter(wrapped, 'ava', '.r.json', depsDir)).toEqual({ command: wrapped, report: 'none' });
  });

  it('leaves commands it has no reporter for unchanged', async () => {
    const resolved = { argv: ['node', 'test/run-all.js'], env: {} };
    expect(await withReporter(resolved, 'mocha', '.r.json', depsDir)).toEqual({ command: resolved, report: 'none' });
  });
});
