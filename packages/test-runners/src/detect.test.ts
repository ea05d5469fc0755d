import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveTestSetup, UnsupportedRunnerError } from './detect';
import { checkoutFiles, detectTestRunner } from './detect-dir';

let root: string;
let count = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tracemend-detect-runner-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function repo(files: Record<string, string | object>): Promise<string> {
  const dir = join(root, `repo-${++count}`);
  await mkdir(dir, { recursive: true });
  for (const [path, content] of Object.entries(files)) await writeFile(join(dir, path), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

describe('detectTestRunner', () => {
  it('reads the test script first, following one npm run step', async () => {
    expect(await detectTestRunner(await repo({ 'package.json': { scripts: { test: 'vitest run' }, devDependencies: { jest: '30.0.0' } } }))).toEqual({
      runner: 'vitest',
      evidence: 'package.json scripts.test runs "vitest run"',
    });
    expect((await detectTestRunner(await repo({ 'package.json': { scripts: { test: 'npm run test:unit', 'test:unit': 'mocha --recursive test' } } })))?.runner).toBe('mocha');
    expect((await detectTestRunner(await repo({ 'package.json': { scripts: { test: 'node --import tsx --test test/*.test.ts' } } })))?.runner).toBe('node:test');
    expect((await detectTestRunner(await repo({ 'package.json': { scripts: { test: 'NODE_ENV=test jest --coverage' } } })))?.runner).toBe('jest');
    expect((await detectTestRunner(await repo({ 'package.json': { scripts: { test: 'ava --verbose' } } })))?.runner).toBe('ava');
  });

  it('names ava by its script, its config file, its package.json key or as the one runner installed', async () => {
    expect(await detectTestRunner(await repo({ 'package.json': { scripts: { test: 'c8 ava' } } }))).toEqual({ runner: 'ava', evidence: 'package.json scripts.test runs "c8 ava"' });
    expect(await detectTestRunner(await repo({ 'package.json': {}, 'ava.config.mjs': 'export default { files: ["test/**/*.test.js"] };\n' }))).toEqual({
      runner: 'ava',
      evidence: 'ava.config.mjs in the repository root',
    });
    expect(await detectTestRunner(await repo({ 'package.json': { ava: { verbose: true } } }))).toEqual({ runner: 'ava', evidence: 'a "ava" key in package.json' });
    expect(await detectTestRunner(await repo({ 'package.json': { devDependencies: { ava: '6.4.1' } } }))).toEqual({ runner: 'ava', evidence: "ava among package.json's dependencies" });
  });

  it('falls back to a config file, a package.json key, then the one runner installed', async () => {
    expect(await detectTestRunner(await repo({ 'package.json': { scripts: { test: 'make test' } }, '.mocharc.yml': 'spec: test/**/*.spec.js\n' }))).toEqual({
      runner: 'mocha',
      evidence: '.mocharc.yml in the repository root',
    });
    expect((await detectTestRunner(await repo({ 'package.json': { jest: { roots: ['<rootDir>/src'] } } })))?.runner).toBe('jest');
    expect(await detectTestRunner(await repo({ 'package.json': { devDependencies: { vitest: '4.1.12', typescript: '5.9.3' } } }))).toEqual({
      runner: 'vitest',
      evidence: "vitest among package.json's dependencies",
    });
  });

  it('names nothing when nothing says, or when two runners are installed and nothing else decides', async () => {
    expect(await detectTestRunner(await repo({ 'package.json': { scripts: { start: 'node server.js' } } }))).toBeUndefined();
    expect(await detectTestRunner(await repo({ 'package.json': { devDependencies: { jest: '30.0.0', mocha: '10.8.2' } } }))).toBeUndefined();
    expect(await detectTestRunner(await repo({}))).toBeUndefined();
  });
});

describe('resolveTestSetup', () => {
  it('runs an ava repository\'s suite with npm test when its script starts ava without a shell, else with npx ava', async () => {
    expect(await resolveTestSetup(undefined, checkoutFiles(await repo({ 'package.json': { scripts: { test: 'ava --verbose' } } })), 'acme/cart@abc')).toEqual({
      runner: 'ava',
      command: ['npm', 'test'],
      detectedFrom: 'package.json scripts.test runs "ava --verbose"; suite: npm test',
    });
    expect(await resolveTestSetup(undefined, checkoutFiles(await repo({ 'package.json': { scripts: { test: 'tsc && ava' } } })), 'acme/cart@abc')).toEqual({
      runner: 'ava',
      command: ['npx', 'ava'],
      detectedFrom: 'package.json scripts.test runs "tsc && ava"; suite: npx ava',
    });
    expect(await resolveTestSetup({ runner: 'ava' }, checkoutFiles(await repo({ 'package.json': {} })), 'acme/cart@abc')).toEqual({
      runner: 'ava',
      command: ['npx', 'ava'],
      detectedFrom: 'runner ava from the catalog; suite: npx ava',
    });
    expect((await resolveTestSetup({ command: ['npx', 'ava', '--serial'] }, checkoutFiles(await repo({ 'package.json': {} })), 'acme/cart@abc')).runner).toBe('ava');
  });

  it('says what to set in the catalog, ava among the runners, when nothing names a runner', async () => {
    const none = resolveTestSetup(undefined, checkoutFiles(await repo({ 'package.json': { scripts: { start: 'node server.js' } } })), 'acme/cart@abc');
    await expect(none).rejects.toBeInstanceOf(UnsupportedRunnerError);
    await expect(none).rejects.toThrow(/^no test runner found in acme\/cart@abc: .*set test\.runner \(vitest, jest, mocha, node:test or ava\) and test\.command/);
  });
});
