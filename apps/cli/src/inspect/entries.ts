import { join, posix } from 'node:path';
import type { FaasEventShape, MessageEnvelopeShape, ModuleExport } from '@tracemend/contracts';
import { Node, Project, SyntaxKind, type CallExpression, type NewExpression, type SourceFile } from 'ts-morph';
import type { SourceTree } from './source-tree';

/** Which catalog block an entry fills: `httpApp`, `functionHandler` or `messageHandler`. */
export type EntryKind = 'http' | 'function' | 'message';

/** Where an entry was seen and what it showed there. */
export interface EntryEvidence {
  readonly file: string;
  readonly line: number;
  readonly reason: string;
}

/** One way to drive the service found in its code or deployment configuration; higher scores rank first. */
export interface EntryCandidate {
  readonly kind: EntryKind;
  readonly module: string;
  readonly export: string;
  readonly score: number;
  /** For function handlers: the invocation event shape the code or configuration shows. */
  readonly event?: FaasEventShape;
  /** For message handlers: the envelope the consumer library hands over. */
  readonly envelope?: MessageEnvelopeShape;
  /** For HTTP factories: the export that builds the factory's arguments, as a caller in the repository does. */
  readonly args?: ModuleExport;
  readonly evidence: readonly EntryEvidence[];
}

type FunctionLike = Node & { getParameters(): { getName(): string }[] };

/** HTTP frameworks by package, and how a call names the app it builds. */
const HTTP_PACKAGES: Record<string, string> = {
  express: 'express',
  fastify: 'fastify',
  koa: 'koa',
  '@hapi/hapi': 'hapi',
  restify: 'restify',
  '@nestjs/core': 'nestjs',
  http: 'http',
  'node:http': 'http',
  https: 'http',
  'node:https': 'http',
  http2: 'http',
  'node:http2': 'http',
};
/** Member calls that build an app or server, for packages whose default export is not the builder. */
const HTTP_MEMBER_BUILDERS: Record<string, readonly string[]> = {
  http: ['createServer', 'createSecureServer'],
  hapi: ['server', 'Server'],
  restify: ['createServer'],
  nestjs: ['create'],
};

/** Queue consumer libraries and the envelope each hands its handler. */
const QUEUE_PACKAGES: Record<string, { name: string; envelope: MessageEnvelopeShape }> = {
  kafkajs: { name: 'Kafka (kafkajs)', envelope: 'kafka' },
  'node-rdkafka': { name: 'Kafka (node-rdkafka)', envelope: 'kafka' },
  '@confluentinc/kafka-javascript': { name: 'Kafka (confluent)', envelope: 'kafka' },
  '@platformatic/kafka': { name: 'Kafka (platformatic)', envelope: 'kafka' },
  'sqs-consumer': { name: 'SQS (sqs-consumer)', envelope: 'sqs-record' },
  '@aws-sdk/client-sqs': { name: 'SQS (AWS SDK)', envelope: 'sqs-record' },
  amqplib: { name: 'RabbitMQ (amqplib)', envelope: 'payload' },
  'amqp-connection-manager': { name: 'RabbitMQ (amqp-connection-manager)', envelope: 'payload' },
  rascal: { name: 'RabbitMQ (rascal)', envelope: 'payload' },
  bullmq: { name: 'BullMQ', envelope: 'payload' },
  bull: { name: 'Bull', envelope: 'payload' },
  '@google-cloud/pubsub': { name: 'Google Pub/Sub', envelope: 'payload' },
};

const REQUEST_PARAM = /^_?req(?:uest)?$/;
const RESPONSE_PARAM = /^_?res(?:ponse)?$/;
const EVENT_PARAM = /^_?(?:event|evt|e)$/;
const CONTEXT_PARAM = /^_?(?:context|ctx)$/;
const MESSAGE_PARAM = /^_?(?:message|msg|payload|job|record|records|batch|delivery)$/;
const MESSAGE_NAME = /^(?:handle|consume|process|on)[A-Z_]|(?:handler|consumer|processor|worker)$/i;
const APP_NAME = /(?:app|server|application|api)$/i;
const MAX_RESOLVE_DEPTH = 4;

interface ImportBinding {
  readonly module: string;
  /** `default`, `*` (namespace or a whole `require`), or the named export. */
  readonly imported: string;
}

interface ExportedValue {
  readonly name: string;
  readonly node: Node;
  readonly line: number;
}

interface ParsedModule {
  readonly path: string;
  readonly file: SourceFile;
  readonly imports: ReadonlyMap<string, ImportBinding>;
  readonly exports: readonly ExportedValue[];
}

/** Finds the repository's candidate entries by reading its source with ts-morph (no type checking, no execution). */
export function findCodeEntries(root: string, tree: SourceTree): EntryCandidate[] {
  const project = new Project({
    compilerOptions: { allowJs: true, noEmit: true },
    skipAddingFilesFromTsConfig: true,
    skipFileDependencyResolution: true,
    skipLoadingLibFiles: true,
  });
  const modules = new Map<string, ParsedModule>();
  const parse = (path: string): ParsedModule => {
    const known = modules.get(path);
    if (known !== undefined) return known;
    const file = project.addSourceFileAtPath(join(root, path));
    const parsed = { path, file, imports: importsOf(file), exports: exportsOf(file) };
    modules.set(path, parsed);
    return parsed;
  };
  const files = new Set(tree.files);
  const context: ScanContext = { files, parse };
  const candidates: EntryCandidate[] = [];
  for (const path of tree.sources) candidates.push(...classifyModule(parse(path), context));
  const withArgs = candidates.map((candidate) => (candidate.kind === 'http' ? withFactoryArgs(candidate, tree, context) : candidate));
  return withArgs.sort(compareCandidates);
}

/** Orders candidates best first: score, then module and export for a stable listing. */
export function compareCandidates(a: EntryCandidate, b: EntryCandidate): number {
  return b.score - a.score || a.module.localeCompare(b.module) || a.export.localeCompare(b.export);
}

interface ScanContext {
  readonly files: ReadonlySet<string>;
  parse(path: string): ParsedModule;
}

/** The repo-relative file a relative import names, trying the extensions TypeScript and Node would. */
export function resolveRelativeModule(from: string, specifier: string, files: ReadonlySet<string>): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = posix.normalize(posix.join(posix.dirname(from), specifier));
  const stem = base.replace(/\.(?:[cm]?js|jsx)$/, '');
  const tries = [base, ...['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs', '.jsx'].flatMap((ext) => [`${stem}${ext}`, `${base}/index${ext}`])];
  return tries.find((path) => files.has(path));
}

function importsOf(file: SourceFile): Map<string, ImportBinding> {
  const imports = new Map<string, ImportBinding>();
  for (const declaration of file.getImportDeclarations()) {
    const module = declaration.getModuleSpecifierValue();
    const defaultImport = declaration.getDefaultImport();
    if (defaultImport) imports.set(defaultImport.getText(), { module, imported: 'default' });
    const namespace = declaration.getNamespaceImport();
    if (namespace) imports.set(namespace.getText(), { module, imported: '*' });
    for (const named of declaration.getNamedImports()) {
      imports.set(named.getAliasNode()?.getText() ?? named.getName(), { module, imported: named.getName() });
    }
  }
  // CommonJS: `const x = require('m')`, `const { a, b: c } = require('m')`, `require('m').default`.
  for (const declaration of file.getVariableDeclarations()) {
    let init = declaration.getInitializer();
    let member: string | undefined;
    if (init && Node.isPropertyAccessExpression(init)) {
      member = init.getName();
      init = init.getExpression();
    }
    if (!init || !Node.isCallExpression(init) || init.getExpression().getText() !== 'require') continue;
    const argument = init.getArguments()[0];
    if (!argument || !Node.isStringLiteral(argument)) continue;
    const module = argument.getLiteralValue();
    const name = declaration.getNameNode();
    if (Node.isIdentifier(name)) imports.set(name.getText(), { module, imported: member ?? '*' });
    else if (Node.isObjectBindingPattern(name)) {
      for (const element of name.getElements()) {
        imports.set(element.getName(), { module, imported: element.getPropertyNameNode()?.getText() ?? element.getName() });
      }
    }
  }
  return imports;
}

/** The module's exports, ESM and CommonJS (`module.exports = {…}`, `exports.x = …`), with the node giving each value. */
function exportsOf(file: SourceFile): ExportedValue[] {
  const exports: ExportedValue[] = [];
  for (const [name, declarations] of file.getExportedDeclarations()) {
    const declaration = declarations[0];
    if (declaration === undefined || declaration.getSourceFile() !== file) continue;
    const node = Node.isExportAssignment(declaration) ? declaration.getExpression() : declaration;
    exports.push({ name, node, line: declaration.getStartLineNumber() });
  }
  for (const statement of file.getStatements()) {
    if (!Node.isExpressionStatement(statement)) continue;
    const expression = statement.getExpression();
    if (!Node.isBinaryExpression(expression) || expression.getOperatorToken().getKind() !== SyntaxKind.EqualsToken) continue;
    const left = expression.getLeft().getText().replace(/\s+/g, '');
    const right = expression.getRight();
    const member = /^(?:module\.)?exports\.([A-Za-z_$][\w$]*)$/.exec(left)?.[1];
    if (member !== undefined) exports.push({ name: member, node: right, line: statement.getStartLineNumber() });
    else if (left === 'module.exports' && Node.isObjectLiteralExpression(right)) {
      for (const property of right.getProperties()) {
        if (Node.isShorthandPropertyAssignment(property)) {
          exports.push({ name: property.getName(), node: property.getNameNode(), line: property.getStartLineNumber() });
        } else if (Node.isPropertyAssignment(property)) {
          const initializer = property.getInitializer();
          if (initializer) exports.push({ name: property.getName(), node: initializer, line: property.getStartLineNumber() });
        }
      }
    } else if (left === 'module.exports') exports.push({ name: 'default', node: right, line: statement.getStartLineNumber() });
  }
  return exports;
}

function isFunctionLike(node: Node): node is FunctionLike {
  return Node.isFunctionDeclaration(node) || Node.isArrowFunction(node) || Node.isFunctionExpression(node);
}

/** Strips parentheses, `as`, `satisfies` and `!` around an expression. */
function unwrap(node: Node): Node {
  let current = node;
  while (Node.isParenthesizedExpression(current) || Node.isAsExpression(current) || Node.isSatisfiesExpression(current) || Node.isNonNullExpression(current)) {
    current = current.getExpression();
  }
  return current;
}

interface Resolved {
  /** The function the export is, or the one a factory call produced. */
  readonly fn?: FunctionLike;
  /** The value node (a call, a `new`, a literal) when the export is not a function. */
  readonly value: Node;
  /** The module and function whose call produced the export (`export const handler = createHandler(…)`). */
  readonly factory?: { module: ParsedModule; fn: FunctionLike; name: string };
  /** The module the value or function was written in. */
  readonly module: ParsedModule;
}

/** Follows a node to the function or value it stands for: local names, relative imports, factory calls. */
function resolveValue(node: Node, module: ParsedModule, context: ScanContext, depth = 0): Resolved {
  const current = unwrap(Node.isVariableDeclaration(node) ? (node.getInitializer() ?? node) : node);
  if (isFunctionLike(current)) return { fn: current, value: current, module };
  if (depth >= MAX_RESOLVE_DEPTH) return { value: current, module };
  if (Node.isIdentifier(current)) {
    const target = resolveName(current.getText(), module, context);
    return target ? resolveValue(target.node, target.module, context, depth + 1) : { value: current, module };
  }
  // `module.exports = { createServer }` and `{ createServer: build }`: the export is the property's value.
  if (Node.isShorthandPropertyAssignment(current)) return resolveValue(current.getNameNode(), module, context, depth + 1);
  if (Node.isPropertyAssignment(current)) {
    const initializer = current.getInitializer();
    if (initializer !== undefined) return resolveValue(initializer, module, context, depth + 1);
  }
  if (Node.isCallExpression(current) || Node.isAwaitExpression(current)) {
    const call = Node.isAwaitExpression(current) ? unwrap(current.getExpression()) : current;
    if (Node.isCallExpression(call) && Node.isIdentifier(call.getExpression())) {
      const name = call.getExpression().getText();
      const target = resolveName(name, module, context);
      const factory = target ? resolveValue(target.node, target.module, context, depth + 1) : undefined;
      if (factory?.fn) {
        const produced = returnedFunction(factory.fn, factory.module, context);
        return { ...(produced ? { fn: produced } : {}), value: current, module: factory.module, factory: { module: factory.module, fn: factory.fn, name } };
      }
    }
  }
  return { value: current, module };
}

/** The declaration a name refers to in a module: a local function or variable, or an export of a relative import. */
function resolveName(name: string, module: ParsedModule, context: ScanContext): { node: Node; module: ParsedModule } | undefined {
  const local = module.file.getFunction(name) ?? module.file.getVariableDeclaration(name);
  if (local) return { node: local, module };
  const binding = module.imports.get(name);
  if (binding === undefined) return undefined;
  const path = resolveRelativeModule(module.path, binding.module, context.files);
  if (path === undefined || !/\.(?:[cm]?[jt]s|tsx|jsx)$/.test(path)) return undefined;
  const target = context.parse(path);
  const exported = target.exports.find((entry) => entry.name === (binding.imported === '*' ? 'default' : binding.imported));
  return exported ? { node: exported.node, module: target } : undefined;
}

/** The function a function returns (`return (event, context) => …`, or a local function by name), if any. */
function returnedFunction(fn: FunctionLike, module: ParsedModule, context: ScanContext): FunctionLike | undefined {
  if (Node.isArrowFunction(fn)) {
    const body = unwrap(fn.getBody());
    if (isFunctionLike(body)) return body;
  }
  for (const statement of fn.getDescendantsOfKind(SyntaxKind.ReturnStatement)) {
    if (statement.getFirstAncestor((ancestor) => isFunctionLike(ancestor)) !== fn) continue;
    const returned = statement.getExpression();
    if (returned === undefined) continue;
    const value = unwrap(returned);
    if (isFunctionLike(value)) return value;
    if (Node.isIdentifier(value)) {
      const target = resolveName(value.getText(), module, context);
      if (target && isFunctionLike(unwrap(Node.isVariableDeclaration(target.node) ? (target.node.getInitializer() ?? target.node) : target.node))) {
        return resolveValue(target.node, target.module, context).fn;
      }
    }
  }
  return undefined;
}

/** The framework whose app or server this call or `new` builds, judged by what the callee was imported from. */
function httpBuilder(call: CallExpression | NewExpression, module: ParsedModule): string | undefined {
  const callee = call.getExpression();
  if (Node.isIdentifier(callee)) {
    const binding = module.imports.get(callee.getText());
    const framework = binding ? HTTP_PACKAGES[binding.module] : undefined;
    if (binding === undefined || framework === undefined) return undefined;
    const members = HTTP_MEMBER_BUILDERS[framework];
    if (members === undefined) return binding.imported === 'default' || binding.imported === '*' || binding.imported === framework ? framework : undefined;
    return members.includes(binding.imported) ? framework : undefined;
  }
  if (Node.isPropertyAccessExpression(callee)) {
    const object = callee.getExpression();
    if (!Node.isIdentifier(object)) return undefined;
    const binding = module.imports.get(object.getText());
    const framework = binding ? HTTP_PACKAGES[binding.module] : undefined;
    if (framework === undefined) return undefined;
    if (framework === 'nestjs') return binding?.imported === 'NestFactory' && callee.getName() === 'create' ? framework : undefined;
    return (HTTP_MEMBER_BUILDERS[framework] ?? ['default']).includes(callee.getName()) ? framework : undefined;
  }
  return undefined;
}

/** The first app-building call inside a node (itself included). */
function findHttpBuilder(node: Node, module: ParsedModule): { framework: string; line: number } | undefined {
  const calls = [node, ...node.getDescendants()].filter((child): child is CallExpression | NewExpression => Node.isCallExpression(child) || Node.isNewExpression(child));
  for (const call of calls) {
    const framework = httpBuilder(call, module);
    if (framework !== undefined) return { framework, line: call.getStartLineNumber() };
  }
  return undefined;
}

/** Parameter names as evidence shows them; a destructured parameter is `{…}` or `[…]`. */
function parameterNames(fn: FunctionLike): string[] {
  return fn.getParameters().map((parameter) => {
    const name = parameter.getName();
    return name.startsWith('{') ? '{…}' : name.startsWith('[') ? '[…]' : name;
  });
}

function isRequestListener(fn: FunctionLike): boolean {
  const [first, second] = parameterNames(fn);
  return first !== undefined && second !== undefined && REQUEST_PARAM.test(first) && RESPONSE_PARAM.test(second);
}

/** aws-lambda event types and the event shape each names. */
const LAMBDA_EVENT_TYPES: readonly [RegExp, FaasEventShape | 'sqs'][] = [
  [/\bSQSEvent\b/, 'sqs'],
  [/\bSNSEvent\b/, 'sns'],
  [/\bAPIGatewayProxyEventV2\w*\b|\bAPIGatewayProxyHandlerV2\b/, 'api-gateway-v2'],
  [/\bAPIGatewayProxyEvent\b|\bAPIGatewayProxyHandler\b|\bAPIGatewayEvent\b/, 'api-gateway-v1'],
  [/\bScheduledEvent\b|\bScheduledHandler\b/, 'scheduled'],
  [/\bEventBridgeEvent\b|\bEventBridgeHandler\b/, 'eventbridge'],
];

/**
 * The Lambda event shape the handler's code reads, from aws-lambda type names first, then the fields it
 * touches (`Records[].Sns`, `Records[].body` with `messageId`, `rawPath`, `httpMethod`, `detail-type`).
 */
export function lambdaEventShape(texts: readonly string[]): { shape: FaasEventShape | 'sqs'; reason: string } | undefined {
  const text = texts.join('\n');
  for (const [pattern, shape] of LAMBDA_EVENT_TYPES) {
    const found = pattern.exec(text);
    if (found) return { shape, reason: `typed with ${found[0]}` };
  }
  const reads: [RegExp, FaasEventShape | 'sqs', string][] = [
    [/\.Sns\b|\bSns\./, 'sns', 'reads Records[].Sns'],
    [/\.receiptHandle\b|['"]aws:sqs['"]|(?=[\s\S]*\.Records\b)[\s\S]*\.(?:messageId|md5OfBody)\b/, 'sqs', 'reads SQS records (Records[].body, messageId)'],
    [/\.rawPath\b|\.routeKey\b|requestContext\??\.http\b/, 'api-gateway-v2', 'reads rawPath/routeKey/requestContext.http'],
    [/\.httpMethod\b|\.multiValue(?:Headers|QueryStringParameters)\b/, 'api-gateway-v1', 'reads httpMethod/multiValueHeaders'],
    // Fields both API Gateway payload versions carry: `auto` takes the version from the trace.
    [/\.pathParameters\b|\.queryStringParameters\b/, 'auto', 'reads API Gateway fields of both payload versions (pathParameters, queryStringParameters)'],
    [/['"]detail-type['"]/, 'eventbridge', "reads 'detail-type'"],
    [/['"]Scheduled Event['"]/, 'scheduled', "compares with 'Scheduled Event'"],
  ];
  for (const [pattern, shape, reason] of reads) if (pattern.test(text)) return { shape, reason };
  return undefined;
}

function queueLibraryOf(module: ParsedModule): { name: string; envelope: MessageEnvelopeShape } | undefined {
  for (const binding of module.imports.values()) {
    const library = QUEUE_PACKAGES[binding.module];
    if (library) return library;
  }
  return undefined;
}

function importsAwsLambda(module: ParsedModule): boolean {
  return [...module.imports.values()].some((binding) => binding.module === 'aws-lambda' || binding.module === '@types/aws-lambda');
}

/** Scores each export of one module as an HTTP app, a Lambda handler or a queue consumer. */
function classifyModule(module: ParsedModule, context: ScanContext): EntryCandidate[] {
  const found: EntryCandidate[] = [];
  for (const exported of module.exports) {
    const resolved = resolveValue(exported.node, module, context);
    const at = (reason: string, line = exported.line, file = module.path): EntryEvidence => ({ file, line, reason });
    const base = { module: module.path, export: exported.name };
    const fn = resolved.fn;
    const isFactoryProduct = resolved.factory !== undefined;

    // HTTP: an exported function that builds an app, an exported app, or a request listener.
    const builder = fn !== undefined && !isFactoryProduct ? findHttpBuilder(fn, resolved.module) : findHttpBuilder(resolved.value, module);
    const producedBuilder = resolved.factory ? findHttpBuilder(resolved.factory.fn, resolved.factory.module) : undefined;
    if (fn !== undefined && !isFactoryProduct && builder) {
      found.push({
        ...base,
        kind: 'http',
        score: 60 + (APP_NAME.test(exported.name) ? 10 : 0),
        evidence: [at(`exported function ${exported.name} builds an app with ${builder.framework}`), at(`the ${builder.framework} app is created here`, builder.line, resolved.module.path)],
      });
      continue;
    }
    if (fn === undefined && (builder || producedBuilder)) {
      const framework = (builder ?? producedBuilder)?.framework ?? 'http';
      found.push({ ...base, kind: 'http', score: 45, evidence: [at(`exported ${framework} app instance ${exported.name}`)] });
      continue;
    }
    if (fn !== undefined && isRequestListener(fn)) {
      found.push({ ...base, kind: 'http', score: isFactoryProduct ? 35 : 40, evidence: [at(`exported request listener ${exported.name}(req, res)`)] });
      continue;
    }
    const listener = fn !== undefined ? returnedFunction(fn, resolved.module, context) : undefined;
    if (fn !== undefined && !isFactoryProduct && listener && isRequestListener(listener)) {
      found.push({
        ...base,
        kind: 'http',
        score: 55 + (/listener|app|server/i.test(exported.name) ? 5 : 0),
        evidence: [at(`exported function ${exported.name} returns a request listener (req, res)`), at('the listener', listener.getStartLineNumber(), resolved.module.path)],
      });
      continue;
    }
    if (fn === undefined) continue;

    // Queue consumers, by the consumer library the module (or the factory's module) imports.
    const library = queueLibraryOf(module) ?? (resolved.factory ? queueLibraryOf(resolved.factory.module) : undefined);
    const params = parameterNames(fn);
    const returnsFunction = !isFactoryProduct && listener !== undefined;
    if (library && params.length > 0 && (MESSAGE_NAME.test(exported.name) || (params[0] !== undefined && MESSAGE_PARAM.test(params[0])))) {
      found.push({
        ...base,
        kind: 'message',
        envelope: library.envelope,
        score: returnsFunction ? 25 : 55,
        evidence: [
          at(`${returnsFunction ? 'factory of a message handler' : 'message handler'} ${exported.name}(${params.join(', ')}) in a module using ${library.name}`),
          ...(resolved.factory ? [at(`built by ${resolved.factory.name}`, resolved.factory.fn.getStartLineNumber(), resolved.factory.module.path)] : []),
        ],
      });
      continue;
    }

    // Lambda-style handlers: `handler`, `(event, context)`, aws-lambda types.
    const eventParam = params[0] !== undefined && EVENT_PARAM.test(params[0]);
    const contextParam = params[1] !== undefined && CONTEXT_PARAM.test(params[1]);
    const lambdaTypes = importsAwsLambda(module) || (resolved.factory !== undefined && importsAwsLambda(resolved.factory.module));
    const named = exported.name === 'handler' ? 25 : /handler$/i.test(exported.name) ? 10 : 0;
    if (named === 0 && !(eventParam && contextParam)) continue;
    if (named === 0 && returnsFunction) continue;
    const texts = [module.file.getFullText(), ...(resolved.factory ? [resolved.factory.module.file.getFullText()] : [])];
    const shape = lambdaEventShape(texts);
    const score = (returnsFunction ? 5 : 30) + named + (eventParam ? 5 : 0) + (contextParam ? 5 : 0) + (lambdaTypes ? 5 : 0);
    const signature = `${exported.name}(${params.join(', ')})`;
    const evidence = [
      at(`${returnsFunction ? 'factory of a handler' : 'Lambda-style handler'} ${signature}${resolved.factory ? ` built by ${resolved.factory.name}` : ''}`),
      ...(shape ? [at(`event: ${shape.reason}`)] : []),
    ];
    if (shape?.shape === 'sqs') found.push({ ...base, kind: 'message', envelope: 'sqs-batch', score, evidence: [...evidence, at('an SQS-triggered function is a queue consumer taking the whole batch')] });
    else found.push({ ...base, kind: 'function', event: shape?.shape ?? 'auto', score, evidence });
  }
  return found;
}

/**
 * The factory's arguments as the repository itself builds them: a call of the factory (tests first, then
 * the service's own start-up code) whose first argument is the result of an exported helper of another
 * module (`createApp(createTestDeps())`, or a variable holding such a result).
 */
function withFactoryArgs(candidate: EntryCandidate, tree: SourceTree, context: ScanContext): EntryCandidate {
  const factory = context.parse(candidate.module).exports.find((entry) => entry.name === candidate.export);
  const fn = factory ? resolveValue(factory.node, context.parse(candidate.module), context).fn : undefined;
  if (fn === undefined || fn.getParameters().length === 0) return candidate;
  for (const path of [...tree.tests, ...tree.sources]) {
    const module = context.parse(path);
    const local = [...module.imports].find(([, binding]) => resolveRelativeModule(path, binding.module, context.files) === candidate.module && binding.imported === candidate.export)?.[0];
    if (local === undefined) continue;
    for (const call of module.file.getDescendantsOfKind(SyntaxKind.CallExpression)) {
      if (call.getExpression().getText() !== local) continue;
      const argument = call.getArguments()[0];
      const helper = argument ? argumentHelper(argument, module, context) : undefined;
      if (helper) {
        return {
          ...candidate,
          args: helper,
          evidence: [...candidate.evidence, { file: path, line: call.getStartLineNumber(), reason: `called as ${local}(${helper.export}(…)) here` }],
        };
      }
    }
  }
  return candidate;
}

function argumentHelper(argument: Node, module: ParsedModule, context: ScanContext): ModuleExport | undefined {
  let value = unwrap(argument);
  if (Node.isIdentifier(value)) {
    const initializer = module.file.getVariableDeclaration(value.getText())?.getInitializer();
    if (initializer === undefined) return undefined;
    value = unwrap(initializer);
  }
  if (Node.isAwaitExpression(value)) value = unwrap(value.getExpression());
  if (!Node.isCallExpression(value) || !Node.isIdentifier(value.getExpression())) return undefined;
  const binding = module.imports.get(value.getExpression().getText());
  const target = binding ? resolveRelativeModule(module.path, binding.module, context.files) : undefined;
  if (binding === undefined || target === undefined || binding.imported === '*' || binding.imported === 'default') return undefined;
  return { module: target, export: binding.imported };
}
