import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, realpath, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { build, version as esbuildVersion, type Plugin } from 'esbuild';
import { TracemendError } from '@tracemend/contracts';
import type { ReadOnlyMount } from './driver';
import { readTextInside } from '@tracemend/process';

/** Where a prepared JavaScript tree is mounted (read-only) in the sandbox. */
export const PREPARED_JS_ROOT = '/opt/tracemend/prepared';

/** The repository checkout as the sandbox sees it. */
export const CONTAINER_REPO_ROOT = '/work';

/** Bumped whenever the layout or the compile options of a prepared tree change, so old caches are not reused. */
const LAYOUT_VERSION = 1;
const DEFAULT_MAX_FILE_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_FILES = 20_000;
const TYPESCRIPT_SOURCE = /\.(?:[cm]?ts|tsx)$/;
const DECLARATION = /\.d\.[cm]?ts$/;
const SKIPPED = new Set(['.git', 'node_modules']);
/** Extensionless and `.js`-style specifiers that tsx would resolve to a TypeScript file, in its order. */
const EXTENSIONLESS_CANDIDATES = ['.ts', '.tsx', '.mts', '.cts', '/index.ts', '/index.tsx'];
const JS_TO_TS: Readonly<Record<string, readonly string[]>> = { '.js': ['.ts', '.tsx'], '.jsx': ['.tsx'], '.mjs': ['.mts'], '.cjs': ['.cts'] };

type ModuleFormat = 'esm' | 'cjs';

/** A repository's TypeScript compiled once to JavaScript, ready to mount at PREPARED_JS_ROOT. */
export interface PreparedJsTree {
  /** Host directory of the tree; named after the checkout and the digest of its sources. */
  readonly dir: string;
  /** sha256 over the compiled sources, the tsconfig, the package types and the compiler version. */
  readonly digest: string;
  /** Number of TypeScript files compiled. */
  readonly files: number;
  /** Whether this call compiled the tree (false: an earlier one had, and it was reused). */
  readonly built: boolean;
  /** The read-only mount of the tree, for `StartSpec.readOnlyMounts`. */
  readonly mount: ReadOnlyMount;
}

export interface PrepareJsTreeOptions {
  /** The checkout (host path), as mounted at /work. */
  readonly repoDir: string;
  /** Folder that keeps prepared trees; defaults to the checkout's parent, so the tree lives beside it. */
  readonly cacheDir?: string;
  /** Largest TypeScript file compiled; a larger one fails the preparation (SANDBOX_RESOURCE_LIMIT). Defaults to 4 MiB. */
  readonly maxFileBytes?: number;
  /** Most TypeScript files compiled; more fail the preparation (SANDBOX_RESOURCE_LIMIT). Defaults to 20,000. */
  readonly maxFiles?: number;
}

interface SourceFile {
  readonly path: string;
  readonly format: ModuleFormat;
  readonly text: string;
}

interface Walked {
  /** Repo-relative paths of TypeScript sources (declarations excluded). */
  readonly typescript: string[];
  /** Repo-relative paths of package.json files, for each source's module format. */
  readonly manifests: string[];
  /** Repo-relative entries mirrored as links into /work: everything that is not a compiled source. */
  readonly linked: string[];
  /** Repo-relative directories that hold compiled sources somewhere below. */
  readonly directories: string[];
}

/**
 * Walks the checkout without following any link: a link (like every other non-TypeScript entry, and
 * every directory without TypeScript below it) is mirrored, not read, so nothing outside the tree is
 * ever opened on the host.
 */
async function walk(root: string, maxFiles: number): Promise<Walked> {
  const walked: Walked = { typescript: [], manifests: [], linked: [], directories: [] };
  const visit = async (relative: string): Promise<boolean> => {
    const entries = await readdir(relative === '' ? root : join(root, relative), { withFileTypes: true });
    let holdsTypescript = false;
    const linkedHere: string[] = [];
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (relative === '' && SKIPPED.has(entry.name)) continue;
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isFile() && TYPESCRIPT_SOURCE.test(entry.name) && !DECLARATION.test(entry.name)) {
        walked.typescript.push(path);
        if (walked.typescript.length > maxFiles) {
          throw new TracemendError('SANDBOX_RESOURCE_LIMIT', `the repository has more than ${maxFiles} TypeScript files to prepare`, { details: { maxFiles } });
        }
        holdsTypescript = true;
        linkedHere.push(path);
      } else if (entry.isDirectory() && entry.name !== 'node_modules') {
        if (await visit(path)) holdsTypescript = true;
        else linkedHere.push(path);
      } else {
        if (entry.isFile() && entry.name === 'package.json') walked.manifests.push(path);
        linkedHere.push(path);
      }
    }
    if (holdsTypescript) {
      walked.linked.push(...linkedHere);
      if (relative !== '') walked.directories.push(relative);
    }
    return holdsTypescript;
  };
  const holdsTypescript = await visit('');
  if (!holdsTypescript) {
    // A tree without TypeScript still gets its links, so imports of JavaScript resolve the same way.
    const entries = await readdir(root, { withFileTypes: true });
    walked.linked.push(...entries.filter((entry) => !SKIPPED.has(entry.name)).map((entry) => entry.name));
  }
  return walked;
}

/** The module type Node gives a `.ts` file: from its extension, else its nearest package.json in the tree. */
async function formatsOf(root: string, walked: Walked): Promise<(path: string) => ModuleFormat> {
  const types = new Map<string, ModuleFormat>();
  for (const manifest of walked.manifests) {
    let type: unknown;
    try {
      type = (JSON.parse(await readTextInside(root, manifest, { maxBytes: 1024 * 1024 })) as { type?: unknown }).type;
    } catch {
      type = undefined;
    }
    types.set(posix.dirname(manifest), type === 'module' ? 'esm' : 'cjs');
  }
  return (path) => {
    if (path.endsWith('.mts')) return 'esm';
    if (path.endsWith('.cts')) return 'cjs';
    for (let dir = posix.dirname(path); ; dir = posix.dirname(dir)) {
      const type = types.get(dir);
      if (type !== undefined) return type;
      if (dir === '.') return 'cjs';
    }
  };
}

/** The compiled file's name: the source's own name plus `.mjs` or `.cjs`, so Node needs no package.json to load it. */
export function compiledName(path: string, format: ModuleFormat): string {
  return `${path}.${format === 'esm' ? 'mjs' : 'cjs'}`;
}

/**
 * Rewrites a relative specifier that names a TypeScript source (as `./x.ts`, `./x.js` or `./x`, the
 * forms tsx accepts) to the compiled neighbour; every other specifier stays as written and resolves
 * through the mirrored links.
 */
function rewriteSpecifier(specifier: string, importer: string, sources: ReadonlyMap<string, ModuleFormat>): string {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return specifier;
  const target = posix.join(posix.dirname(importer), specifier);
  const candidates = [target];
  const extension = posix.extname(target);
  for (const replacement of JS_TO_TS[extension] ?? []) candidates.push(target.slice(0, -extension.length) + replacement);
  if (extension === '' || !TYPESCRIPT_SOURCE.test(target)) candidates.push(...EXTENSIONLESS_CANDIDATES.map((suffix) => target + suffix));
  for (const candidate of candidates) {
    const format = sources.get(candidate);
    if (format === undefined) continue;
    const relative = posix.relative(posix.dirname(importer), compiledName(candidate, format));
    return relative.startsWith('../') ? relative : `./${relative}`;
  }
  return specifier;
}

function rewritePlugin(importer: string, sources: ReadonlyMap<string, ModuleFormat>): Plugin {
  return {
    name: 'tracemend-prepared-specifiers',
    setup(builder) {
      builder.onResolve({ filter: /.*/ }, (args) => (args.kind === 'entry-point' ? undefined : { path: rewriteSpecifier(args.path, importer, sources), external: true }));
    },
  };
}

/**
 * Compiles one source on its own (imports stay imports), with tsx's options: names kept, Node's
 * target, an inline source map whose source is the original file under /work, so stack traces and V8
 * coverage map back to the TypeScript lines.
 */
async function compile(root: string, file: SourceFile, sources: ReadonlyMap<string, ModuleFormat>, tsconfigRaw: string): Promise<string> {
  const result = await build({
    stdin: { contents: file.text, sourcefile: posix.basename(file.path), loader: file.path.endsWith('.tsx') ? 'tsx' : 'ts', resolveDir: join(root, posix.dirname(file.path)) },
    absWorkingDir: root,
    bundle: true,
    treeShaking: false,
    write: false,
    format: file.format,
    platform: 'node',
    target: 'node20',
    keepNames: true,
    sourcemap: 'inline',
    sourcesContent: false,
    sourceRoot: `file://${CONTAINER_REPO_ROOT}/`,
    tsconfigRaw,
    logLevel: 'silent',
    plugins: [rewritePlugin(file.path, sources)],
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new TracemendError('INTERNAL', `esbuild produced no output for ${file.path}`);
  return output.text;
}

function digestOf(files: readonly SourceFile[], tsconfigRaw: string): string {
  const hash = createHash('sha256').update(JSON.stringify([LAYOUT_VERSION, esbuildVersion, tsconfigRaw]));
  for (const file of files) hash.update(`\0${file.path}\0${file.format}\0`).update(file.text);
  return hash.digest('hex');
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/** Writes the tree into `staging`: compiled sources, plus links to /work for everything else. */
async function writeTree(staging: string, root: string, walked: Walked, files: readonly SourceFile[], tsconfigRaw: string): Promise<void> {
  const sources = new Map(files.map((file) => [file.path, file.format]));
  await mkdir(staging, { recursive: true });
  for (const dir of walked.directories.sort()) await mkdir(join(staging, dir), { recursive: true });
  for (const path of walked.linked) await symlink(posix.join(CONTAINER_REPO_ROOT, path), join(staging, path));
  await symlink(`${CONTAINER_REPO_ROOT}/node_modules`, join(staging, 'node_modules'));
  for (const file of files) {
    try {
      await writeFile(join(staging, compiledName(file.path, file.format)), await compile(root, file, sources, tsconfigRaw), { mode: 0o644 });
    } catch (error) {
      const detail = (error as { errors?: { text: string; location?: { line: number } | null }[] }).errors?.[0];
      const where = detail?.location ? `:${detail.location.line}` : '';
      throw new TracemendError('INVALID_INPUT', `cannot compile ${file.path}${where} to JavaScript: ${detail?.text ?? (error as Error).message}`, { cause: error });
    }
  }
  // The sandbox user reads the tree whatever this process's umask is.
  for (const dir of ['', ...walked.directories]) await chmod(join(staging, dir), 0o755);
  for (const file of files) await chmod(join(staging, compiledName(file.path, file.format)), 0o644);
}

/**
 * Prepares the checkout's TypeScript as plain JavaScript, once per distinct source, so the replay
 * harness runs on `node` without a TypeScript loader (tsx costs a few hundred milliseconds per process,
 * which an exec per candidate pays every time). Each `.ts` file is compiled on its own beside a link to
 * the original, module layout unchanged; every other entry of the checkout is a link into /work, so
 * JSON, JavaScript and assets resolve as before. Nothing of the repository runs: it is only read,
 * without following links (SANDBOX_ESCAPE for one that leaves the tree), and compiled by esbuild.
 *
 * The tree is keyed by a digest of what it was compiled from and made atomically (written beside and
 * renamed into place), so a patched copy of a checkout gets its own tree and concurrent workers share one.
 */
export async function prepareJsTree(options: PrepareJsTreeOptions): Promise<PreparedJsTree> {
  const root = await realpath(options.repoDir);
  const walked = await walk(root, options.maxFiles ?? DEFAULT_MAX_FILES);
  const formatOf = await formatsOf(root, walked);
  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const files: SourceFile[] = [];
  for (const path of walked.typescript) files.push({ path, format: formatOf(path), text: await readTextInside(root, path, { maxBytes }) });
  const tsconfigRaw = (await exists(join(root, 'tsconfig.json'))) ? await readTextInside(root, 'tsconfig.json', { maxBytes: 1024 * 1024 }) : '{}';
  const digest = digestOf(files, tsconfigRaw);
  const dir = join(options.cacheDir ?? dirname(root), `${basename(root)}.prepared-js-${digest.slice(0, 16)}`);
  const tree = (built: boolean): PreparedJsTree => ({ dir, digest, files: files.length, built, mount: { source: dir, target: PREPARED_JS_ROOT, containerLinks: [CONTAINER_REPO_ROOT] } });
  if (await exists(dir)) return tree(false);

  const staging = `${dir}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeTree(staging, root, walked, files, tsconfigRaw);
    await rename(staging, dir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    // Another worker prepared the same sources first; theirs is as good as ours.
    if (!(await exists(dir))) throw error;
    return tree(false);
  }
  return tree(true);
}
