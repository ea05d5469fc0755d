import { posix } from 'node:path';
import { parseContract, RiskScore, type Candidate, type RiskFactorName } from '@tracemend/contracts';

/**
 * Weights of the risk factors; they sum to 1. Each factor's value lies in [0, 1] (1 = riskiest) and
 * contributes `value × weight × 100` points to the 0–100 score.
 */
export const RISK_WEIGHTS: Readonly<Record<RiskFactorName, number>> = {
  'change-size': 0.25,
  'files-touched': 0.1,
  'exported-api': 0.2,
  'fan-out': 0.15,
  coverage: 0.15,
  origin: 0.15,
};

/** Scores below this are `low`. */
export const RISK_MEDIUM_FROM = 30;
/** Scores from this on are `high`. */
export const RISK_HIGH_FROM = 60;

/** Value of a factor whose input is not known: neither rewarded nor punished. */
export const NEUTRAL_RISK_VALUE = 0.5;

const ORIGIN_VALUE = { template: 0.2, llm: 1 } as const;

export interface ScoreRiskInput {
  readonly candidate: Candidate;
  /** Text of each changed file before the patch, by repository-relative path. */
  readonly repoFiles: ReadonlyMap<string, string>;
  /** Repository files importing any changed module (see `countImporters`); unknown when absent. */
  readonly importers?: number;
  /** Share of changed lines the minimal test executed, 0..1; unknown when absent. */
  readonly changedLinesCovered?: number;
}

/** An exported declaration's signature: the lines whose change changes the module's API. */
export interface ExportedSignature {
  readonly name: string;
  readonly startLine: number;
  readonly endLine: number;
}

const EXPORT_DECLARATION =
  /^\s*export\s+(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(function\*?|class|interface|type|enum|const|let|var|namespace)\b\s*([A-Za-z_$][\w$]*)?/;
const EXPORT_LIST = /^\s*export\s*(?:type\s*)?[{*]/;
const MAX_SIGNATURE_LINES = 200;

/**
 * The exported declarations of a module and the line ranges of their signatures: a function's or
 * class's head up to the body's `{`, an interface, enum, namespace or type alias whole, a variable's
 * declaration line up to `=>`, `{` or `;`, and `export { … }` / `export * from` lists.
 * Line-based and approximate by design: it must hold on code that does not compile.
 */
export function findExportedSignatures(text: string): ExportedSignature[] {
  const lines = text.split(/\r?\n/);
  const found: ExportedSignature[] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? '';
    const declaration = EXPORT_DECLARATION.exec(line);
    const list = declaration ? undefined : EXPORT_LIST.exec(line);
    if (!declaration && !list) continue;
    const kind = declaration?.[1] ?? 'list';
    const name = declaration?.[2] ?? (declaration ? 'default' : line.trim().slice(0, 60));
    const end = signatureEnd(lines, index, kind);
    found.push({ name, startLine: index + 1, endLine: end + 1 });
  }
  return found;
}

function signatureEnd(lines: readonly string[], start: number, kind: string): number {
  const whole = kind === 'interface' || kind === 'enum' || kind === 'namespace' || kind === 'type' || kind === 'list';
  let parens = 0;
  let braces = 0;
  let openedBrace = false;
  const last = Math.min(lines.length - 1, start + MAX_SIGNATURE_LINES);
  for (let index = start; index <= last; index++) {
    const line = lines[index] ?? '';
    for (const char of line) {
      if (char === '(') parens++;
      else if (char === ')') parens--;
      else if (char === '{') {
        if (!whole && parens === 0 && (kind === 'function' || kind === 'function*' || kind === 'class')) return index;
        braces++;
        openedBrace = true;
      } else if (char === '}') braces--;
      else if (char === ';' && parens === 0 && braces === 0) return index;
    }
    if (kind === 'const' || kind === 'let' || kind === 'var') {
      if (line.includes('=>') || (parens === 0 && /[{;]\s*$/.test(line)) || (parens === 0 && braces === 0 && line.includes('='))) return index;
    } else if (whole && openedBrace && braces <= 0 && parens <= 0) {
      return index;
    }
  }
  return start;
}

/** Whether an edit changes an exported signature or adds or removes an `export` line, and which. */
export function exportedApiTouched(candidate: Candidate, repoFiles: ReadonlyMap<string, string>): string[] {
  const touched = new Set<string>();
  for (const edit of candidate.editPlan.edits) {
    const text = repoFiles.get(edit.file);
    if (text !== undefined) {
      for (const signature of findExportedSignatures(text)) {
        if (edit.startLine <= signature.endLine && edit.endLine >= signature.startLine) touched.add(`${edit.file}: ${signature.name}`);
      }
    }
    const exportLines = (value: string) => value.split(/\r?\n/).filter((line) => /^\s*export\b/.test(line)).length;
    if (exportLines(edit.before) !== exportLines(edit.after) || (text === undefined && exportLines(edit.before) > 0)) {
      touched.add(`${edit.file}: export lines`);
    }
  }
  return [...touched].sort();
}

const IMPORT_SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;
const SOURCE_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'];

function moduleKey(path: string): string {
  const normalized = posix.normalize(path);
  const withoutExtension = normalized.replace(/\.(?:[cm]?[jt]sx?)$/, '');
  return withoutExtension.endsWith('/index') ? withoutExtension.slice(0, -'/index'.length) : withoutExtension;
}

/** The relative specifiers a module imports, re-exports or requires. */
export function importSpecifiers(text: string): string[] {
  const specifiers: string[] = [];
  for (const match of text.matchAll(IMPORT_SPECIFIER)) {
    const specifier = match[1];
    if (specifier !== undefined && specifier.startsWith('.')) specifiers.push(specifier);
  }
  return specifiers;
}

/**
 * Repository files that import one of `modules` through a relative specifier (`./x`, `../x.js`,
 * `./x.ts`, a directory's index), the modules themselves excluded: the fan-out of a change.
 */
export function findImporters(files: ReadonlyMap<string, string>, modules: readonly string[]): string[] {
  const targets = new Set(modules.map(moduleKey));
  const importers: string[] = [];
  for (const [path, text] of files) {
    if (!SOURCE_EXTENSIONS.some((extension) => path.endsWith(extension)) || targets.has(moduleKey(path))) continue;
    const from = posix.dirname(path);
    if (importSpecifiers(text).some((specifier) => targets.has(moduleKey(posix.join(from, specifier))))) importers.push(path);
  }
  return importers.sort();
}

/** The number of repository files importing one of `modules`. */
export function countImporters(files: ReadonlyMap<string, string>, modules: readonly string[]): number {
  return findImporters(files, modules).length;
}

function factor(name: RiskFactorName, value: number, detail: string) {
  const clamped = Math.min(1, Math.max(0, value));
  const weight = RISK_WEIGHTS[name];
  return { name, value: round(clamped, 4), weight, contribution: round(clamped * weight * 100, 2), detail, raw: clamped * weight * 100 };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/**
 * The 0–100 risk of a candidate and the factors behind it. Pure and deterministic:
 * - change-size: n = lines added + removed, value n / (n + 10) (2 lines ≈ 0.17, 10 = 0.5, 40 = 0.8);
 * - files-touched: f files, value (f − 1) / (f + 3) (one file = 0);
 * - exported-api: 1 when an edit overlaps an exported signature or adds/removes an `export` line, else 0;
 * - fan-out: i importing files, value i / (i + 5); neutral 0.5 when unknown;
 * - coverage: 1 − share of changed lines the minimal test covered; neutral 0.5 when unknown;
 * - origin: template 0.2, llm 1.
 * score = round(Σ value × weight × 100); level low below 30, medium below 60, else high.
 */
export function scoreRisk(input: ScoreRiskInput): RiskScore {
  const { candidate } = input;
  const lines = candidate.size.linesAdded + candidate.size.linesRemoved;
  const files = Math.max(candidate.size.files, new Set(candidate.editPlan.edits.map((edit) => edit.file)).size, 1);
  const exported = exportedApiTouched(candidate, input.repoFiles);
  const factors = [
    factor('change-size', lines / (lines + 10), `${candidate.size.linesAdded} added, ${candidate.size.linesRemoved} removed`),
    factor('files-touched', (files - 1) / (files + 3), `${files} file${files === 1 ? '' : 's'}`),
    factor('exported-api', exported.length > 0 ? 1 : 0, exported.length > 0 ? `touches ${exported.join(', ')}` : 'no exported signature or export line changed'),
    input.importers === undefined
      ? factor('fan-out', NEUTRAL_RISK_VALUE, 'unknown')
      : factor('fan-out', input.importers / (input.importers + 5), `${input.importers} importing file${input.importers === 1 ? '' : 's'}`),
    input.changedLinesCovered === undefined || !Number.isFinite(input.changedLinesCovered)
      ? factor('coverage', NEUTRAL_RISK_VALUE, 'unknown')
      : factor('coverage', 1 - Math.min(1, Math.max(0, input.changedLinesCovered)), `${Math.round(Math.min(1, Math.max(0, input.changedLinesCovered)) * 100)}% of changed lines covered by the minimal test`),
    factor('origin', ORIGIN_VALUE[candidate.origin], candidate.origin === 'template' ? `template ${candidate.template ?? ''}`.trim() : 'llm'),
  ];
  const score = Math.min(100, Math.max(0, Math.round(factors.reduce((sum, item) => sum + item.raw, 0))));
  const level = score < RISK_MEDIUM_FROM ? 'low' : score < RISK_HIGH_FROM ? 'medium' : 'high';
  return parseContract(
    RiskScore,
    { schemaVersion: 1, score, level, factors: factors.map(({ raw: _raw, ...rest }) => rest) },
    'RiskScore',
  );
}
