import { Node, SyntaxKind, type SourceFile } from 'ts-morph';
import { isPurePath, short, type TemplateProposal } from './templates';

/** True when `node` is the target of a plain assignment (`xs[xs.length] = v` appends on purpose). */
function isAssigned(node: Node): boolean {
  const parent = node.getParent();
  return Node.isBinaryExpression(parent) && parent.getLeft() === node && parent.getOperatorToken().getKind() === SyntaxKind.EqualsToken;
}

/** `xs.length` already adjusted (`xs.length - 1`, `xs.length + k`) is not the off-by-one. */
function isAdjusted(length: Node): boolean {
  const parent = length.getParent();
  if (!Node.isBinaryExpression(parent)) return false;
  const operator = parent.getOperatorToken().getKind();
  return operator === SyntaxKind.MinusToken || operator === SyntaxKind.PlusToken;
}

/**
 * `last-index`: an element read `xs[… xs.length …]` on `line` whose index can be `xs.length` itself,
 * one past the last element, so the read is always undefined there (a classic off-by-one). The
 * `xs.length` in the index becomes `xs.length - 1`. Reads only: `xs[xs.length] = v` appends.
 */
export function proposeLastIndex(sourceFile: SourceFile, line: number): TemplateProposal[] {
  const proposals: TemplateProposal[] = [];
  for (const access of sourceFile.getDescendantsOfKind(SyntaxKind.ElementAccessExpression)) {
    if (access.getStartLineNumber() > line || access.getEndLineNumber() < line || isAssigned(access)) continue;
    const array = access.getExpression();
    if (!isPurePath(array)) continue;
    const index = access.getArgumentExpression();
    if (index === undefined) continue;
    const lengths = [index, ...index.getDescendants()].filter(
      (node) =>
        Node.isPropertyAccessExpression(node) &&
        node.getName() === 'length' &&
        node.getExpression().getText() === array.getText() &&
        !isAdjusted(node) &&
        // Only where the whole index can be that length: itself, or a branch of its conditionals.
        isBranchOfIndex(node, index),
    );
    for (const length of lengths) {
      proposals.push({
        template: 'last-index',
        rationale: `Reads the last element, not the one past it: \`${short(array.getText())}[${short(length.getText())}]\` is always undefined.`,
        changes: [{ start: length.getEnd(), end: length.getEnd(), text: ' - 1' }],
      });
    }
  }
  return proposals;
}

/** Whether `node` is what `index` evaluates to on some branch of its conditionals. */
function isBranchOfIndex(node: Node, index: Node): boolean {
  let current: Node = node;
  while (current !== index) {
    const parent = current.getParent();
    if (parent === undefined) return false;
    if (Node.isConditionalExpression(parent)) {
      if (parent.getCondition() === current) return false;
    } else if (!Node.isParenthesizedExpression(parent)) {
      return false;
    }
    current = parent;
  }
  return true;
}
