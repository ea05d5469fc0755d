import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { FaasEventShape } from '@tracemend/contracts';
import { Node, Project, SyntaxKind, type ObjectLiteralExpression } from 'ts-morph';
import { isMap, isScalar, parseDocument, type Document } from 'yaml';
import type { EntryCandidate, EntryEvidence } from './entries';
import type { SourceTree } from './source-tree';

/** Handlers named by deployment configuration outrank anything guessed from code. */
const DECLARED_SCORE = 100;
const HANDLER_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];

/** serverless.yml event keys and SAM event types, by the event shape they deliver. */
const SERVERLESS_EVENTS: Record<string, FaasEventShape | 'sqs'> = { sqs: 'sqs', sns: 'sns', http: 'api-gateway-v1', httpApi: 'api-gateway-v2', schedule: 'scheduled', eventBridge: 'eventbridge', cloudwatchEvent: 'eventbridge' };
const SAM_EVENTS: Record<string, FaasEventShape | 'sqs'> = { SQS: 'sqs', SNS: 'sns', Api: 'api-gateway-v1', HttpApi: 'api-gateway-v2', Schedule: 'scheduled', ScheduleV2: 'scheduled', EventBridgeRule: 'eventbridge', CloudWatchEvent: 'eventbridge' };

/**
 * The module file a Lambda `handler` string names (`src/handler.main` → `src/handler.ts` or `.js`),
 * below `codeDir`. Build output (`dist/x.js`) is mapped back to a source file of the same name when
 * the repository has one.
 */
export function handlerModule(codeDir: string, handler: string, files: ReadonlySet<string>): { module: string; export: string; found: boolean } | undefined {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0 || dot === handler.length - 1) return undefined;
  const stem = posix.normalize(posix.join(codeDir, handler.slice(0, dot))).replace(/^\.\//, '');
  const name = handler.slice(dot + 1);
  const stems = [stem, stem.replace(/^(?:dist|build|out|lib)\//, 'src/')];
  for (const candidate of stems) {
    for (const ext of HANDLER_EXTENSIONS) if (files.has(`${candidate}${ext}`)) return { module: `${candidate}${ext}`, export: name, found: true };
  }
  return { module: `${stem}.js`, export: name, found: false };
}

function lineOf(node: unknown, text: string): number {
  const range = (node as { range?: [number, number, number] } | undefined)?.range;
  return range ? text.slice(0, range[0]).split('\n').length : 1;
}

function declared(kindShape: FaasEventShape | 'sqs' | undefined, target: { module: string; export: string; found: boolean }, evidence: EntryEvidence[]): EntryCandidate {
  const missing = target.found ? [] : [{ ...evidence[0]!, reason: `no file ${target.module} in the repository: check the handler path` }];
  if (kindShape === 'sqs') return { kind: 'message', module: target.module, export: target.export, envelope: 'sqs-batch', score: DECLARED_SCORE, evidence: [...evidence, ...missing] };
  return { kind: 'function', module: target.module, export: target.export, event: kindShape ?? 'auto', score: DECLARED_SCORE - (target.found ? 0 : 20), evidence: [...evidence, ...missing] };
}

async function readYaml(root: string, file: string): Promise<{ document: Document; text: string } | undefined> {
  let text: string;
  try {
    text = await readFile(join(root, file), 'utf8');
  } catch {
    return undefined;
  }
  // CloudFormation intrinsics (!Ref, !GetAtt, !Sub) are tags the yaml library does not know; their values stay plain.
  const document = parseDocument(text, { logLevel: 'silent', strict: false });
  return document.errors.length > 0 ? undefined : { document, text };
}

/** `functions.*.handler` of serverless.yml, with the event shape of each function's first event. */
async function serverlessEntries(root: string, files: ReadonlySet<string>): Promise<EntryCandidate[]> {
  const file = ['serverless.yml', 'serverless.yaml'].find((name) => files.has(name));
  const read = file ? await readYaml(root, file) : undefined;
  if (!file || !read) return [];
  const functions = read.document.get('functions', true);
  if (!isMap(functions)) return [];
  const found: EntryCandidate[] = [];
  for (const pair of functions.items) {
    const name = isScalar(pair.key) ? String(pair.key.value) : '?';
    if (!isMap(pair.value)) continue;
    const handler = pair.value.get('handler', true);
    if (!isScalar(handler) || typeof handler.value !== 'string') continue;
    const target = handlerModule('.', handler.value, files);
    if (target === undefined) continue;
    const events = pair.value.toJSON() as { events?: Record<string, unknown>[] };
    const eventKey = events.events?.map((event) => Object.keys(event)[0]).find((key) => key !== undefined && SERVERLESS_EVENTS[key] !== undefined);
    const shape = eventKey ? SERVERLESS_EVENTS[eventKey] : undefined;
    const line = lineOf(handler, read.text);
    found.push(declared(shape, target, [{ file, line, reason: `serverless function ${name}: handler ${handler.value}${eventKey ? `, ${eventKey} event` : ''}` }]));
  }
  return found;
}

/** `AWS::Serverless::Function` resources of a SAM template: Handler under CodeUri (or the Globals'). */
async function samEntries(root: string, files: ReadonlySet<string>): Promise<EntryCandidate[]> {
  const file = ['template.yaml', 'template.yml'].find((name) => files.has(name));
  const read = file ? await readYaml(root, file) : undefined;
  if (!file || !read) return [];
  const resources = read.document.get('Resources', true);
  if (!isMap(resources)) return [];
  const globals = (read.document.toJSON() as { Globals?: { Function?: { CodeUri?: unknown; Handler?: unknown } } } | null)?.Globals?.Function ?? {};
  const found: EntryCandidate[] = [];
  for (const pair of resources.items) {
    const name = isScalar(pair.key) ? String(pair.key.value) : '?';
    if (!isMap(pair.value) || pair.value.get('Type') !== 'AWS::Serverless::Function') continue;
    const properties = pair.value.get('Properties', true);
    const json = (isMap(properties) ? properties.toJSON() : {}) as { Handler?: unknown; CodeUri?: unknown; Events?: Record<string, { Type?: unknown }> };
    const handler = typeof json.Handler === 'string' ? json.Handler : typeof globals.Handler === 'string' ? globals.Handler : undefined;
    const codeUri = typeof json.CodeUri === 'string' ? json.CodeUri : typeof globals.CodeUri === 'string' ? globals.CodeUri : '.';
    const target = handler ? handlerModule(codeUri, handler, files) : undefined;
    if (!handler || !target) continue;
    const eventType = Object.values(json.Events ?? {}).map((event) => event.Type).find((type): type is string => typeof type === 'string' && SAM_EVENTS[type] !== undefined);
    const node = isMap(properties) ? properties.get('Handler', true) : pair.value;
    found.push(
      declared(eventType ? SAM_EVENTS[eventType] : undefined, target, [
        { file, line: lineOf(node, read.text), reason: `SAM function ${name}: Handler ${handler}, CodeUri ${codeUri}${eventType ? `, ${eventType} event` : ''}` },
      ]),
    );
  }
  return found;
}

function stringProperty(object: ObjectLiteralExpression, name: string): string | undefined {
  const property = object.getProperty(name);
  if (!property || !Node.isPropertyAssignment(property)) return undefined;
  const value = property.getInitializer();
  if (value && (Node.isStringLiteral(value) || Node.isNoSubstitutionTemplateLiteral(value))) return value.getLiteralValue();
  // path.join(__dirname, '../lambda/x.ts') and peers: the literal parts, relative to the stack's folder.
  if (value && Node.isCallExpression(value) && /(?:^|\.)(?:join|resolve)$/.test(value.getExpression().getText())) {
    const parts = value.getArguments().map((argument) => (Node.isStringLiteral(argument) ? argument.getLiteralValue() : argument.getText() === '__dirname' ? '' : undefined));
    if (parts.every((part) => part !== undefined)) return posix.join(...parts.filter((part) => part !== ''));
  }
  return undefined;
}

/** CDK `new lambda.Function(…)` (handler + Code.fromAsset) and `new NodejsFunction(…)` (entry + handler) in the source. */
async function cdkEntries(root: string, tree: SourceTree): Promise<EntryCandidate[]> {
  const files = new Set(tree.files);
  const stacks: string[] = [];
  for (const path of tree.sources) {
    if (!/\.[cm]?[jt]s$/.test(path)) continue;
    const text = await readFile(join(root, path), 'utf8');
    if (/aws-cdk-lib|@aws-cdk\//.test(text)) stacks.push(path);
  }
  if (stacks.length === 0) return [];
  const project = new Project({ compilerOptions: { allowJs: true, noEmit: true }, skipAddingFilesFromTsConfig: true, skipFileDependencyResolution: true, skipLoadingLibFiles: true });
  const found: EntryCandidate[] = [];
  for (const path of stacks) {
    const file = project.addSourceFileAtPath(join(root, path));
    for (const created of file.getDescendantsOfKind(SyntaxKind.NewExpression)) {
      const callee = created.getExpression().getText();
      if (!/(?:^|\.)(?:Function|NodejsFunction)$/.test(callee)) continue;
      const props = created.getArguments()[2];
      if (!props || !Node.isObjectLiteralExpression(props)) continue;
      const dir = posix.dirname(path);
      const handler = stringProperty(props, 'handler');
      const entry = stringProperty(props, 'entry');
      const evidence = [{ file: path, line: created.getStartLineNumber(), reason: `CDK new ${callee}(…)${entry ? ` entry ${entry}` : ''}${handler ? ` handler ${handler}` : ''}` }];
      if (/NodejsFunction$/.test(callee) && entry !== undefined) {
        const module = posix.normalize(posix.join(dir, entry));
        found.push(declared(undefined, { module, export: handler ?? 'handler', found: files.has(module) }, evidence));
        continue;
      }
      const code = props.getProperty('code');
      const asset = code && Node.isPropertyAssignment(code) ? code.getInitializerIfKind(SyntaxKind.CallExpression) : undefined;
      const assetArgument = asset?.getArguments()[0];
      const assetDir = assetArgument && Node.isStringLiteral(assetArgument) ? assetArgument.getLiteralValue() : undefined;
      if (handler === undefined) continue;
      // fromAsset paths are relative to where `cdk` runs, the repository root, unless built from __dirname.
      const target = handlerModule(assetDir ?? '.', handler, files);
      if (target) found.push(declared(undefined, target, evidence));
    }
  }
  return found;
}

/** Handlers that serverless.yml, a SAM template or CDK code declare, each with where it is declared. */
export async function findDeclaredEntries(root: string, tree: SourceTree): Promise<EntryCandidate[]> {
  const files = new Set(tree.files);
  return [...(await serverlessEntries(root, files)), ...(await samEntries(root, files)), ...(await cdkEntries(root, tree))];
}
