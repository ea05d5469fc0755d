import {
  Node,
  SyntaxKind,
  TypeFlags,
  VariableDeclarationKind,
  type ElementAccessExpression,
  type Expression,
  type Identifier,
  type PropertyAccessExpression,
  type SourceFile,
  type Type,
} from 'ts-morph';
import type { MemberCrash } from './symptom';

/** The repair templates, in the order they are preferred when everything else ranks equal. */
export const TEMPLATE_NAMES = [
  'init-if-missing',
  'nullish-default',
  'coerce-receiver',
  'array-wrap',
  'array-fallback',
  'iterable-default',
  'destructure-default',
  'clamp-argument',
  'decode-base64-body',
  'replace-all',
  'trunc-not-bitwise',
  'optional-chaining',
  'optional-call',
  'add-await',
  'await-foreach',
  'last-index',
  'guard-return',
  'guard-continue',
] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

/**
 * Templates that fix a bug pattern whose presence is itself evidence (an unawaited promise used as a
 * value, `forEach` with an async callback, a read one past the end). They are tried before any
 * template that only stops the symptom, whatever the suspect's rank: a masking patch that passes the
 * test would otherwise hide the cause.
 */
export const BUG_PATTERN_TEMPLATES: ReadonlySet<TemplateName> = new Set(['add-await', 'await-foreach', 'last-index']);

/** Replace the source text between two offsets. */
export interface TextChange {
  start: number;
  end: number;
  text: string;
}

/** One template applied at one crash site, before validation. */
export interface TemplateProposal {
  template: TemplateName;
  rationale: string;
  changes: TextChange[];
}

/** A property read, write or call site: `a.b` or `a['b']`. */
export type CrashSite = PropertyAccessExpression | ElementAccessExpression;

const ARRAY_MEMBERS = new Set([
  'at', 'concat', 'copyWithin', 'entries', 'every', 'fill', 'filter', 'find', 'findIndex', 'findLast',
  'findLastIndex', 'flat', 'flatMap', 'forEach', 'includes', 'indexOf', 'items', 'join', 'keys', 'lastIndexOf',
  'length', 'map', 'pop', 'push', 'reduce', 'reduceRight', 'reverse', 'shift', 'slice', 'some', 'sort', 'splice',
  'toReversed', 'toSorted', 'toSpliced', 'unshift', 'values', 'with',
]);
const STRING_MEMBERS = new Set([
  'charAt', 'charCodeAt', 'codePointAt', 'endsWith', 'localeCompare', 'match', 'matchAll', 'normalize', 'padEnd',
  'padStart', 'repeat', 'replace', 'replaceAll', 'search', 'split', 'startsWith', 'substring', 'toLocaleLowerCase',
  'toLocaleUpperCase', 'toLowerCase', 'toUpperCase', 'trim', 'trimEnd', 'trimStart',
]);
const ARRAY_RESULT_MEMBERS = new Set([
  'concat', 'filter', 'flat', 'flatMap', 'map', 'reverse', 'slice', 'sort', 'splice', 'toReversed', 'toSorted',
  'toSpliced', 'with',
]);
const STRING_RESULT_MEMBERS = new Set([
  'join', 'padEnd', 'padStart', 'repeat', 'replace', 'replaceAll', 'substring', 'toLowerCase', 'toUpperCase', 'trim',
  'trimEnd', 'trimStart',
]);
const ARRAY_MUTATORS = new Set(['push', 'unshift', 'splice']);
/** Methods only numbers have: `amount.toFixed is not a function` means `amount` came as a string. */
const NUMBER_ONLY_MEMBERS = new Set(['toFixed', 'toPrecision', 'toExponential']);
/** Methods only dates have: `createdAt.toISOString is not a function` means a string or number came. */
const DATE_ONLY_MEMBERS = new Set([
  'getDate', 'getDay', 'getFullYear', 'getHours', 'getMilliseconds', 'getMinutes', 'getMonth', 'getSeconds', 'getTime',
  'getTimezoneOffset', 'getUTCDate', 'getUTCDay', 'getUTCFullYear', 'getUTCHours', 'getUTCMilliseconds',
  'getUTCMinutes', 'getUTCMonth', 'getUTCSeconds', 'toDateString', 'toISOString', 'toLocaleDateString',
  'toLocaleTimeString', 'toTimeString', 'toUTCString',
]);

function stringArgument(access: ElementAccessExpression): string | undefined {
  const argument = access.getArgumentExpression();
  return Node.isStringLiteral(argument) || Node.isNoSubstitutionTemplateLiteral(argument)
    ? argument.getLiteralValue()
    : undefined;
}

function memberName(site: CrashSite): string | undefined {
  return Node.isPropertyAccessExpression(site) ? site.getName() : stringArgument(site);
}

/** The node V8 points its column at: the property name, or the bracketed argument. */
function nameNode(site: CrashSite): Node {
  return Node.isPropertyAccessExpression(site) ? site.getNameNode() : site.getArgumentExpressionOrThrow();
}

function isPlainAssignmentTarget(node: Node): boolean {
  const parent = node.getParent();
  return (
    Node.isBinaryExpression(parent) &&
    parent.getLeft() === node &&
    parent.getOperatorToken().getKind() >= SyntaxKind.FirstAssignment &&
    parent.getOperatorToken().getKind() <= SyntaxKind.LastAssignment
  );
}

function matchesCrash(site: CrashSite, crash: MemberCrash): boolean {
  if (memberName(site) !== crash.property || site.hasQuestionDotToken()) return false;
  const parent = site.getParent();
  switch (crash.kind) {
    case 'not-a-function':
      return Node.isCallExpression(parent) && parent.getExpression() === site;
    case 'nullish-write':
      return isPlainAssignmentTarget(site);
    case 'nullish-read':
      // `a.b = v` sets; compound assignments (`a.b += v`) read first.
      return !(
        isPlainAssignmentTarget(site) &&
        Node.isBinaryExpression(parent) &&
        parent.getOperatorToken().getKind() === SyntaxKind.EqualsToken
      );
  }
}

/**
 * The accesses on `line` that can have produced the crash. The property name must be on the line (that is
 * where V8 points); a chain that merely starts there counts only when nothing names the line. With a
 * column, only the nearest access is kept.
 */
export function findCrashSites(sourceFile: SourceFile, line: number, column: number | undefined, crash: MemberCrash): CrashSite[] {
  const all = [
    ...sourceFile.getDescendantsOfKind(SyntaxKind.PropertyAccessExpression),
    ...sourceFile.getDescendantsOfKind(SyntaxKind.ElementAccessExpression),
  ].filter((site) => matchesCrash(site, crash));
  let sites: CrashSite[] = all.filter((site) => nameNode(site).getStartLineNumber() === line);
  if (sites.length === 0) {
    sites = all.filter((site) => site.getStartLineNumber() <= line && line <= nameNode(site).getStartLineNumber());
  }
  sites.sort((a, b) => a.getStart() - b.getStart());
  return nearestToColumn(sites, sourceFile, column, (site) => nameNode(site).getStart());
}

/**
 * The sites whose V8-reported position (`positionOf`, an offset in the file) is nearest to the stack
 * frame's 1-based column on the crash line; all sites when there is no column.
 */
export function nearestToColumn<T>(sites: T[], sourceFile: SourceFile, column: number | undefined, positionOf: (site: T) => number): T[] {
  if (column === undefined || sites.length <= 1) return sites;
  const distance = (site: T) => Math.abs(sourceFile.getLineAndColumnAtPos(positionOf(site)).column - column);
  const best = Math.min(...sites.map(distance));
  return sites.filter((site) => distance(site) === best);
}

/** Identifiers, `this` and property/literal-index paths over them: evaluating twice has no side effect. */
export function isPurePath(node: Node): boolean {
  if (Node.isIdentifier(node) || node.getKind() === SyntaxKind.ThisKeyword) return true;
  if (Node.isPropertyAccessExpression(node)) return isPurePath(node.getExpression());
  if (Node.isElementAccessExpression(node)) {
    const argument = node.getArgumentExpression();
    return (
      (Node.isStringLiteral(argument) || Node.isNumericLiteral(argument)) && isPurePath(node.getExpression())
    );
  }
  if (Node.isParenthesizedExpression(node) || Node.isNonNullExpression(node)) return isPurePath(node.getExpression());
  return false;
}

function isConstBinding(identifier: Node): boolean | undefined {
  const declarations = identifier.getSymbol()?.getDeclarations() ?? [];
  if (declarations.length === 0) return undefined;
  return declarations.some((declaration) => {
    if (Node.isParameterDeclaration(declaration)) return false;
    if (Node.isVariableDeclaration(declaration)) {
      const list = declaration.getParent();
      return !Node.isVariableDeclarationList(list) || list.getDeclarationKind() === VariableDeclarationKind.Const;
    }
    return true;
  });
}

/** A path `??=` may assign: a non-const variable or a property path without optional links. */
function isAssignablePath(node: Node): boolean {
  if (Node.isIdentifier(node)) return isConstBinding(node) === false;
  if (Node.isPropertyAccessExpression(node)) {
    if (node.hasQuestionDotToken()) return false;
    const inner = node.getExpression();
    return inner.getKind() === SyntaxKind.ThisKeyword || Node.isIdentifier(inner) || isAssignablePropertyPath(inner);
  }
  if (Node.isElementAccessExpression(node)) {
    const argument = node.getArgumentExpression();
    if (node.hasQuestionDotToken() || !(Node.isStringLiteral(argument) || Node.isNumericLiteral(argument))) return false;
    const inner = node.getExpression();
    return inner.getKind() === SyntaxKind.ThisKeyword || Node.isIdentifier(inner) || isAssignablePropertyPath(inner);
  }
  return false;
}

function isAssignablePropertyPath(node: Node): boolean {
  return (Node.isPropertyAccessExpression(node) || Node.isElementAccessExpression(node)) && isAssignablePath(node);
}

/** The identifier a property path starts from (`line` in `line.amount`, `rows[0]!.id`), when it is one. */
export function rootIdentifier(node: Node): Identifier | undefined {
  let current: Node = node;
  while (Node.isPropertyAccessExpression(current) || Node.isElementAccessExpression(current) || Node.isNonNullExpression(current)) {
    current = current.getExpression();
  }
  return Node.isIdentifier(current) ? current : undefined;
}

export function innermostFunction(node: Node): Node | undefined {
  return node.getFirstAncestor((ancestor) => Node.isFunctionLikeDeclaration(ancestor));
}

function hasFlag(type: Type, flag: TypeFlags): boolean {
  return (type.getFlags() & flag) !== 0;
}

function isArrayLike(type: Type): boolean {
  if (type.isArray() || type.isTuple()) return true;
  const name = type.getSymbol()?.getName();
  return name === 'Array' || name === 'ReadonlyArray';
}

function isStringLike(type: Type): boolean {
  return type.isString() || type.isStringLiteral() || type.isTemplateLiteral();
}

function isUntyped(type: Type): boolean {
  return type.isAny() || type.isUnknown() || hasFlag(type, TypeFlags.Never);
}

function parts(type: Type): Type[] {
  return type.isUnion() ? type.getUnionTypes() : [type];
}

/** The fallback for a missing receiver: from its declared type, else from the member used on it. */
function receiverDefault(receiver: Expression, property: string): string {
  const members = parts(receiver.getType().getNonNullableType()).filter((part) => !isUntyped(part));
  if (members.length > 0 && members.every(isArrayLike)) return '[]';
  if (members.length > 0 && members.every(isStringLike)) return "''";
  if (members.length > 0 && members.every((part) => part.isObject())) return '{}';
  if (ARRAY_MEMBERS.has(property)) return '[]';
  if (STRING_MEMBERS.has(property)) return "''";
  return '{}';
}

/** The value a short-circuited chain should stand for when its result is used; undefined when unclear. */
function chainDefault(top: Node, lastMember: string | undefined): string | undefined {
  const type = top.getType();
  const members = parts(type).filter((part) => !isUntyped(part) && !part.isUndefined() && !part.isNull());
  if (members.length > 0) {
    if (members.every(isArrayLike)) return '[]';
    if (members.every(isStringLike)) return "''";
    if (members.every((part) => part.isNumber()) && (lastMember === 'length' || lastMember === 'size')) return '0';
    return undefined;
  }
  if (lastMember === 'length' || lastMember === 'size') return '0';
  if (lastMember !== undefined && ARRAY_RESULT_MEMBERS.has(lastMember)) return '[]';
  if (lastMember !== undefined && STRING_RESULT_MEMBERS.has(lastMember)) return "''";
  return usageDefault(top);
}

/** The kind of value a use of a variable expects: `saved[name]` an object, `rows.map(…)` an array. */
function expectedByUse(reference: Node): string | undefined {
  const parent = reference.getParent();
  if (Node.isElementAccessExpression(parent) && parent.getExpression() === reference) {
    return Node.isNumericLiteral(parent.getArgumentExpression()) ? '[]' : '{}';
  }
  if (Node.isPropertyAccessExpression(parent) && parent.getExpression() === reference) {
    const name = parent.getName();
    if (ARRAY_MEMBERS.has(name) && !STRING_MEMBERS.has(name)) return '[]';
    if (STRING_MEMBERS.has(name)) return "''";
    return name === 'length' ? undefined : '{}';
  }
  if (Node.isForOfStatement(parent) && parent.getExpression() === reference) return '[]';
  if (Node.isSpreadElement(parent) && Node.isArrayLiteralExpression(parent.getParent())) return '[]';
  if (Node.isSpreadAssignment(parent)) return '{}';
  if (Node.isCallExpression(parent) && /^Object\.(?:keys|values|entries)$/.test(parent.getExpression().getText())) return '{}';
  return undefined;
}

/**
 * For an untyped value stored in a `const` (`const saved = row.settings`): the fallback every use of
 * the variable agrees on, or undefined when uses disagree or say nothing.
 */
function usageDefault(top: Node): string | undefined {
  const declaration = top.getParent();
  if (!Node.isVariableDeclaration(declaration) || declaration.getInitializer() !== top) return undefined;
  const name = declaration.getNameNode();
  if (!Node.isIdentifier(name) || isConstBinding(name) !== true) return undefined;
  const fn = innermostFunction(declaration);
  const scope = fn ?? declaration.getSourceFile();
  const symbol = name.getSymbol();
  const kinds = new Set(
    scope
      .getDescendantsOfKind(SyntaxKind.Identifier)
      .filter((identifier) => identifier !== name && identifier.getText() === name.getText() && identifier.getSymbol() === symbol)
      .map(expectedByUse),
  );
  kinds.delete(undefined);
  return kinds.size === 1 ? [...kinds][0] : undefined;
}

function chainTop(site: CrashSite): Node {
  let top: Node = site;
  for (;;) {
    const parent = top.getParent();
    if (
      (Node.isPropertyAccessExpression(parent) ||
        Node.isElementAccessExpression(parent) ||
        Node.isCallExpression(parent) ||
        Node.isNonNullExpression(parent)) &&
      parent.getExpression() === top
    ) {
      top = parent;
    } else {
      return top;
    }
  }
}

function lastMemberOf(top: Node): string | undefined {
  const member = Node.isCallExpression(top) ? top.getExpression() : top;
  if (Node.isPropertyAccessExpression(member)) return member.getName();
  if (Node.isElementAccessExpression(member)) return stringArgument(member);
  return undefined;
}

/** Parents in which `a ?? b` needs no parentheses. */
function needsParentheses(node: Node): boolean {
  const parent = node.getParent();
  if (Node.isReturnStatement(parent) || Node.isParenthesizedExpression(parent) || Node.isArrayLiteralExpression(parent)) {
    return false;
  }
  if (Node.isVariableDeclaration(parent) || Node.isPropertyAssignment(parent)) return parent.getInitializer() !== node;
  if (Node.isArrowFunction(parent)) return false;
  if (Node.isCallExpression(parent)) return parent.getExpression() === node;
  return true;
}

function usedAsCondition(node: Node): boolean {
  const parent = node.getParent();
  if (Node.isIfStatement(parent) || Node.isWhileStatement(parent)) return parent.getExpression() === node;
  if (Node.isConditionalExpression(parent)) return parent.getCondition() === node;
  return Node.isPrefixUnaryExpression(parent) && parent.getOperatorToken() === SyntaxKind.ExclamationToken;
}

export function short(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat;
}

function optionalChaining(site: CrashSite, crash: MemberCrash): TemplateProposal[] {
  if (crash.kind !== 'nullish-read') return [];
  const token = Node.isPropertyAccessExpression(site)
    ? site.getFirstChildByKind(SyntaxKind.DotToken)
    : site.getFirstChildByKind(SyntaxKind.OpenBracketToken);
  if (token === undefined) return [];
  const insert = Node.isPropertyAccessExpression(site) ? '?' : '?.';
  const receiver = short(site.getExpression().getText());
  const top = chainTop(site);
  const parent = top.getParent();
  let proposal: TemplateProposal;
  if (Node.isExpressionStatement(parent) || Node.isVoidExpression(parent) || usedAsCondition(top)) {
    proposal = {
      template: 'optional-chaining',
      rationale: `Skips \`${crash.property}\` when \`${receiver}\` is null or undefined instead of throwing.`,
      changes: [{ start: token.getStart(), end: token.getStart(), text: insert }],
    };
  } else {
    const fallback = chainDefault(top, lastMemberOf(top));
    if (fallback === undefined) return [];
    const topText = top.getText();
    const offset = token.getStart() - top.getStart();
    const chained = `${topText.slice(0, offset)}${insert}${topText.slice(offset)} ?? ${fallback}`;
    proposal = {
      template: 'optional-chaining',
      rationale: `Skips \`${crash.property}\` when \`${receiver}\` is null or undefined and uses ${fallback} for the result.`,
      changes: [{ start: top.getStart(), end: top.getEnd(), text: needsParentheses(top) ? `(${chained})` : chained }],
    };
  }
  const later = laterReads(site, top.getEnd());
  if (later.length === 0) return [proposal];
  return [
    proposal,
    {
      template: 'optional-chaining',
      rationale: `${proposal.rationale} The later reads of \`${receiver}\` in the function skip the same way.`,
      changes: [
        ...proposal.changes,
        ...later.map((read) => ({ start: read.token.getStart(), end: read.token.getStart(), text: read.insert })),
      ],
    },
  ];
}

function isCallee(node: Node): boolean {
  const parent = node.getParent();
  return Node.isCallExpression(parent) && parent.getExpression() === node;
}

/**
 * The member reads of the crash site's receiver after `from` in the same function, when the receiver
 * is a path over a `const` (so each read sees the same missing value): each would crash next.
 */
function laterReads(site: CrashSite, from: number): { token: Node; insert: string }[] {
  const receiver = site.getExpression();
  if (!isPurePath(receiver)) return [];
  const root = rootIdentifier(receiver);
  if (root === undefined || isConstBinding(root) !== true) return [];
  const fn = innermostFunction(site);
  if (fn === undefined) return [];
  const text = receiver.getText();
  return [...fn.getDescendantsOfKind(SyntaxKind.PropertyAccessExpression), ...fn.getDescendantsOfKind(SyntaxKind.ElementAccessExpression)]
    .filter(
      (access) =>
        access.getStart() >= from &&
        !access.hasQuestionDotToken() &&
        access.getExpression().getText() === text &&
        !isPlainAssignmentTarget(access) &&
        !isCallee(access),
    )
    .flatMap((access) => {
      const token = Node.isPropertyAccessExpression(access)
        ? access.getFirstChildByKind(SyntaxKind.DotToken)
        : access.getFirstChildByKind(SyntaxKind.OpenBracketToken);
      return token === undefined ? [] : [{ token, insert: Node.isPropertyAccessExpression(access) ? '?' : '?.' }];
    });
}

function nullishDefault(site: CrashSite, crash: MemberCrash): TemplateProposal | undefined {
  if (crash.kind !== 'nullish-read') return undefined;
  const receiver = site.getExpression();
  if (receiver.getKind() === SyntaxKind.ThisKeyword) return undefined;
  const fallback = receiverDefault(receiver, crash.property);
  return {
    template: 'nullish-default',
    rationale: `Falls back to ${fallback} when \`${short(receiver.getText())}\` is null or undefined, so \`${crash.property}\` no longer throws.`,
    changes: [{ start: receiver.getStart(), end: receiver.getEnd(), text: `(${receiver.getText()} ?? ${fallback})` }],
  };
}

function arrayFallback(site: CrashSite, crash: MemberCrash): TemplateProposal[] {
  if (crash.kind !== 'not-a-function' || !ARRAY_MEMBERS.has(crash.property)) return [];
  const receiver = site.getExpression();
  if (!isPurePath(receiver)) return [];
  const text = receiver.getText();
  return [
    // Not nullish (that would have been "Cannot read properties"), so a single value came where a list
    // was expected, as APIs that collapse a one-element list (XML-backed ones) send it: keep it.
    {
      template: 'array-wrap',
      rationale: `Wraps \`${short(text)}\` in a list when it is a single value rather than an array (an empty list when missing), so \`${crash.property}\` is always an array method and the value is kept.`,
      changes: [
        { start: receiver.getStart(), end: receiver.getEnd(), text: `(Array.isArray(${text}) ? ${text} : ${text} == null ? [] : [${text}])` },
      ],
    },
    {
      template: 'array-fallback',
      rationale: `Uses [] when \`${short(text)}\` is not an array, so \`${crash.property}\` is always an array method.`,
      changes: [{ start: receiver.getStart(), end: receiver.getEnd(), text: `(Array.isArray(${text}) ? ${text} : [])` }],
    },
  ];
}

/** The conversion that gives a value the member it was called for; undefined when the member is ambiguous. */
function coercionFor(property: string): { wrap: (text: string) => string; kind: string } | undefined {
  if (NUMBER_ONLY_MEMBERS.has(property)) return { wrap: (text) => `Number(${text})`, kind: 'number' };
  if (DATE_ONLY_MEMBERS.has(property)) return { wrap: (text) => `new Date(${text})`, kind: 'date' };
  // `includes`, `slice`, `at` … are array methods too: a value without them is not plainly a string.
  if (STRING_MEMBERS.has(property) && !ARRAY_MEMBERS.has(property)) return { wrap: (text) => `String(${text})`, kind: 'string' };
  return undefined;
}

function coerceReceiver(site: CrashSite, crash: MemberCrash): TemplateProposal | undefined {
  if (crash.kind !== 'not-a-function') return undefined;
  const coercion = coercionFor(crash.property);
  const receiver = site.getExpression();
  if (coercion === undefined || receiver.getKind() === SyntaxKind.ThisKeyword) return undefined;
  const text = receiver.getText();
  return {
    template: 'coerce-receiver',
    rationale: `Converts \`${short(text)}\` to a ${coercion.kind} before calling \`${crash.property}\`, which only a ${coercion.kind} has (it arrives as another type).`,
    changes: [{ start: receiver.getStart(), end: receiver.getEnd(), text: coercion.wrap(text) }],
  };
}

function initIfMissing(site: CrashSite, crash: MemberCrash): TemplateProposal | undefined {
  let fallback: string;
  if (crash.kind === 'nullish-read' && ARRAY_MUTATORS.has(crash.property)) fallback = '[]';
  else if (crash.kind === 'nullish-write') fallback = '{}';
  else return undefined;
  const what = fallback === '[]' ? 'array' : 'object';
  const receiver = site.getExpression();
  if (isAssignablePath(receiver)) {
    const text = receiver.getText();
    return {
      template: 'init-if-missing',
      rationale: `Initializes \`${short(text)}\` to ${fallback} when it is missing, so \`${crash.property}\` acts on a real ${what}.`,
      changes: [{ start: receiver.getStart(), end: receiver.getEnd(), text: `(${text} ??= ${fallback})` }],
    };
  }
  // `const xs = a.b; xs.push(v)`: initialize the path the constant was read from.
  if (!Node.isIdentifier(receiver) || isConstBinding(receiver) !== true) return undefined;
  const declaration = receiver.getSymbol()?.getDeclarations()[0];
  if (!Node.isVariableDeclaration(declaration) || !Node.isIdentifier(declaration.getNameNode())) return undefined;
  const initializer = declaration.getInitializer();
  if (initializer === undefined || !isAssignablePropertyPath(initializer)) return undefined;
  if (innermostFunction(declaration) !== innermostFunction(site)) return undefined;
  const text = initializer.getText();
  return {
    template: 'init-if-missing',
    rationale: `Initializes \`${short(text)}\` to ${fallback} where \`${receiver.getText()}\` is read from it, so \`${crash.property}\` acts on a real ${what}.`,
    changes: [{ start: initializer.getStart(), end: initializer.getEnd(), text: `(${text} ??= ${fallback})` }],
  };
}

function unwrapPromise(type: Type): Type | undefined {
  if (type.getSymbol()?.getName() !== 'Promise') return undefined;
  return type.getTypeArguments()[0];
}

function isArrayExpression(node: Node): boolean {
  if (Node.isArrayLiteralExpression(node)) return true;
  if (Node.isParenthesizedExpression(node) || Node.isAwaitExpression(node)) return isArrayExpression(node.getExpression());
  if (Node.isCallExpression(node)) {
    const callee = node.getExpression();
    return Node.isPropertyAccessExpression(callee) && ARRAY_RESULT_MEMBERS.has(callee.getName());
  }
  return false;
}

/** What a guard may return from `fn`: '' for a bare `return;`, undefined when no safe value exists. */
function guardReturnValue(fn: Node): string | undefined {
  if (Node.isConstructorDeclaration(fn) || Node.isSetAccessorDeclaration(fn)) return '';
  if (!Node.isFunctionLikeDeclaration(fn)) return undefined;
  if (Node.isGeneratorable(fn) && fn.isGenerator()) return undefined;
  let type = fn.getReturnType();
  if (Node.isAsyncable(fn) && fn.isAsync()) {
    const inner = unwrapPromise(type);
    if (inner === undefined) return undefined;
    type = inner;
  }
  if (isUntyped(type)) {
    const returns = fn
      .getDescendantsOfKind(SyntaxKind.ReturnStatement)
      .filter((statement) => innermostFunction(statement) === fn)
      .map((statement) => statement.getExpression());
    if (returns.every((expression) => expression === undefined)) return '';
    return returns.every((expression) => expression !== undefined && isArrayExpression(expression)) ? '[]' : undefined;
  }
  const members = parts(type);
  if (members.some(isArrayLike)) return '[]';
  if (members.some((part) => hasFlag(part, TypeFlags.Void))) return '';
  if (members.some((part) => part.isUndefined())) return 'undefined';
  if (members.some((part) => part.isNull())) return 'null';
  return undefined;
}

function isLoop(node: Node): boolean {
  return (
    Node.isForStatement(node) ||
    Node.isForOfStatement(node) ||
    Node.isForInStatement(node) ||
    Node.isWhileStatement(node) ||
    Node.isDoStatement(node)
  );
}

function guards(site: CrashSite, crash: MemberCrash, eol: string): TemplateProposal[] {
  const receiver = site.getExpression();
  if (crash.kind === 'not-a-function') {
    if (!ARRAY_MEMBERS.has(crash.property)) return [];
    return guardsBefore(site, receiver, `!Array.isArray(${receiver.getText()})`, 'is not an array', `\`${crash.property}\``, eol);
  }
  return guardsBefore(site, receiver, `${receiver.getText()} == null`, 'is null or undefined', `\`${crash.property}\``, eol);
}

/**
 * `guard-return` and `guard-continue`: a guard on `value` (a side-effect-free path) inserted before the
 * statement holding `site`, returning a value the function admits or skipping the loop iteration.
 */
export function guardsBefore(site: Node, value: Node, condition: string, reason: string, reached: string, eol: string): TemplateProposal[] {
  if (!isPurePath(value) || value.getKind() === SyntaxKind.ThisKeyword) return [];
  const text = value.getText();
  const fn = innermostFunction(site);
  const statement = site.getFirstAncestor((ancestor) => {
    const parent = ancestor.getParent();
    return (
      Node.isStatement(ancestor) &&
      (Node.isBlock(parent) || Node.isSourceFile(parent) || Node.isCaseClause(parent) || Node.isDefaultClause(parent))
    );
  });
  if (statement === undefined || innermostFunction(statement) !== fn) return [];
  const sourceText = site.getSourceFile().getFullText();
  const start = statement.getStart();
  const lineStart = sourceText.lastIndexOf('\n', start - 1) + 1;
  const indent = sourceText.slice(lineStart, start);
  const insertion = (guard: string): TextChange =>
    /^[ \t]*$/.test(indent)
      ? { start: lineStart, end: lineStart, text: `${indent}${guard}${eol}` }
      : { start, end: start, text: `${guard} ` };
  const proposals: TemplateProposal[] = [];
  const returned = fn === undefined ? undefined : guardReturnValue(fn);
  if (returned !== undefined) {
    proposals.push({
      template: 'guard-return',
      rationale: `Returns ${returned === '' ? 'early' : returned} when \`${short(text)}\` ${reason}, before ${reached} is reached.`,
      changes: [insertion(`if (${condition}) return${returned === '' ? '' : ` ${returned}`};`)],
    });
  }
  const loop = statement.getFirstAncestor((ancestor) => isLoop(ancestor) || ancestor === fn);
  if (loop !== undefined && loop !== fn && isLoop(loop)) {
    proposals.push({
      template: 'guard-continue',
      rationale: `Skips the loop iteration when \`${short(text)}\` ${reason}, before ${reached} is reached.`,
      changes: [insertion(`if (${condition}) continue;`)],
    });
  }
  return proposals;
}

/** Every template that applies at a crash site. */
export function proposeRepairs(site: CrashSite, crash: MemberCrash, eol: string): TemplateProposal[] {
  return [
    initIfMissing(site, crash),
    nullishDefault(site, crash),
    coerceReceiver(site, crash),
    ...arrayFallback(site, crash),
    ...optionalChaining(site, crash),
    ...guards(site, crash, eol),
  ].filter((proposal): proposal is TemplateProposal => proposal !== undefined);
}

/** Applies non-overlapping text changes to a text. */
export function applyChanges(text: string, changes: readonly TextChange[]): string {
  let result = text;
  for (const change of [...changes].sort((a, b) => b.start - a.start)) {
    result = result.slice(0, change.start) + change.text + result.slice(change.end);
  }
  return result;
}
