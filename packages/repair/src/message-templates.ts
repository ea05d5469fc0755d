import { Node, SyntaxKind, type SourceFile } from 'ts-morph';
import { short, type TemplateProposal } from './templates';

/**
 * `replace-all`: `s.replace('x', y)` (or a regex without the `g` flag) on `line` replaces only the first
 * match. When the error message still shows the pattern (`Invalid argument: 1250,000.00` after
 * `.replace(',', '')`), the rest of the occurrences reached the code that threw: `replaceAll` (or the
 * `g` flag) removes them all. Driven by the message, not the error type: what throws is often a
 * dependency with its own error class.
 */
export function proposeReplaceAll(sourceFile: SourceFile, line: number, message: string): TemplateProposal[] {
  const proposals: TemplateProposal[] = [];
  for (const call of sourceFile.getDescendantsOfKind(SyntaxKind.CallExpression)) {
    const callee = call.getExpression();
    if (!Node.isPropertyAccessExpression(callee) || callee.getName() !== 'replace' || callee.hasQuestionDotToken()) continue;
    if (call.getStartLineNumber() > line || call.getEndLineNumber() < line) continue;
    const [pattern, replacement] = call.getArguments();
    if (pattern === undefined || replacement === undefined) continue;
    if (Node.isStringLiteral(pattern) || Node.isNoSubstitutionTemplateLiteral(pattern)) {
      const literal = pattern.getLiteralValue();
      if (literal === '' || !message.includes(literal)) continue;
      const name = callee.getNameNode();
      proposals.push({
        template: 'replace-all',
        rationale: `Replaces every \`${short(pattern.getText())}\`, not only the first: the error still shows one (\`replace\` with a string pattern stops after the first match).`,
        changes: [{ start: name.getStart(), end: name.getEnd(), text: 'replaceAll' }],
      });
    } else if (Node.isRegularExpressionLiteral(pattern)) {
      const text = pattern.getText();
      const flagsAt = text.lastIndexOf('/');
      const source = text.slice(1, flagsAt);
      const flags = text.slice(flagsAt + 1);
      let regex: RegExp;
      try {
        regex = new RegExp(source, flags);
      } catch {
        continue;
      }
      if (flags.includes('g') || !regex.test(message)) continue;
      proposals.push({
        template: 'replace-all',
        rationale: `Replaces every match of \`${short(text)}\`, not only the first: the error still shows one (a regular expression without the g flag stops after the first match).`,
        changes: [{ start: pattern.getEnd(), end: pattern.getEnd(), text: 'g' }],
      });
    }
  }
  return proposals;
}

/** A number in the message that a 32-bit wrap explains: negative, or beyond the int32 range. */
function showsWrappedNumber(message: string): boolean {
  for (const match of message.matchAll(/(?<![\w.])-?\d[\d_]*(?:\.\d+)?/g)) {
    const value = Number(match[0].replace(/_/g, ''));
    if (value < 0 || value >= 2 ** 31) return true;
  }
  return false;
}

/**
 * `trunc-not-bitwise`: `x | 0`, `x >> 0` or `~~x` on `line` truncates through a 32-bit integer, so a
 * value beyond ±2^31 wraps (2,500,000,000 becomes -1,794,967,296). When the message shows a negative
 * or out-of-range number, the truncation becomes `Math.trunc(x)`, which keeps every safe integer.
 */
export function proposeTrunc(sourceFile: SourceFile, line: number, message: string): TemplateProposal[] {
  if (!showsWrappedNumber(message)) return [];
  const proposals: TemplateProposal[] = [];
  const consider = (node: Node, operand: Node) => {
    if (node.getStartLineNumber() > line || node.getEndLineNumber() < line) return;
    proposals.push({
      template: 'trunc-not-bitwise',
      rationale: `Truncates \`${short(operand.getText())}\` with Math.trunc: \`${short(node.getText())}\` goes through a 32-bit integer and wraps values beyond ±2^31, as the negative or out-of-range number in the error shows.`,
      changes: [{ start: node.getStart(), end: node.getEnd(), text: `Math.trunc(${operand.getText()})` }],
    });
  };
  for (const binary of sourceFile.getDescendantsOfKind(SyntaxKind.BinaryExpression)) {
    const operator = binary.getOperatorToken().getKind();
    const right = binary.getRight();
    if ((operator === SyntaxKind.BarToken || operator === SyntaxKind.GreaterThanGreaterThanToken) && Node.isNumericLiteral(right) && right.getLiteralValue() === 0) {
      consider(binary, binary.getLeft());
    }
  }
  for (const outer of sourceFile.getDescendantsOfKind(SyntaxKind.PrefixUnaryExpression)) {
    const inner = outer.getOperand();
    if (outer.getOperatorToken() === SyntaxKind.TildeToken && Node.isPrefixUnaryExpression(inner) && inner.getOperatorToken() === SyntaxKind.TildeToken) {
      consider(outer, inner.getOperand());
    }
  }
  return proposals;
}
