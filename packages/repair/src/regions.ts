import { Node, type SourceFile } from 'ts-morph';

/** The function (or top-level statement) a line belongs to: the region edits for a suspect may touch. */
export interface FunctionRegion {
  file: string;
  /** `name`, `Class.method`, or `<anonymous>`; `<top-level>` for a statement outside any function. */
  name: string;
  startLine: number;
  endLine: number;
}

/** True for declarations whose name a reader would use for the function: declarations, methods, named bindings. */
function isNamedFunction(node: Node): boolean {
  if (
    Node.isFunctionDeclaration(node) ||
    Node.isMethodDeclaration(node) ||
    Node.isConstructorDeclaration(node) ||
    Node.isGetAccessorDeclaration(node) ||
    Node.isSetAccessorDeclaration(node)
  ) {
    return true;
  }
  if (Node.isArrowFunction(node) || Node.isFunctionExpression(node)) {
    const parent = node.getParent();
    return (
      Node.isVariableDeclaration(parent) || Node.isPropertyAssignment(parent) || Node.isPropertyDeclaration(parent)
    );
  }
  return false;
}

/** A readable name for a function-like node. */
export function functionName(node: Node): string {
  const member = Node.isPropertyDeclaration(node.getParent()) ? node.getParent() : node;
  const holder = member?.getParent();
  const className = Node.isClassDeclaration(holder) || Node.isClassExpression(holder) ? holder.getName() : undefined;
  let name: string | undefined;
  if (Node.isConstructorDeclaration(node)) name = 'constructor';
  else if (
    Node.isFunctionDeclaration(node) ||
    Node.isMethodDeclaration(node) ||
    Node.isGetAccessorDeclaration(node) ||
    Node.isSetAccessorDeclaration(node) ||
    Node.isFunctionExpression(node)
  ) {
    name = node.getName();
  }
  if (name === undefined) {
    const parent = node.getParent();
    if (Node.isVariableDeclaration(parent) || Node.isPropertyAssignment(parent) || Node.isPropertyDeclaration(parent)) {
      name = parent.getName();
    }
  }
  const base = name ?? '<anonymous>';
  return className !== undefined ? `${className}.${base}` : base;
}

/**
 * The innermost named function around `line` (callbacks belong to the function that holds them);
 * without one, the outermost function; outside any function, the top-level statement.
 */
export function regionAtLine(sourceFile: SourceFile, file: string, line: number): FunctionRegion | undefined {
  const statement = sourceFile.getStatements().find((s) => s.getStartLineNumber() <= line && line <= s.getEndLineNumber());
  if (statement === undefined) return undefined;
  let deepest: Node | undefined;
  const visit = (node: Node): void => {
    node.forEachChild((child) => {
      if (child.getStartLineNumber() <= line && line <= child.getEndLineNumber()) {
        deepest = child;
        visit(child);
      }
    });
  };
  deepest = statement;
  visit(statement);
  return regionOfNode(deepest, file);
}

/** The region (see `regionAtLine`) that holds a node. */
export function regionOfNode(node: Node, file: string): FunctionRegion | undefined {
  const functions = [node, ...node.getAncestors()].filter((n) => Node.isFunctionLikeDeclaration(n));
  const chosen = functions.find(isNamedFunction) ?? functions.at(-1);
  if (chosen !== undefined) {
    return {
      file,
      name: functionName(chosen),
      startLine: chosen.getStartLineNumber(),
      endLine: chosen.getEndLineNumber(),
    };
  }
  const top = [node, ...node.getAncestors()].find((n) => Node.isSourceFile(n.getParent()));
  if (top === undefined) return undefined;
  return { file, name: '<top-level>', startLine: top.getStartLineNumber(), endLine: top.getEndLineNumber() };
}
