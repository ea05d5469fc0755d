import {
  Node,
  SyntaxKind,
  type BindingElement,
  type Expression,
  type ParameterDeclaration,
  type SourceFile,
} from 'ts-morph';
import type { ValueCrash } from './symptom';
import { guardsBefore, nearestToColumn, short, type TemplateProposal } from './templates';

/**
 * Where a value crash can have happened on a line:
 * - `iterated`: an expression iterated by `for…of`, spread, array destructuring, `yield*`, or passed to
 *   a constructor or function that iterates its argument (`Array.from`, `new Set`, `Promise.all` …);
 * - `destructured`: the initializer (or assigned value) of an object pattern;
 * - `pattern`: a parameter or nested binding whose pattern has no default, for a value V8 could only
 *   print as `undefined` (an argument that was not passed, a nested property that is missing).
 */
export type ValueSite =
  | { kind: 'iterated'; value: Expression }
  | { kind: 'destructured'; value: Expression; pattern: Node }
  | { kind: 'pattern'; binding: ParameterDeclaration | BindingElement; pattern: Node };

/** Calls and constructors that iterate their first argument. */
const ITERATING_CALLS = new Set([
  'Array.from',
  'Object.fromEntries',
  'Promise.all',
  'Promise.allSettled',
  'Promise.any',
  'Promise.race',
]);
const ITERATING_CONSTRUCTORS = new Set(['Set', 'Map', 'WeakSet', 'WeakMap']);

/** Source text as V8 prints it in a message: whitespace dropped and call arguments shown as `(...)`. */
export function printed(text: string): string {
  let flat = text.replace(/\s+/g, '');
  for (let previous = ''; previous !== flat; ) {
    previous = flat;
    flat = flat.replace(/\((?:[^()]|\(\.\.\.\))*\)/g, '(...)');
  }
  return flat;
}

/** The expression under TypeScript-only wrappers (`x!`, `x as T`, `<T>x`, `x satisfies T`), which V8 never sees. */
export function bare(node: Node): Node {
  if (
    Node.isNonNullExpression(node) ||
    Node.isAsExpression(node) ||
    Node.isTypeAssertion(node) ||
    Node.isSatisfiesExpression(node) ||
    Node.isParenthesizedExpression(node)
  ) {
    return bare(node.getExpression());
  }
  return node;
}

function iteratedValues(sourceFile: SourceFile): Expression[] {
  const values: Expression[] = [];
  for (const node of sourceFile.getDescendants()) {
    if (Node.isForOfStatement(node)) values.push(node.getExpression());
    else if (Node.isSpreadElement(node)) values.push(node.getExpression());
    else if (Node.isYieldExpression(node) && node.getAsteriskToken() !== undefined) {
      const expression = node.getExpression();
      if (expression !== undefined) values.push(expression);
    } else if (Node.isVariableDeclaration(node) && Node.isArrayBindingPattern(node.getNameNode())) {
      const initializer = node.getInitializer();
      if (initializer !== undefined) values.push(initializer);
    } else if (
      Node.isBinaryExpression(node) &&
      node.getOperatorToken().getKind() === SyntaxKind.EqualsToken &&
      Node.isArrayLiteralExpression(node.getLeft())
    ) {
      values.push(node.getRight());
    } else if (Node.isCallExpression(node) && ITERATING_CALLS.has(node.getExpression().getText())) {
      const [first] = node.getArguments();
      if (first !== undefined && !Node.isSpreadElement(first)) values.push(first as Expression);
    } else if (Node.isNewExpression(node) && ITERATING_CONSTRUCTORS.has(node.getExpression().getText())) {
      const [first] = node.getArguments() ?? [];
      if (first !== undefined && !Node.isSpreadElement(first)) values.push(first as Expression);
    }
  }
  return values;
}

function destructuredValues(sourceFile: SourceFile): { value: Expression; pattern: Node }[] {
  const found: { value: Expression; pattern: Node }[] = [];
  for (const node of sourceFile.getDescendants()) {
    if (Node.isVariableDeclaration(node) && Node.isObjectBindingPattern(node.getNameNode())) {
      const initializer = node.getInitializer();
      if (initializer !== undefined) found.push({ value: initializer, pattern: node.getNameNode() });
    } else if (
      Node.isBinaryExpression(node) &&
      node.getOperatorToken().getKind() === SyntaxKind.EqualsToken &&
      Node.isObjectLiteralExpression(node.getLeft())
    ) {
      found.push({ value: node.getRight(), pattern: node.getLeft() });
    }
  }
  return found;
}

function patternNames(pattern: Node): string[] {
  if (Node.isObjectBindingPattern(pattern)) {
    return pattern.getElements().map((element) => element.getPropertyNameNode()?.getText() ?? element.getName());
  }
  if (Node.isObjectLiteralExpression(pattern)) {
    return pattern.getProperties().flatMap((property) =>
      Node.isPropertyAssignment(property) || Node.isShorthandPropertyAssignment(property) ? [property.getName()] : [],
    );
  }
  return [];
}

/** Object patterns with no default: parameters, and nested bindings (`{ a: { b } }`). */
function defaultlessPatterns(sourceFile: SourceFile, iterable: boolean): { binding: ParameterDeclaration | BindingElement; pattern: Node }[] {
  const wanted = (node: Node) => (iterable ? Node.isArrayBindingPattern(node) : Node.isObjectBindingPattern(node));
  const found: { binding: ParameterDeclaration | BindingElement; pattern: Node }[] = [];
  for (const node of [
    ...sourceFile.getDescendantsOfKind(SyntaxKind.Parameter),
    ...sourceFile.getDescendantsOfKind(SyntaxKind.BindingElement),
  ]) {
    const pattern = node.getNameNode();
    if (wanted(pattern) && node.getInitializer() === undefined && node.getDotDotDotToken() === undefined) {
      found.push({ binding: node, pattern });
    }
  }
  return found;
}

/**
 * The places on `line` that can have produced a value crash: V8's printed expression must match when
 * the message has one; with a column, only the nearest place is kept.
 */
export function findValueSites(sourceFile: SourceFile, line: number, column: number | undefined, crash: ValueCrash): ValueSite[] {
  const onLine = (node: Node) => node.getStartLineNumber() === line;
  const named = (value: Node) => crash.expression === undefined || printed(bare(value).getText()) === printed(crash.expression);
  const sites: ValueSite[] = [];
  if (crash.kind === 'not-iterable') {
    sites.push(...iteratedValues(sourceFile)
      .filter((value) => onLine(value) && named(value))
      .map((value) => ({ kind: 'iterated' as const, value })));
    if (crash.expression === undefined) {
      sites.push(...defaultlessPatterns(sourceFile, true).filter(({ pattern }) => onLine(pattern)).map((site) => ({ kind: 'pattern' as const, ...site })));
    }
  } else {
    const property = crash.property;
    const reads = (pattern: Node) => property === undefined || patternNames(pattern).includes(property);
    sites.push(...destructuredValues(sourceFile)
      .filter(({ value, pattern }) => (onLine(value) || onLine(pattern)) && named(value) && reads(pattern))
      .map((site) => ({ kind: 'destructured' as const, ...site })));
    if (crash.expression === undefined) {
      sites.push(
        ...defaultlessPatterns(sourceFile, false)
          .filter(({ pattern }) => onLine(pattern) && reads(pattern))
          .map((site) => ({ kind: 'pattern' as const, ...site })),
      );
    }
  }
  sites.sort((a, b) => anchor(a).getStart() - anchor(b).getStart());
  return nearestToColumn(sites, sourceFile, column, (site) => anchor(site).getStart());
}

function anchor(site: ValueSite): Node {
  return site.kind === 'pattern' ? site.pattern : site.value;
}

/** `a ?? b` cannot mix with `||`/`&&` unparenthesized, and binds looser than most operators. */
function operand(value: Expression): string {
  const text = value.getText();
  return Node.isIdentifier(value) ||
    Node.isPropertyAccessExpression(value) ||
    Node.isElementAccessExpression(value) ||
    Node.isCallExpression(value) ||
    Node.isParenthesizedExpression(value) ||
    Node.isAwaitExpression(value)
    ? text
    : `(${text})`;
}

/** Parents where `x ?? fallback` reads best in parentheses (spread, call arguments, `yield*`). */
function wrapped(value: Expression, text: string): string {
  const parent = value.getParent();
  return Node.isVariableDeclaration(parent) || Node.isForOfStatement(parent) || Node.isBinaryExpression(parent) ? text : `(${text})`;
}

/** Every template that applies at a value crash site. */
export function proposeValueRepairs(site: ValueSite, crash: ValueCrash, eol: string): TemplateProposal[] {
  const fallback = crash.kind === 'not-iterable' ? '[]' : '{}';
  const what = crash.kind === 'not-iterable' ? 'an empty list' : 'an empty object';
  if (site.kind === 'pattern') {
    const name = site.binding.getNameNode();
    return [
      {
        template: crash.kind === 'not-iterable' ? 'iterable-default' : 'destructure-default',
        rationale: `Defaults \`${short(name.getText())}\` to ${fallback} when the value is missing, so destructuring it reads ${what}.`,
        changes: [{ start: name.getEnd(), end: name.getEnd(), text: ` = ${fallback}` }],
      },
    ];
  }
  const value = site.value;
  const text = value.getText();
  const proposals: TemplateProposal[] = [
    {
      template: crash.kind === 'not-iterable' ? 'iterable-default' : 'destructure-default',
      rationale:
        crash.kind === 'not-iterable'
          ? `Iterates ${what} when \`${short(text)}\` is null or undefined instead of throwing.`
          : `Destructures ${what} when \`${short(text)}\` is null or undefined instead of throwing.`,
      changes: [{ start: value.getStart(), end: value.getEnd(), text: wrapped(value, `${operand(value)} ?? ${fallback}`) }],
    },
  ];
  const reached = crash.kind === 'not-iterable' ? 'the iteration' : 'the destructuring';
  proposals.push(...guardsBefore(value, value, `${text} == null`, 'is null or undefined', reached, eol));
  return proposals;
}
