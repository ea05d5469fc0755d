import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check } from 'prettier';
import { detectTestConventions, moduleSpecifier } from './conventions';
import { detectFormatter, formatFiles } from './formatter';

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

/** What the emitter writes before formatting: JSON-quoted keys, double-quoted titles, long lines. */
const EMITTED = [
  "const { replay } = require('./tracemend-replay.cjs');",
  'const incident = {',
  '  "entry": { "kind": "function", "module": "src/handler.js", "export": "handler", "args": [{ "Records": [{ "body": "{\\"amount\\":\\"120.50\\"}" }] }] }',
  '};',
  'it("handler must not throw from ledgerEntry (tracemend 1a2b3c4d)", async () => {',
  "  await replay(incident, { entry: () => require('../src/handler') });",
  '});',
  '',
].join('\n');

describe('detectFormatter', () => {
  it('reads a data .prettierrc, with .editorconfig under it, and leaves out what is not a formatting option', async () => {
    const dir = await repo({
      'package.json': '{"devDependencies":{"prettier":"3.10.2"}}',
      '.prettierrc': 'singleQuote: true\nsemi: false\nprintWidth: 120\nplugins: [prettier-plugin-organize-imports]\n',
      '.editorconfig': 'root = true\n[*]\nindent_style = space\nindent_size = 4\nmax_line_length = 80\n[*.md]\nindent_size = 8\n',
    });
    const reading = await detectFormatter(dir, { devDependencies: { prettier: '3.10.2' } });
    expect(reading.formatter).toEqual({ tool: 'prettier', source: '.prettierrc', options: { useTabs: false, tabWidth: 4, printWidth: 120, singleQuote: true, semi: false } });
    expect(reading.note).toContain('not applied: plugins');
  });

  it("takes package.json's prettier key, and prettier's defaults for a dependency without a configuration", async () => {
    const dir = await repo({ 'package.json': '{}' });
    expect((await detectFormatter(dir, { prettier: { trailingComma: 'none' } })).formatter?.options).toEqual({ trailingComma: 'none' });
    const defaults = (await detectFormatter(dir, { devDependencies: { prettier: '^3' } })).formatter;
    expect(defaults?.options).toEqual({});
    expect(defaults?.source).toContain('defaults');
    expect(await detectFormatter(dir, { devDependencies: { eslint: '^9' } })).toEqual({});
  });

  it('neither runs nor guesses a configuration that is code or a shared package, and says so', async () => {
    const dir = await repo({ 'prettier.config.mjs': 'export default { semi: false };' });
    const code = await detectFormatter(dir, { devDependencies: { prettier: '^3' } });
    expect(code.formatter).toBeUndefined();
    expect(code.note).toContain('prettier.config.mjs configures prettier in code');
    const shared = await detectFormatter(dir, { prettier: '@acme/prettier-config' });
    expect(shared.formatter).toBeUndefined();
    expect(shared.note).toContain('shared package @acme/prettier-config');
  });
});

describe('formatFiles', () => {
  it('formats an emitted test so that prettier --check passes under the repository configuration', async () => {
    const dir = await repo({ 'package.json': '{"type":"commonjs","devDependencies":{"prettier":"3.10.2"}}', '.prettierrc.json': '{"singleQuote": true, "printWidth": 120}', 'test/a.test.js': '' });
    const conventions = await detectTestConventions(dir, 'node:test', 'src/handler.js');
    expect(conventions.evidence).toContain('formatted with prettier as .prettierrc.json says');
    const file = { path: 'test/tracemend-1a2b3c4d.test.js', content: EMITTED };
    const options = { ...conventions.formatter!.options, filepath: file.path };
    expect(await check(file.content, options)).toBe(false);
    const { files, problem } = await formatFiles([file], conventions.formatter);
    expect(problem).toBeUndefined();
    expect(await check(files[0]!.content, options)).toBe(true);
    expect(files[0]!.content).toContain("it('handler must not throw from ledgerEntry (tracemend 1a2b3c4d)'");
    expect(files[0]!.content).toContain('entry: {');
    // Without a formatter nothing changes.
    expect((await formatFiles([file], undefined)).files[0]!.content).toBe(EMITTED);
  });

  it('keeps the files as they are when prettier refuses an option value, and says why', async () => {
    const { files, problem } = await formatFiles([{ path: 'a.js', content: EMITTED }], { tool: 'prettier', options: { trailingComma: 'sometimes' }, source: '.prettierrc' });
    expect(files[0]!.content).toBe(EMITTED);
    expect(problem).toMatch(/^prettier refused \.prettierrc: .*trailingComma/);
  });
});
