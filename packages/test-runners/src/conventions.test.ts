import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectTestConventions, moduleSpecifier } from './conventions';

let root: string;
let count = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tracemend-conventions-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function repo(files: Record<string, string>): Promise<string> {
  const dir = join(root, `repo-${++count}`);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

describe('detectTestConventions', () => {
  it('reads a TypeScript repository that imports its .ts files with .js specifiers', async () => {
    const dir = await repo({
      'package.json': '{"type":"module"}',
      'tsconfig.json': '{"compilerOptions":{"module":"NodeNext"}}',
      'src/quotes.ts': 'export const q = 1;',
      'test/quotes.test.ts': "import { q } from '../src/quotes.js';",
      'test/helpers.ts': "export { q } from '../src/quotes.js';",
    });
    expect(await detectTestConventions(dir, 'vitest', 'src/quotes.ts')).toMatchObject({ dir: 'test', suffix: '.test', extension: '.ts', typescript: true, syntax: 'esm', support: 'esm', specifiers: 'js' });
  });

  it('takes the name pattern from named test files, not the helpers beside them', async () => {
    const dir = await repo({
      'package.json': '{}',
      'src/handler.js': '',
      'test/events.js': '',
      'test/fixtures.js': '',
      'test/handler.test.js': "const { createHandler } = require('../src/handler');",
    });
    expect(await detectTestConventions(dir, 'jest', 'src/handler.js')).toMatchObject({ dir: 'test', suffix: '.test', extension: '.js', typescript: false, syntax: 'cjs', support: 'cjs', specifiers: 'none' });
  });

  it('follows __tests__ and *.spec names, and a package of ES modules', async () => {
    const dir = await repo({
      'package.json': '{"type":"module"}',
      'src/a.js': '',
      'src/__tests__/a.spec.js': "import { a } from '../a.js';",
      'src/__tests__/b.spec.js': "import { a } from '../a.js';",
      'test/old.test.js': '',
    });
    expect(await detectTestConventions(dir, 'mocha', 'src/a.js')).toMatchObject({ dir: 'src/__tests__', suffix: '.spec', extension: '.js', syntax: 'esm', support: 'esm', specifiers: 'source' });
  });

  it('without tests, decides from the entry module, the manifest and tsconfig', async () => {
    const ts = await repo({ 'package.json': '{}', 'tsconfig.json': '{"compilerOptions":{"allowImportingTsExtensions":true}}', 'src/a.ts': '' });
    expect(await detectTestConventions(ts, 'node:test', 'src/a.ts')).toMatchObject({ dir: 'test', extension: '.ts', typescript: true, specifiers: 'source' });
    const esm = await repo({ 'package.json': '{"type":"module"}', 'src/a.js': '' });
    expect(await detectTestConventions(esm, 'node:test', 'src/a.js')).toMatchObject({ extension: '.js', syntax: 'esm', support: 'esm', specifiers: 'source' });
    const cjs = await repo({ 'package.json': '{}', 'src/a.js': '' });
    expect(await detectTestConventions(cjs, 'node:test', 'src/a.js')).toMatchObject({ extension: '.js', syntax: 'cjs', support: 'cjs', specifiers: 'none' });
  });
});

describe('moduleSpecifier', () => {
  it('writes a relative import the way the repository does', () => {
    expect(moduleSpecifier('test', 'src/app.ts', 'js')).toBe('../src/app.js');
    expect(moduleSpecifier('test', 'src/app.mts', 'js')).toBe('../src/app.mjs');
    expect(moduleSpecifier('test', 'src/app.ts', 'source')).toBe('../src/app.ts');
    expect(moduleSpecifier('test', 'src/app.js', 'none')).toBe('../src/app');
    expect(moduleSpecifier('src/__tests__', 'src/app.js', 'source')).toBe('../app.js');
    expect(moduleSpecifier('.', 'app.js', 'source')).toBe('./app.js');
  });
});
