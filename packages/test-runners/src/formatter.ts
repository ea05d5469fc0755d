import { format } from 'prettier';
import { parse as parseYaml } from 'yaml';
import { readTextInside } from '@tracemend/process';

/** The repository's formatter, as far as it can be read without running the repository's code. */
export interface Formatter {
  readonly tool: 'prettier';
  /** Options from the repository's configuration (only those that are plain data); empty for prettier's defaults. */
  readonly options: Readonly<Record<string, string | number | boolean>>;
  /** Where they came from, for the PR and the logs. */
  readonly source: string;
}

/** What reading the configuration gave: a formatter to apply, or why there is none. */
export type FormatterReading = { readonly formatter: Formatter; readonly note: string } | { readonly formatter?: undefined; readonly note?: string };

/** Prettier's options that shape JavaScript and TypeScript output; plugins and parsers are not taken from a repository. */
const PRETTIER_OPTIONS = new Set([
  'printWidth', 'tabWidth', 'useTabs', 'semi', 'singleQuote', 'jsxSingleQuote', 'quoteProps', 'trailingComma', 'bracketSpacing',
  'objectWrap', 'bracketSameLine', 'arrowParens', 'endOfLine', 'experimentalTernaries', 'experimentalOperatorPosition', 'singleAttributePerLine',
]);
/** Data configurations, in prettier's own search order after package.json. */
const DATA_CONFIGS = ['.prettierrc', '.prettierrc.json', '.prettierrc.yaml', '.prettierrc.yml', '.prettierrc.json5'];
/** Configurations that are code (or a format read here by no parser): they would have to run to be read. */
const CODE_CONFIGS = ['js', 'ts', 'mjs', 'mts', 'cjs', 'cts'].flatMap((extension) => [`.prettierrc.${extension}`, `prettier.config.${extension}`]).concat('.prettierrc.toml');

interface Manifest {
  prettier?: unknown;
  dependencies?: Record<string, unknown>;
  devDependencies?: Record<string, unknown>;
}

async function readOptional(repoDir: string, file: string): Promise<string | undefined> {
  try {
    return await readTextInside(repoDir, file, { maxBytes: 256 * 1024 });
  } catch {
    return undefined;
  }
}

/** The options of a parsed configuration that prettier applies to scripts, and the keys left out. */
function optionsOf(config: Record<string, unknown>): { options: Record<string, string | number | boolean>; ignored: string[] } {
  const options: Record<string, string | number | boolean> = {};
  const ignored: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (key === '$schema') continue;
    if (PRETTIER_OPTIONS.has(key) && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) options[key] = value;
    else ignored.push(key);
  }
  return { options, ignored };
}

/** `.editorconfig`'s `[*]` section, which prettier reads when its own configuration leaves these out. */
async function editorconfigOptions(repoDir: string): Promise<Record<string, string | number | boolean>> {
  const text = await readOptional(repoDir, '.editorconfig');
  if (text === undefined) return {};
  const options: Record<string, string | number | boolean> = {};
  let inAll = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('[')) inAll = line === '[*]';
    const match = inAll ? /^([a-z_]+)\s*=\s*(\S+)/i.exec(line) : null;
    if (match === null) continue;
    const [, key = '', value = ''] = match;
    if (key === 'indent_style') options.useTabs = value === 'tab';
    else if (key === 'indent_size' && /^\d+$/.test(value)) options.tabWidth = Number(value);
    else if (key === 'max_line_length' && /^\d+$/.test(value)) options.printWidth = Number(value);
    else if (key === 'end_of_line' && ['lf', 'crlf', 'cr'].includes(value)) options.endOfLine = value;
  }
  return options;
}

/**
 * Reads whether and how the repository formats its code with prettier: its configuration from
 * package.json's `prettier` key or a data `.prettierrc*` file at the root (with `.editorconfig`'s `[*]`
 * under it, as prettier does), else prettier's defaults when prettier is a dependency. A configuration
 * that is code (`prettier.config.js`), a shared one named by package, or one that does not parse is not
 * run or guessed: the note says so and nothing is formatted. Overrides and plugins are not applied.
 */
export async function detectFormatter(repoDir: string, manifest: Manifest): Promise<FormatterReading> {
  const usesPrettier = manifest.prettier !== undefined || 'prettier' in (manifest.devDependencies ?? {}) || 'prettier' in (manifest.dependencies ?? {});
  let config: Record<string, unknown> | undefined;
  let source: string | undefined;
  if (typeof manifest.prettier === 'string') return { note: `prettier's configuration is the shared package ${manifest.prettier}, which is not read: the test is not formatted` };
  if (manifest.prettier !== null && typeof manifest.prettier === 'object' && !Array.isArray(manifest.prettier)) {
    config = manifest.prettier as Record<string, unknown>;
    source = 'package.json "prettier"';
  }
  for (const file of DATA_CONFIGS) {
    if (config !== undefined) break;
    const text = await readOptional(repoDir, file);
    if (text === undefined) continue;
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch {
      parsed = undefined;
    }
    // An empty file is prettier's defaults.
    if (parsed === null && text.trim() === '') parsed = {};
    if (typeof parsed === 'string') return { note: `${file} names the shared configuration ${parsed}, which is not read: the test is not formatted` };
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { note: `${file} is not a prettier configuration this can read: the test is not formatted` };
    config = parsed as Record<string, unknown>;
    source = file;
  }
  if (config === undefined) {
    let code: string | undefined;
    for (const file of CODE_CONFIGS) if (code === undefined && (await readOptional(repoDir, file)) !== undefined) code = file;
    if (code !== undefined) return { note: `${code} configures prettier in code, which is not run outside the sandbox: the test is not formatted` };
    if (!usesPrettier) return {};
  }
  const { options, ignored } = optionsOf(config ?? {});
  const merged = { ...(await editorconfigOptions(repoDir)), ...options };
  const from = source ?? "prettier's defaults (a dependency without a configuration)";
  return {
    formatter: { tool: 'prettier', options: merged, source: from },
    note: `formatted with prettier as ${from} says${ignored.length === 0 ? '' : ` (not applied: ${ignored.join(', ')})`}`,
  };
}

/**
 * The files formatted as the repository's prettier configuration says; unchanged without a formatter,
 * or when prettier refuses the configuration's options (`problem` then says why).
 */
export async function formatFiles<F extends { readonly path: string; readonly content: string }>(
  files: readonly F[],
  formatter: Formatter | undefined,
): Promise<{ files: F[]; problem?: string }> {
  if (formatter === undefined) return { files: [...files] };
  try {
    return { files: await Promise.all(files.map(async (file) => ({ ...file, content: await format(file.content, { ...formatter.options, filepath: file.path }) }))) };
  } catch (error) {
    return { files: [...files], problem: `prettier refused ${formatter.source}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` };
  }
}
