import { Node, SyntaxKind, type Expression, type Identifier, type SourceFile, type Type } from 'ts-morph';
import type { MemberCrash } from './symptom';
import { innermostFunction, rootIdentifier, short, type CrashSite, type TemplateProposal } from './templates';

/** Array methods whose callback receives each element, and the index of the element parameter. */
const ELEMENT_PARAMETER = new Map([
  ['every', 0],
  ['filter', 0],
  ['find', 0],
  ['findIndex', 0],
  ['findLast', 0],
  ['flatMap', 0],
  ['forEach', 0],
  ['map', 0],
  ['some', 0],
  ['reduce', 1],
  ['reduceRight', 1],
]);

/** The `const`/`let` initializer `identifier` was declared with, when it has one. */
function initializerOf(identifier: Identifier): Expression | undefined {
  const declaration = identifier.getSymbol()?.getDeclarations()[0];
  if (!Node.isVariableDeclaration(declaration) || !Node.isIdentifier(declaration.getNameNode())) return undefined;
  return declaration.getInitializer();
}

/** The array an element parameter iterates: `lines` for `line` in `lines.reduce((sum, line) => …)`. */
function iteratedArray(identifier: Identifier): Identifier | undefined {
  const declaration = identifier.getSymbol()?.getDeclarations()[0];
  if (!Node.isParameterDeclaration(declaration)) return undefined;
  const callback = declaration.getParent();
  if (!(Node.isArrowFunction(callback) || Node.isFunctionExpression(callback))) return undefined;
  const call = callback.getParent();
  if (!Node.isCallExpression(call) || call.getArguments()[0] !== callback) return undefined;
  const callee = call.getExpression();
  if (!Node.isPropertyAccessExpression(callee)) return undefined;
  if (ELEMENT_PARAMETER.get(callee.getName()) !== callback.getParameters().indexOf(declaration)) return undefined;
  const array = callee.getExpression();
  return Node.isIdentifier(array) ? array : undefined;
}

function isAsyncFunction(node: Node | undefined): boolean {
  return node !== undefined && Node.isAsyncable(node) && node.isAsync();
}

/** A call that is not awaited: the only kind of initializer that can hold a promise by mistake. */
function isUnawaitedCall(expression: Expression): boolean {
  return Node.isCallExpression(expression) && !Node.isAwaitExpression(expression.getParent());
}

/** False when the type checker knows the value is not a promise (TypeScript, or typed JSDoc); true when unsure. */
function mayBePromise(type: Type): boolean {
  if (type.isAny() || type.isUnknown()) return true;
  const parts = type.isUnion() ? type.getUnionTypes() : [type];
  return parts.some((part) => part.isAny() || part.isUnknown() || part.getSymbol()?.getName() === 'Promise');
}

function mayHoldPromises(list: Expression): boolean {
  const element = list.getType().getArrayElementType();
  return element === undefined || mayBePromise(element);
}

function isMapCall(expression: Expression): boolean {
  if (!Node.isCallExpression(expression)) return false;
  const callee = expression.getExpression();
  return Node.isPropertyAccessExpression(callee) && (callee.getName() === 'map' || callee.getName() === 'flatMap');
}

/**
 * `add-await`: the crash reads a property a promise does not have (`user.profile.name`, `result.map(…)`)
 * off a value initialized from a call that was not awaited, inside an async function. The value, or
 * the list of them a `.map` made, is awaited where it is declared (`await call()`, `await
 * Promise.all(xs.map(…))`).
 */
export function proposeAwait(site: CrashSite, crash: MemberCrash): TemplateProposal | undefined {
  const receiver = site.getExpression();
  // A promise's missing member: `p.amount` is undefined (read `p.amount.cents`) or `p.map` is no function.
  const promiseValue =
    crash.kind === 'nullish-read' && (Node.isPropertyAccessExpression(receiver) || Node.isElementAccessExpression(receiver))
      ? rootIdentifier(receiver)
      : crash.kind === 'not-a-function' && Node.isIdentifier(receiver)
        ? receiver
        : undefined;
  if (promiseValue === undefined) return undefined;

  const direct = initializerOf(promiseValue);
  if (
    direct !== undefined &&
    isUnawaitedCall(direct) &&
    !isMapCall(direct) &&
    mayBePromise(direct.getType()) &&
    isAsyncFunction(innermostFunction(direct))
  ) {
    return {
      template: 'add-await',
      rationale: `Awaits \`${short(direct.getText())}\`: \`${promiseValue.getText()}\` held its promise, which has no \`${crash.property}\` chain to read.`,
      changes: [{ start: direct.getStart(), end: direct.getStart(), text: 'await ' }],
    };
  }
  const array = iteratedArray(promiseValue);
  const list = array === undefined ? undefined : initializerOf(array);
  if (list !== undefined && isUnawaitedCall(list) && isMapCall(list) && mayHoldPromises(list) && isAsyncFunction(innermostFunction(list))) {
    return {
      template: 'add-await',
      rationale: `Awaits every promise \`${short(list.getText())}\` makes: the elements of \`${array?.getText() ?? ''}\` were promises, which have no \`${crash.property}\` chain to read.`,
      changes: [{ start: list.getStart(), end: list.getEnd(), text: `await Promise.all(${list.getText()})` }],
    };
  }
  return undefined;
}

function isAsyncCallback(node: Node | undefined): boolean {
  return node !== undefined && (Node.isArrowFunction(node) || Node.isFunctionExpression(node)) && node.isAsync();
}

/**
 * `await-foreach`: `xs.forEach(async (x) => { … })` inside an async function, before the crash line.
 * forEach never waits for its callback's promises, so what the callbacks set is still missing when the
 * code after it reads it. The statement becomes `await Promise.all(xs.map(async (x) => { … }))`.
 */
export function proposeAwaitForEach(sourceFile: SourceFile, line: number): TemplateProposal[] {
  const onLine = sourceFile.getDescendants().find((node) => node.getStartLineNumber() === line && !Node.isSourceFile(node));
  const fn = onLine?.getFirstAncestor((ancestor) => Node.isFunctionLikeDeclaration(ancestor) && isAsyncFunction(ancestor));
  if (fn === undefined) return [];
  return fn
    .getDescendantsOfKind(SyntaxKind.ExpressionStatement)
    .filter((statement) => statement.getStartLineNumber() < line && innermostFunction(statement) === fn)
    .flatMap((statement) => {
      const call = statement.getExpression();
      if (!Node.isCallExpression(call)) return [];
      const callee = call.getExpression();
      const [callback, ...rest] = call.getArguments();
      if (!Node.isPropertyAccessExpression(callee) || callee.getName() !== 'forEach' || rest.length > 0 || !isAsyncCallback(callback)) {
        return [];
      }
      const list = callee.getExpression().getText();
      return [
        {
          template: 'await-foreach' as const,
          rationale: `Waits for every async callback: \`forEach\` over \`${short(list)}\` does not, so what they set was still missing when it was read.`,
          changes: [{ start: call.getStart(), end: call.getEnd(), text: `await Promise.all(${list}.map(${callback?.getText() ?? ''}))` }],
        },
      ];
    });
}
