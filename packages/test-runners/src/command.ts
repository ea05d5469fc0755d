import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { dirname, join, posix, relative } from 'node:path';
import { TracemendError } from '@tracemend/contracts';
import { readTextInside } from '@tracemend/process';
import { SHELL_SYNTAX } from './script';

/** A command ready for the sandbox: argv starting with `node`, plus variables the script set. */
export interface ResolvedCommand {
  readonly argv: string[];
  readonly env: Record<string, string>;
}

export interface ResolveContext {
  /** Host copy of the repository: package.json scripts and glob expansion are read from here. */
  readonly repoDir: string;
  /** Host dependency directory the sandbox mounts as the copy's node_modules. */
  readonly depsDir: string;
}

const NPX_FLAGS = new Set(['--yes', '-y', '--no', '--no-install', '--offline', '--quiet', '-q', '--prefer-offline']);
const MAX_SCRIPT_DEPTH = 4;

function invalid(message: string, command: readonly string[]): TracemendError {
  return new TracemendError('INVALID_INPUT', message, { details: { command: command.join(' ') } });
}

/** Splits a package.json script into words: quotes group, no other shell syntax is accepted. */
export function splitScript(script: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (const char of script) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else word += char;
      continue;
    }
    if (char === '"' || char === "'") {
      quote = char;
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      if (SHELL_SYNTAX.test(char)) throw invalid(`the script uses shell syntax (${char}), which the sandbox runs without a shell`, [script]);
      word += char;
      inWord = true;
    }
  }
  if (quote !== undefined) throw invalid('the script has an unterminated quote', [script]);
  if (inWord) words.push(word);
  return words;
}

async function readScripts(repoDir: string): Promise<Record<string, string>> {
  try {
    const manifest = JSON.parse(await readTextInside(repoDir, 'package.json')) as { scripts?: Record<string, string> };
    return manifest.scripts ?? {};
  } catch {
    return {};
  }
}

/** `node_modules/<pkg>/<file>` of an installed bin, from the `.bin` link npm made or the package's `bin` field. */
export async function resolveBin(depsDir: string, name: string): Promise<string | undefined> {
  if (!/^[\w.@/-]+$/.test(name) || name.includes('..')) return undefined;
  const link = join(depsDir, '.bin', name);
  try {
    const target = await readlink(link);
    const absolute = join(dirname(link), target);
    return posix.join('node_modules', relative(depsDir, absolute).split('\\').join('/'));
  } catch {
    // Not a symlink (or absent): fall back to the package of the same name.
  }
  try {
    const manifest = JSON.parse(await readFile(join(depsDir, name, 'package.json'), 'utf8')) as { bin?: string | Record<string, string> };
    const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.[name.split('/').at(-1) ?? name];
    return bin === undefined ? undefined : posix.join('node_modules', name, bin);
  } catch {
    return undefined;
  }
}

function globToRegExp(segment: string): RegExp {
  const body = segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

/** A real directory, not a link to one: globs are expanded over a sandbox-written copy and never lead out of it. */
async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Expands a relative glob (`*`, `?`, `**`) against `root` the way sh would: sorted matches, or the
 * pattern itself when nothing matches. Hidden entries and node_modules are not matched by wildcards.
 */
export async function expandGlob(root: string, pattern: string): Promise<string[]> {
  if (!/[*?]/.test(pattern) || pattern.startsWith('/') || pattern.startsWith('-')) return [pattern];
  const segments = pattern.split('/').filter((segment) => segment !== '' && segment !== '.');
  let paths = [''];
  for (const segment of segments) {
    const next: string[] = [];
    for (const base of paths) {
      const dir = join(root, base);
      if (segment === '**') {
        next.push(base, ...(await walkDirectories(root, base)));
      } else if (!/[*?]/.test(segment)) {
        next.push(posix.join(base, segment));
      } else if (await isDirectory(dir)) {
        const matcher = globToRegExp(segment);
        for (const entry of await readdir(dir)) {
          if (!entry.startsWith('.') && entry !== 'node_modules' && matcher.test(entry)) next.push(posix.join(base, entry));
        }
      }
    }
    paths = [...new Set(next)];
  }
  const existing: string[] = [];
  for (const path of paths) {
    try {
      await lstat(join(root, path));
      existing.push(path);
    } catch {
      // A literal segment that does not exist.
    }
  }
  return existing.length === 0 ? [pattern] : existing.sort();
}

async function walkDirectories(root: string, base: string): Promise<string[]> {
  const found: string[] = [];
  let entries: string[];
  try {
    entries = await readdir(join(root, base));
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (entry.startsWith('.') || entry === 'node_modules') continue;
    const path = posix.join(base, entry);
    if (await isDirectory(join(root, path))) found.push(path, ...(await walkDirectories(root, path)));
  }
  return found;
}

/**
 * Turns a repository's test command (`npx vitest run`, `npm test`, `pnpm run test:unit`, `tsx --test …`,
 * `node --import tsx --test test/*.test.ts`) into argv that runs the installed entry with `node`
 * directly: no shell, no npx download, globs expanded against the checkout.
 */
export async function resolveTestCommand(command: readonly string[], context: ResolveContext): Promise<ResolvedCommand> {
  const env: Record<string, string> = {};
  let words = [...command];
  for (let depth = 0; ; depth++) {
    if (depth > MAX_SCRIPT_DEPTH) throw invalid('the test command expands through too many scripts', command);
    while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0] ?? '')) {
      const assignment = words.shift() ?? '';
      const at = assignment.indexOf('=');
      env[assignment.slice(0, at)] = assignment.slice(at + 1);
    }
    const [head, ...rest] = words;
    if (head === undefined) throw invalid('the test command is empty', command);
    if (head === 'node') {
      const expanded: string[] = [];
      for (const word of rest) expanded.push(...(await expandGlob(context.repoDir, word)));
      return { argv: ['node', ...expanded], env };
    }
    if (head === 'npx') {
      const args = [...rest];
      while (args.length > 0 && (NPX_FLAGS.has(args[0] ?? '') || args[0] === '--')) args.shift();
      words = args;
      continue;
    }
    if (head === 'npm' || head === 'pnpm' || head === 'yarn') {
      words = await expandPackageManager(head, rest, context, command);
      continue;
    }
    const bin = await resolveBin(context.depsDir, head);
    if (bin === undefined) {
      throw invalid(`${head} is not an installed dependency of the repository; the sandbox has no network to fetch it`, command);
    }
    words = ['node', bin, ...rest];
  }
}

async function expandPackageManager(tool: string, args: readonly string[], context: ResolveContext, command: readonly string[]): Promise<string[]> {
  const [verb, ...rest] = args;
  if (verb === undefined) throw invalid(`${tool} without a script`, command);
  if (verb === 'exec' || verb === 'x' || verb === 'dlx') {
    const words = [...rest];
    if (words[0] === '--') words.shift();
    return words;
  }
  const scripts = await readScripts(context.repoDir);
  let name: string | undefined;
  let extra: string[];
  if (verb === 'test' || verb === 't') {
    name = 'test';
    extra = [...rest];
  } else if (verb === 'run' || verb === 'run-script') {
    name = rest[0];
    extra = rest.slice(1);
  } else if (tool !== 'npm') {
    // `pnpm <script>` and `yarn <script>` run a script of that name, else a bin.
    if (scripts[verb] === undefined) return [verb, ...rest];
    name = verb;
    extra = [...rest];
  } else {
    throw invalid(`npm ${verb} is not a test command the verifier can run`, command);
  }
  if (name === undefined) throw invalid(`${tool} run without a script name`, command);
  const script = scripts[name];
  if (script === undefined) throw invalid(`package.json has no "${name}" script`, command);
  if (extra[0] === '--') extra.shift();
  return [...splitScript(script), ...extra];
}
