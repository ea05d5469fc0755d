import { access, readFile, realpath, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { CatalogService, formatIssues, ServiceCatalog, TracemendError } from '@tracemend/contracts';
import { describeRequirementSource } from '@tracemend/sandbox';
import { runCommand } from '@tracemend/process';
import { Document, isMap, isScalar, Pair, parseDocument, Scalar, type YAMLMap } from 'yaml';
import { inspectRepository, type EntryCandidate, type RepoInspection } from './inspect';
import type { CliIo } from './io';



/** What `tracemend init` was asked for. */
export interface InitOptions {
  readonly dir: string;
  readonly service?: string;
  readonly write?: string;
  readonly force: boolean;
  readonly json: boolean;
}

/** Parses `tracemend init` arguments; throws naming the argument that is wrong. */
export function parseInitArgs(args: readonly string[]): InitOptions {
  let dir: string | undefined;
  let service: string | undefined;
  let write: string | undefined;
  let force = false;
  let json = false;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] ?? '';
    const value = (): string => {
      const next = args[++index];
      if (next === undefined || next.startsWith('--')) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--service') service = value();
    else if (arg === '--write') write = value();
    else if (arg === '--force') force = true;
    else if (arg === '--json') json = true;
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else if (dir === undefined) dir = arg;
    else throw new Error(`unexpected argument ${arg} (one folder only)`);
  }
  if (force && write === undefined) throw new Error('--force applies only with --write');
  return { dir: dir ?? '.', force, json, ...(service === undefined ? {} : { service }), ...(write === undefined ? {} : { write }) };
}

/** A catalog service name from a package name: the scope dropped, lowercase, other characters as `-`. */
export function normalizeServiceName(name: string): string {
  return name
    .replace(/^@[^/]+\//, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/-+$/, '')
    .slice(0, 128);
}

/** Owner and name of a repository from a clone URL (`https://host/owner/name.git`, `git@host:owner/name.git`). */
export function repositoryOfRemote(url: string): { owner: string; name: string } | undefined {
  const path = /^[\w.-]+@[^:/]+:(.+)$/.exec(url)?.[1] ?? (URL.canParse(url) ? new URL(url).pathname : undefined);
  const parts = path?.replace(/\.git\/?$/, '').split('/').filter((part) => part !== '');
  const [owner, name] = parts?.slice(-2) ?? [];
  return owner !== undefined && name !== undefined && parts!.length >= 2 ? { owner, name } : undefined;
}

/**
 * A clone URL without the user and password an https remote may carry (`https://user:token@host/…`):
 * the catalog is committed and shared, a token in it would leak. ssh users (`git@`) are kept.
 */
export function withoutCredentials(url: string): { url: string; stripped: boolean } {
  if (!URL.canParse(url)) return { url, stripped: false };
  const parsed = new URL(url);
  if (!/^https?:$/.test(parsed.protocol) || (parsed.username === '' && parsed.password === '')) return { url, stripped: false };
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString(), stripped: true };
}

/** `origin` of the git repository whose top level is `root`; undefined for a folder inside a larger repository or none. */
async function originOf(root: string): Promise<{ url: string } | { problem: string }> {
  const top = await runCommand('git', ['-C', root, 'rev-parse', '--show-toplevel'], { timeoutMs: 10_000 }).catch(() => undefined);
  if (top === undefined || top.code !== 0) return { problem: 'the folder is not a git repository' };
  const topLevel = top.stdout.toString('utf8').trim();
  if ((await realpath(topLevel)) !== (await realpath(root))) {
    return { problem: `the folder is inside the git repository ${topLevel}, not its top level; module paths below are relative to the folder` };
  }
  const remote = await runCommand('git', ['-C', root, 'remote', 'get-url', 'origin'], { timeoutMs: 10_000 });
  if (remote.code !== 0) return { problem: 'the repository has no remote "origin"' };
  return { url: remote.stdout.toString('utf8').trim() };
}

/** What `tracemend init` decided, before it is written as YAML. */
export interface InitResult {
  readonly name: string;
  readonly entry: CatalogService;
  /** Lines for the reader: what each field rests on. Keys are the catalog field they sit above. */
  readonly notes: Readonly<Record<string, readonly string[]>>;
  /** What init could not decide, for the reader to set. */
  readonly todos: readonly string[];
  readonly inspection: RepoInspection;
}

function describeEvidence(candidate: EntryCandidate): string[] {
  return candidate.evidence.map((evidence) => `${evidence.file}:${evidence.line}: ${evidence.reason}`);
}

function describeCandidate(candidate: EntryCandidate): string {
  const shape = candidate.event ?? candidate.envelope;
  return `${candidate.kind} ${candidate.module} export ${candidate.export}${shape ? ` (${shape})` : ''}, score ${candidate.score}`;
}

/** Decides the catalog entry for an inspected repository. */
export async function decideCatalogEntry(inspection: RepoInspection, requestedName?: string): Promise<InitResult> {
  const todos: string[] = [];
  const notes: Record<string, string[]> = {};
  const packageName = inspection.manifest?.name;
  const name = requestedName ?? normalizeServiceName(packageName ?? basename(inspection.root));
  if (name === '') throw new TracemendError('INVALID_INPUT', `no service name can be made from "${packageName ?? basename(inspection.root)}": pass --service <name>`);
  notes.service = [
    requestedName !== undefined ? 'service name from --service' : packageName !== undefined ? `service name from package.json name "${packageName}"` : 'service name from the folder name',
    'it must equal the service.name the service reports in its telemetry',
    'plan' in inspection.packageManager
      ? `package manager: ${inspection.packageManager.plan.manager}${inspection.packageManager.plan.version ? ` ${inspection.packageManager.plan.version}` : ''} (${inspection.packageManager.evidence})`
      : `package manager: not decided: ${inspection.packageManager.problem}`,
    inspection.node === undefined
      ? "Node asked for: nothing (.nvmrc, .node-version, engines.node): replays run on the sandbox's own Node"
      : 'problem' in inspection.node
        ? `Node asked for: unreadable: ${inspection.node.problem}`
        : `Node asked for: ${inspection.node.value} (${describeRequirementSource(inspection.node.file)}; range ${inspection.node.range})`,
  ];
  if (inspection.node !== undefined && 'problem' in inspection.node) todos.push(`node: ${inspection.node.problem}`);

  const origin = await originOf(inspection.root);
  const remote = 'url' in origin ? repositoryOfRemote(origin.url) : undefined;
  let repository: CatalogService['repository'];
  if ('url' in origin && remote !== undefined) {
    const clone = withoutCredentials(origin.url);
    repository = { ...remote, cloneUrl: clone.url };
    notes.repository = ['from git remote get-url origin', ...(clone.stripped ? ['the user and password in the origin URL are left out'] : [])];
  } else {
    repository = { owner: 'TODO', name, cloneUrl: 'TODO' };
    const why = 'url' in origin ? `origin ${withoutCredentials(origin.url).url} names no owner/name` : origin.problem;
    todos.push(`repository: ${why}: set owner, name and cloneUrl`);
    notes.repository = [`TODO: ${why}: set owner, name and cloneUrl`];
  }

  let test: CatalogService['test'];
  if ('runner' in inspection.testSetup) {
    test = { runner: inspection.testSetup.runner, command: inspection.testSetup.command };
    notes.test = [`runner and command as triage reads them from the repository: ${inspection.testSetup.detectedFrom ?? 'the repository'}`];
  } else {
    // The schema requires a runner; these placeholders are marked as such right above them.
    test = { runner: 'node:test', command: ['npm', 'test'] };
    todos.push('test.runner: no test runner found: set vitest, jest, mocha, node:test or ava and test.command');
    notes.test = [`TODO: ${inspection.testSetup.problem}`, 'runner and command below are placeholders the catalog schema requires'];
  }

  const dataContract = `contracts/${name}.yaml`;
  todos.push(`dataContract: write ${dataContract} (relative to the catalog file)`);
  notes.dataContract = [`TODO: write the data contract from a sample alert: tracemend gate --suggest <alert> --service ${name} > ${dataContract}`];

  const entry: Record<string, unknown> = { repository, test, dataContract };
  const [best, ...others] = inspection.entries;
  const othersNote = others.length > 0 ? ['other candidates, not written:', ...others.map((other) => `  ${describeCandidate(other)}: ${describeEvidence(other)[0] ?? ''}`)] : [];
  if (best === undefined) {
    todos.push('entry: no HTTP app factory, Lambda handler or queue consumer found: set httpApp, functionHandler or messageHandler {module, export}');
  } else {
    const key = best.kind === 'http' ? 'httpApp' : best.kind === 'function' ? 'functionHandler' : 'messageHandler';
    const block =
      best.kind === 'http'
        ? { module: best.module, export: best.export, ...(best.args ? { args: best.args } : {}) }
        : best.kind === 'function'
          ? { module: best.module, export: best.export, event: best.event ?? 'auto' }
          : { module: best.module, export: best.export, envelope: best.envelope ?? 'auto' };
    entry[key] = block;
    notes[key] = [`chosen: ${describeCandidate(best)}`, ...describeEvidence(best), ...othersNote];
    if (best.kind === 'http' && best.args === undefined) {
      notes[key].push('if the factory takes arguments (stores, clients), set httpApp.args to the module and export that build them, as the tests do');
    }
  }
  const parsed = CatalogService.safeParse(entry);
  // Everything above comes from the inspection: an entry the schema rejects is a bug here, not bad input.
  if (!parsed.success) throw new Error(`tracemend init built an invalid catalog entry: ${formatIssues(parsed.error.issues)}`);
  return { name, entry: parsed.data, notes, todos, inspection };
}

function comment(lines: readonly string[]): string {
  return lines.map((line) => ` ${line}`).join('\n');
}

/** The catalog entry as a YAML map with a comment above each field saying what it rests on. */
function entryNode(document: Document, result: InitResult): YAMLMap {
  // `baseBranch` is the schema's default; writing it would claim init checked the branch.
  const { baseBranch: _baseBranch, ...fields } = result.entry;
  const node = document.createNode(fields) as YAMLMap;
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const lines = result.notes[key];
    if (lines !== undefined && isScalar(pair.key)) pair.key.commentBefore = comment(lines);
  }
  return node;
}

/** A whole catalog holding one service, as YAML with comments, validated. */
export function catalogYaml(result: InitResult): string {
  const document = new Document({ version: 1, services: {} });
  const services = document.get('services', true) as YAMLMap;
  services.items.push(servicePair(document, result));
  validateCatalog(document, 'the catalog tracemend init wrote');
  return document.toString({ lineWidth: 0 });
}

function servicePair(document: Document, result: InitResult): Pair {
  const key = new Scalar(result.name);
  const lines = [...(result.notes.service ?? []), ...(result.todos.length > 0 ? [`${result.todos.length} TODO${result.todos.length === 1 ? '' : 's'} below`] : [])];
  key.commentBefore = comment(lines);
  return new Pair(key, entryNode(document, result));
}

function validateCatalog(document: Document, name: string): void {
  const parsed = ServiceCatalog.safeParse(document.toJS());
  if (!parsed.success) throw new TracemendError('INVALID_INPUT', `${name} is not a valid catalog: ${formatIssues(parsed.error.issues)}`);
}

/** Adds the service to a catalog file (created when missing), keeping its other services and comments. */
export async function writeCatalogEntry(file: string, result: InitResult, force: boolean): Promise<'added' | 'replaced'> {
  const exists = await access(file).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await writeFile(file, catalogYaml(result));
    return 'added';
  }
  const document = parseDocument(await readFile(file, 'utf8'));
  if (document.errors.length > 0) throw new TracemendError('INVALID_INPUT', `${file} is not valid YAML: ${document.errors[0]?.message ?? ''}; fix it or write to another file`);
  validateCatalog(document, file);
  const services = document.get('services', true);
  if (!isMap(services)) throw new TracemendError('INVALID_INPUT', `${file} has no services map`);
  const index = services.items.findIndex((pair) => isScalar(pair.key) && pair.key.value === result.name);
  if (index >= 0 && !force) {
    throw new TracemendError('INVALID_INPUT', `service ${result.name} is already in ${file}: pass --force to replace it, or --service to add it under another name`);
  }
  const pair = servicePair(document, result);
  if (index >= 0) services.items[index] = pair;
  else services.items.push(pair);
  validateCatalog(document, `${file} with ${result.name}`);
  await writeFile(file, document.toString({ lineWidth: 0 }));
  return index >= 0 ? 'replaced' : 'added';
}

/** `tracemend init`: inspects a repository folder and prints (or writes) its catalog entry. */
export async function runInit(options: InitOptions, io: CliIo): Promise<number> {
  if (options.service !== undefined && normalizeServiceName(options.service) !== options.service) {
    io.err(`tracemend init: --service ${options.service} is not a catalog service name (lowercase letters, digits, . _ -); for example ${normalizeServiceName(options.service) || 'orders-api'}`);
    return 2;
  }
  const inspection = await inspectRepository(options.dir);
  const result = await decideCatalogEntry(inspection, options.service);
  if (options.write !== undefined) {
    const file = resolve(options.write);
    const done = await writeCatalogEntry(file, result, options.force);
    io.out(`${done} service ${result.name} in ${options.write}${result.todos.length > 0 ? `; still to do:\n${result.todos.map((todo) => `  - ${todo}`).join('\n')}` : ''}`);
    return 0;
  }
  if (options.json) {
    const { root: _root, manifest: _manifest, ...found } = inspection;
    io.out(JSON.stringify({ service: result.name, entry: result.entry, todos: result.todos, inspection: found }, null, 2));
  } else io.out(catalogYaml(result));
  return 0;
}
