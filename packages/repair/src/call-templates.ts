import { Node, SyntaxKind, type CallExpression, type SourceFile } from 'ts-morph';
import { nearestToColumn, short, type TemplateProposal } from './templates';
import { bare, printed } from './value-templates';

/**
 * The calls on `line` of the callee V8 printed (`callback`, `options.onDone`), whose result is not
 * used: a statement of its own, possibly awaited or voided. Only there can skipping the call stand in
 * for making it.
 */
export function findUnusedCalls(sourceFile: SourceFile, line: number, column: number | undefined, callee: string): CallExpression[] {
  const calls = sourceFile
    .getDescendantsOfKind(SyntaxKind.CallExpression)
    .filter(
      (call) =>
        call.getExpression().getEndLineNumber() === line &&
        printed(bare(call.getExpression()).getText()) === printed(callee) &&
        !call.hasQuestionDotToken() &&
        resultUnused(call),
    );
  return nearestToColumn(calls, sourceFile, column, (call) => call.getExpression().getStart());
}

function resultUnused(call: Node): boolean {
  const parent = call.getParent();
  if (Node.isExpressionStatement(parent)) return true;
  if (Node.isAwaitExpression(parent) || Node.isVoidExpression(parent)) return resultUnused(parent);
  return false;
}

/** `optional-call`: `callback?.(…)`, skipping a callback or hook the caller did not pass. */
export function proposeOptionalCall(call: CallExpression): TemplateProposal {
  const callee = call.getExpression();
  return {
    template: 'optional-call',
    rationale: `Calls \`${short(callee.getText())}\` only when it is there: a caller that passes no such function gets no call instead of a crash.`,
    changes: [{ start: callee.getEnd(), end: callee.getEnd(), text: '?.' }],
  };
}
