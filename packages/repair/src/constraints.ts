import type { Suspect } from '@tracemend/contracts';
import { Node, Project, SyntaxKind, ts, type SourceFile } from 'ts-morph';
import { countLineChange, type FileTexts } from './edits';
import { regionAtLine, type FunctionRegion } from './regions';
import { diffLineHunks, splitLines, type LineHunk } from './text';

/** The rules of the constrained edit language. */
export type ConstraintRule =
  | 'file-added'
  | 'file-removed'
  | 'test-file-changed'
  | 'outside-suspect-region'
  | 'too-many-lines'
  | 'exported-signature-changed'
  | 'import-added'
  | 'syntax-error';

/** One broken rule, worded so it can be fed back to whoever proposed the edit. */
export interface EditViolation {
  rule: ConstraintRule;
  file: string;
  line?: number;
  message: string;
}

/** Bounds of the edit language. */
export interface EditConstraintOptions {
  /** Most changed lines over all files (per hunk, the larger of removed and added). Default 20. */
  maxChangedLines?: number;
}

/** The default bound on changed lines. */
export const MAX_CHANGED_LINES = 20;

const CODE_FILE = /\.(?:[cm]?[jt]s|[jt]sx)$/;
const TEST_FILE = /(?:^|\/)(?:__tests__|test|tests)\/|[._-](?:test|spec)\.[cm]?[jt]sx?$/;

function normalize(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The text of a function-like node up to its body: modifiers, name, type parameters, parameters, return type. */
function header(node: Node): string {
  const body = Node.isBodyable(node) || Node.isBodied(node) ? node.getBody() : undefined;
  const text = node.getText();
  return normalize(body === undefined ? text : text.slice(0, body.getStart() - node.getStart()));
}

function classSignature(node: Node): string {
  if (!Node.isClassDeclaration(node)) return normalize(node.getText());
  const open = node.getFirstChildByKind(SyntaxKind.OpenBraceToken);
  const parts = [normalize(node.getText().slice(0, (open?.getStart() ?? node.getEnd()) - node.getStart()))];
  for (const member of node.getMembers()) {
    if (Node.isModifierable(member) && member.hasModifier(SyntaxKind.PrivateKeyword)) continue;
    if (member.getFirstChildByKind(SyntaxKind.PrivateIdentifier) !== undefined) continue;
    if (Node.isPropertyDeclaration(member)) {
      const initializer = member.getInitializer();
      const text = member.getText();
      parts.push(normalize(initializer === undefined ? text : text.slice(0, initializer.getStart() - member.getStart())));
    } else if (Node.isFunctionLikeDeclaration(member)) {
      parts.push(header(member));
    } else {
      parts.push(normalize(member.getText()));
    }
  }
  return parts.join(' | ');
}

/** Exported declarations of a file, keyed by kind and name, with the text that forms their signature. */
export function exportedSignatures(sourceFile: SourceFile): Map<string, string> {
  const signatures = new Map<string, string>();
  const listed = new Set<string>();
  for (const statement of sourceFile.getStatements()) {
    if (Node.isExportDeclaration(statement)) {
      signatures.set(`export-list:${normalize(statement.getText())}`, '');
      if (statement.getModuleSpecifier() === undefined) {
        for (const specifier of statement.getNamedExports()) listed.add(specifier.getNameNode().getText());
      }
    } else if (Node.isExportAssignment(statement)) {
      signatures.set('export-assignment', normalize(statement.getText()));
    }
  }
  const seen = new Map<string, number>();
  const add = (key: string, signature: string) => {
    const count = seen.get(key) ?? 0;
    seen.set(key, count + 1);
    signatures.set(`${key}#${count}`, signature);
  };
  for (const statement of sourceFile.getStatements()) {
    const exported = (name: string | undefined) =>
      (Node.isExportable(statement) && (statement.hasExportKeyword() || statement.hasDefaultKeyword())) ||
      (name !== undefined && listed.has(name));
    if (Node.isFunctionDeclaration(statement)) {
      const name = statement.getName();
      if (exported(name)) add(`function:${name ?? 'default'}`, header(statement));
    } else if (Node.isClassDeclaration(statement)) {
      const name = statement.getName();
      if (exported(name)) add(`class:${name ?? 'default'}`, classSignature(statement));
    } else if (
      Node.isInterfaceDeclaration(statement) ||
      Node.isTypeAliasDeclaration(statement) ||
      Node.isEnumDeclaration(statement) ||
      Node.isModuleDeclaration(statement)
    ) {
      const name = statement.getName();
      if (exported(name)) add(`${statement.getKindName()}:${name}`, normalize(statement.getText()));
    } else if (Node.isVariableStatement(statement)) {
      for (const declaration of statement.getDeclarations()) {
        const name = declaration.getName();
        if (!exported(name)) continue;
        const type = declaration.getTypeNode()?.getText();
        const initializer = declaration.getInitializer();
        const fn =
          Node.isArrowFunction(initializer) || Node.isFunctionExpression(initializer) ? ` = ${header(initializer)}` : '';
        add(`variable:${name}`, normalize(`${statement.getDeclarationKind()} ${name}${type === undefined ? '' : `: ${type}`}${fn}`));
      }
    }
  }
  return signatures;
}

/** Import declarations, `require(...)` and `import(...)` targets of a file. */
export function importsOf(sourceFile: SourceFile): Set<string> {
  const imports = new Set<string>();
  for (const statement of sourceFile.getStatements()) {
    if (Node.isImportDeclaration(statement) || Node.isImportEqualsDeclaration(statement)) {
      imports.add(normalize(statement.getText()));
    }
  }
  for (const call of sourceFile.getDescendantsOfKind(SyntaxKind.CallExpression)) {
    const callee = call.getExpression();
    const isRequire = Node.isIdentifier(callee) && callee.getText() === 'require';
    if (!isRequire && callee.getKind() !== SyntaxKind.ImportKeyword) continue;
    const argument = call.getArguments()[0];
    imports.add(`${isRequire ? 'require' : 'import'}(${argument === undefined ? '' : normalize(argument.getText())})`);
  }
  return imports;
}

function syntaxErrors(project: Project, sourceFile: SourceFile): { count: number; line?: number } {
  const diagnostics = project.getProgram().getSyntacticDiagnostics(sourceFile);
  return { count: diagnostics.length, line: diagnostics[0]?.getLineNumber() };
}

function inside(hunk: LineHunk, region: FunctionRegion): boolean {
  if (hunk.aCount === 0) {
    const after = hunk.aStart - 1;
    return region.startLine <= after && after < region.endLine;
  }
  return region.startLine <= hunk.aStart && hunk.aStart + hunk.aCount - 1 <= region.endLine;
}

/** A parse-only project: no library files, no type checking. */
export function createParseProject(): Project {
  return new Project({
    useInMemoryFileSystem: true,
    skipLoadingLibFiles: true,
    compilerOptions: { allowJs: true, jsx: ts.JsxEmit.Preserve, noLib: true, noResolve: true },
  });
}

/**
 * Checks edited files against the edit language: changes only inside the suspects' enclosing functions,
 * at most `maxChangedLines` changed lines, no change to exported signatures, no new imports, no added,
 * removed or test files touched, and no new syntax errors. Returns every violation (empty when allowed).
 */
export function checkEditConstraints(
  original: FileTexts,
  edited: FileTexts,
  suspects: readonly Pick<Suspect, 'file' | 'line'>[],
  options: EditConstraintOptions = {},
): EditViolation[] {
  const maxChangedLines = options.maxChangedLines ?? MAX_CHANGED_LINES;
  const violations: EditViolation[] = [];
  for (const file of edited.keys()) {
    if (!original.has(file)) violations.push({ rule: 'file-added', file, message: `${file} is a new file; edits may only change existing files` });
  }
  for (const file of original.keys()) {
    if (!edited.has(file)) violations.push({ rule: 'file-removed', file, message: `${file} was removed; edits may not delete files` });
  }
  const project = createParseProject();
  let totalChanged = 0;
  const changedFiles = [...edited.keys()].filter((file) => original.has(file) && original.get(file) !== edited.get(file)).sort();
  for (const file of changedFiles) {
    const before = original.get(file) ?? '';
    const after = edited.get(file) ?? '';
    const hunks = diffLineHunks(splitLines(before).lines, splitLines(after).lines);
    totalChanged += countLineChange(hunks).changedLines;
    if (TEST_FILE.test(file)) {
      violations.push({ rule: 'test-file-changed', file, message: `${file} is a test file; repairs may not change tests` });
    }
    const code = CODE_FILE.test(file);
    const beforeFile = code ? project.createSourceFile(`/before/${file}`, before, { overwrite: true }) : undefined;
    const afterFile = code ? project.createSourceFile(`/after/${file}`, after, { overwrite: true }) : undefined;
    const regions = beforeFile === undefined
      ? []
      : suspects
          .filter((suspect) => suspect.file === file)
          .map((suspect) => regionAtLine(beforeFile, file, suspect.line))
          .filter((region): region is FunctionRegion => region !== undefined);
    for (const hunk of hunks) {
      if (!regions.some((region) => inside(hunk, region))) {
        const allowed = regions.map((region) => `${region.name} (lines ${region.startLine}-${region.endLine})`).join(', ');
        violations.push({
          rule: 'outside-suspect-region',
          file,
          line: hunk.aStart,
          message: `${file}:${hunk.aStart} is outside the suspects' functions${allowed === '' ? '' : `; allowed: ${allowed}`}`,
        });
      }
    }
    if (beforeFile === undefined || afterFile === undefined) continue;
    const errorsBefore = syntaxErrors(project, beforeFile);
    const errorsAfter = syntaxErrors(project, afterFile);
    if (errorsAfter.count > errorsBefore.count) {
      violations.push({
        rule: 'syntax-error',
        file,
        ...(errorsAfter.line === undefined ? {} : { line: errorsAfter.line }),
        message: `${file} no longer parses (${errorsAfter.count} syntax error(s))`,
      });
    }
    const signaturesBefore = exportedSignatures(beforeFile);
    const signaturesAfter = exportedSignatures(afterFile);
    for (const key of new Set([...signaturesBefore.keys(), ...signaturesAfter.keys()])) {
      if (signaturesBefore.get(key) !== signaturesAfter.get(key)) {
        const what = key.replace(/#\d+$/, '');
        const change = !signaturesAfter.has(key) ? 'removed' : !signaturesBefore.has(key) ? 'added' : 'changed';
        violations.push({ rule: 'exported-signature-changed', file, message: `exported ${what} ${change} in ${file}` });
      }
    }
    const importsBefore = importsOf(beforeFile);
    for (const entry of importsOf(afterFile)) {
      if (!importsBefore.has(entry)) {
        violations.push({ rule: 'import-added', file, message: `new import in ${file}: ${entry}` });
      }
    }
  }
  if (totalChanged > maxChangedLines) {
    violations.push({
      rule: 'too-many-lines',
      file: changedFiles.join(', '),
      message: `${totalChanged} changed lines; at most ${maxChangedLines} are allowed`,
    });
  }
  return violations;
}
