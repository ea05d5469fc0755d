import { readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { TestRunner } from '@tracemend/contracts';
import { readTextInside } from '@tracemend/process';
import { runnerAdapter, type ModuleSyntax } from './adapters';
import { detectFormatter, type Formatter } from './formatter';

/** How a repository writes its tests, read from the tests it already has (else from its manifest). */
export interface TestConventions {
  /** Folder of the new test, repo-relative (`test`, `__tests__`, `src/__tests__`). */
  readonly dir: string;
  /** What precedes the extension in test names: `.test`, `.spec`, or nothing (`test/orders.js`). */
  readonly suffix: '.test' | '.spec' | '';
  /** The extension of the new test (`.ts`, `.js`, `.mjs`, `.cjs`, `.mts`, `.cts`). */
  readonly extension: string;
  readonly typescript: boolean;
  /** The test's own syntax: `import` statements, or `require` calls. */
  readonly syntax: ModuleSyntax;
  /** The replay support file's module system: `.mjs` imported, or `.cjs` required (jest's module registry runs CommonJS). */
  readonly support: ModuleSyntax;
  /** How relative imports of source files are written: with the file's own extension, `.js` for a `.ts` file, or none. */
  readonly specifiers: 'source' | 'js' | 'none';
  /** The repository's formatter, when its configuration can be read as data (`detectFormatter`). */
  readonly formatter?: Formatter;
  /** Where each convention was read from, for the PR and the logs. */
  readonly evidence: string;
}

const TEST_FILE = /(?:^|\/)[^/]+\.(test|spec)\.([cm]?[jt]sx?)$/;
const TEST_DIRS = new Set(['test', 'tests', '__tests__', 'spec']);
const SCRIPT = /\.([cm]?[jt]sx?)$/;
const RELATIVE_SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
const MAX_FILES = 5_000;
const MAX_TEST_FILES_READ = 20;

interface Manifest {
  type?: string;
  prettier?: unknown;
  dependencies?: Record<string, unknown>;
  devDependencies?: Record<string, unknown>;
}

async function readJson<T>(repoDir: string, file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readTextInside(repoDir, file, { maxBytes: 1024 * 1024 })) as T;
  } catch {
    return undefined;
  }
}

/** Repository files (not node_modules, not dot folders), repo-relative, bounded. */
async function listFiles(repoDir: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(join(repoDir, relative), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (files.length >= MAX_FILES) return;
      if (entry.name.startsWith('.') || entry.name === 'node_modules' || entry.name === 'dist' || entry.name === 'coverage') continue;
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push(path);
    }
  };
  await walk('');
  return files;
}

/** Whether a repo-relative path is one of the repository's own tests (tracemend's emitted ones are not counted). */
export function isTestFile(path: string): boolean {
  if (path.endsWith('.d.ts') || path.includes('tracemend-')) return false;
  if (TEST_FILE.test(path)) return true;
  const parts = path.split('/');
  return SCRIPT.test(path) && parts.slice(0, -1).some((part) => TEST_DIRS.has(part)) && !/(?:^|\/)(?:fixtures?|helpers?|support|utils?)\//.test(path);
}

function mostCommon<T>(values: readonly T[]): T | undefined {
  const counts = new Map<T, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  let best: T | undefined;
  let bestCount = 0;
  for (const [value, count] of counts) {
    if (count > bestCount) {
      best = value;
      bestCount = count;
    }
  }
  return best;
}

function extensionOf(path: string): string {
  return `.${SCRIPT.exec(path)?.[1] ?? 'js'}`;
}

/** How one relative specifier written in `from` names a file that exists: its own extension, `.js` for `.ts`, or none. */
function specifierStyle(from: string, specifier: string, files: ReadonlySet<string>): TestConventions['specifiers'] | undefined {
  const target = posix.normalize(posix.join(posix.dirname(from), specifier));
  if (files.has(target) && SCRIPT.test(target)) return 'source';
  const js = /^(.*)\.([cm]?)js$/.exec(target);
  if (js && [`${js[1]}.${js[2]}ts`, `${js[1]}.tsx`].some((file) => files.has(file))) return 'js';
  if (!SCRIPT.test(target) && ['.ts', '.js', '.tsx', '.jsx', '.mjs', '.cjs', '.mts', '.cts', '/index.ts', '/index.js'].some((extension) => files.has(`${target}${extension}`))) return 'none';
  return undefined;
}

async function tsconfigSpecifiers(repoDir: string): Promise<TestConventions['specifiers'] | undefined> {
  let text: string;
  try {
    text = await readTextInside(repoDir, 'tsconfig.json', { maxBytes: 256 * 1024 });
  } catch {
    return undefined;
  }
  if (/"allowImportingTsExtensions"\s*:\s*true/.test(text)) return 'source';
  if (/"module(?:Resolution)?"\s*:\s*"node(?:16|next)"/i.test(text)) return 'js';
  return 'none';
}

/**
 * Reads how the repository writes its tests: the folder and name pattern most of its test files use,
 * their language and module syntax, and how they write relative imports; for a repository without
 * tests, from its manifest (`type`), its tsconfig and the language of the entry module.
 */
export async function detectTestConventions(repoDir: string, runner: TestRunner, entryModule: string): Promise<TestConventions> {
  const files = await listFiles(repoDir);
  const fileSet = new Set(files);
  const tests = files.filter(isTestFile);
  const manifest = (await readJson<Manifest>(repoDir, 'package.json')) ?? {};
  const packageEsm = manifest.type === 'module';
  const notes: string[] = [];

  let dir: string;
  let suffix: TestConventions['suffix'];
  let extension: string;
  // Files named *.test.* or *.spec.* say the pattern when there are any; a folder's other files may be its helpers.
  const named = tests.filter((path) => TEST_FILE.test(path));
  const patterned = named.length > 0 ? named : tests;
  if (tests.length > 0) {
    dir = mostCommon(patterned.map((path) => posix.dirname(path))) ?? 'test';
    const inDir = patterned.filter((path) => posix.dirname(path) === dir);
    suffix = mostCommon(inDir.map((path): TestConventions['suffix'] => (TEST_FILE.exec(path)?.[1] === 'spec' ? '.spec' : TEST_FILE.test(path) ? '.test' : ''))) ?? '.test';
    extension = mostCommon(inDir.map(extensionOf)) ?? '.js';
    notes.push(`${tests.length} existing test file${tests.length === 1 ? '' : 's'}, most in ${dir}/ named *${suffix}${extension}`);
  } else {
    dir = 'test';
    suffix = '.test';
    extension = /\.[cm]?tsx?$/.test(entryModule) || fileSet.has('tsconfig.json') ? '.ts' : '.js';
    notes.push(`no existing tests: ${dir}/*${suffix}${extension} from the entry module's language`);
  }
  const typescript = /\.[cm]?tsx?$/.test(extension);
  const adapter = runnerAdapter(runner);
  // The module system the test runs as: the extension's, else the package's.
  const runtime: ModuleSyntax = extension === '.mjs' || extension === '.mts' || (packageEsm && extension !== '.cts' && extension !== '.cjs') ? 'esm' : 'cjs';
  // TypeScript test files are written with import statements; the compiler or transform makes them what the package needs.
  const syntax: ModuleSyntax = adapter.testSyntax ?? (typescript ? 'esm' : runtime);
  const support = adapter.supportSyntax(runtime);

  const styles: TestConventions['specifiers'][] = [];
  for (const test of tests.slice(0, MAX_TEST_FILES_READ)) {
    let text: string;
    try {
      text = await readTextInside(repoDir, test, { maxBytes: 512 * 1024 });
    } catch {
      continue;
    }
    for (const match of text.matchAll(RELATIVE_SPECIFIER)) {
      const style = specifierStyle(test, match[1] ?? '', fileSet);
      if (style !== undefined) styles.push(style);
    }
  }
  let specifiers = mostCommon(styles);
  if (specifiers !== undefined) notes.push(`relative imports written ${specifiers === 'none' ? 'without an extension' : specifiers === 'js' ? 'with .js for .ts files' : "with the file's own extension"}`);
  else {
    specifiers = typescript ? ((await tsconfigSpecifiers(repoDir)) ?? 'none') : syntax === 'esm' ? 'source' : 'none';
    notes.push(`relative imports ${specifiers === 'none' ? 'without an extension' : specifiers === 'js' ? 'with .js for .ts files' : 'with the extension'} (from ${typescript ? 'tsconfig.json' : 'the module syntax'})`);
  }
  const { formatter, note } = await detectFormatter(repoDir, manifest);
  if (note !== undefined) notes.push(note);
  return { dir, suffix, extension, typescript, syntax, support, specifiers, ...(formatter === undefined ? {} : { formatter }), evidence: notes.join('; ') };
}

/** The specifier a test in `testDir` writes to import the repo-relative `module`, in the repository's style. */
export function moduleSpecifier(testDir: string, module: string, style: TestConventions['specifiers']): string {
  let relative = posix.relative(testDir, module);
  if (!relative.startsWith('.')) relative = `./${relative}`;
  if (style === 'source') return relative;
  if (style === 'none') return relative.replace(SCRIPT, '');
  return relative.replace(/\.([cm]?)tsx?$/, '.$1js');
}
