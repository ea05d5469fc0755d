import { posix } from 'node:path';
import { TracemendError, type DownstreamCall, type Entry, type FailureSignature, type RuntimeEnvironment, type TestFile, type TestRunner } from '@tracemend/contracts';

/** What the emitted test needs: the minimal failure and how the repository runs its tests. */
export interface EmitTestInput {
  entry: Entry;
  environment: RuntimeEnvironment;
  downstream: readonly DownstreamCall[];
  signature: FailureSignature;
  fingerprint: string;
  runner: TestRunner;
  /** For HTTP entries: the module and export that build the app. */
  httpApp?: { module: string; export: string };
  /** Folder of the repository's tests (default `test`). */
  testDir?: string;
  /** How the repository writes relative imports of TypeScript files: `.ts`, `.js` or no extension. */
  importExtension?: '.ts' | '.js' | '';
}

const q = (value: unknown): string => JSON.stringify(value, null, 2);

function importPath(testDir: string, module: string, extension: string): string {
  const relative = posix.relative(testDir, module.replace(/\.(ts|tsx|js|mjs)$/, ''));
  return `${relative.startsWith('.') ? relative : `./${relative}`}${extension}`;
}

function identifier(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : 'entry';
}

/** Turns recorded `$stub` objects into objects whose methods resolve the recorded answers. */
const REVIVE_STUBS = `function revive(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revive);
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  if ('$stub' in record && Object.keys(record).length === 1) {
    const methods = record.$stub as Record<string, Record<string, unknown>>;
    return Object.fromEntries(Object.entries(methods).map(([name, answers]) => [name, async (key: string) => revive(answers[key])]));
  }
  return Object.fromEntries(Object.entries(record).map(([key, item]) => [key, revive(item)]));
}`;

/** Serves the recorded downstream calls to `fetch`; anything else fails loudly. */
const RECORDED_FETCH = `function recordedFetch(calls: readonly { method: string; url: string; status: number; responseHeaders: Record<string, string>; responseBody?: unknown }[]) {
  const pending = [...calls];
  return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const index = pending.findIndex((call) => call.method === method && call.url === url);
    if (index < 0) throw new Error(\`unrecorded downstream call \${method} \${url}\`);
    const [call] = pending.splice(index, 1);
    const body = call!.responseBody === undefined ? null : JSON.stringify(call!.responseBody);
    return new Response(body, { status: call!.status, headers: { 'content-type': 'application/json', ...call!.responseHeaders } });
  };
}`;

function title(input: EmitTestInput): string {
  const where = input.signature.frames[0]?.function ?? 'the entry';
  return `does not fail with ${input.signature.errorType} in ${where} (tracemend ${input.fingerprint.slice(0, 8)})`;
}

function header(runner: 'vitest' | 'node:test', extra: string[]): string[] {
  return runner === 'vitest'
    ? [`import { afterEach, expect, it, vi } from 'vitest';`, ...extra]
    : [`import assert from 'node:assert/strict';`, `import { afterEach, it } from 'node:test';`, ...extra];
}

function envSetup(runner: 'vitest' | 'node:test', env: Record<string, string>): string[] {
  if (Object.keys(env).length === 0) return [];
  if (runner === 'vitest') return Object.entries(env).map(([key, value]) => `  vi.stubEnv(${q(key)}, ${q(value)});`);
  return [`  const saved = { ...process.env };`, `  afterEach(() => { process.env = saved; });`, `  Object.assign(process.env, ${q(env)});`];
}

/**
 * Emits a test in the repository's own runner that drives the minimal input through the entry and
 * fails while the recorded failure happens: on the recorded commit it fails, after a fix it passes.
 */
export function emitRegressionTest(input: EmitTestInput): TestFile {
  if (input.runner !== 'vitest' && input.runner !== 'node:test') {
    throw new TracemendError('MINIMIZATION_FAILED', `emitting a ${input.runner} test is not built yet; vitest and node:test are`);
  }
  const runner = input.runner;
  const testDir = input.testDir ?? 'test';
  const extension = input.importExtension ?? '.ts';
  const env: Record<string, string> = { ...input.environment.env };
  if (Object.keys(input.environment.featureFlags).length > 0 && env.FEATURE_FLAGS === undefined) env.FEATURE_FLAGS = JSON.stringify(input.environment.featureFlags);
  const usesFetch = input.downstream.length > 0;
  const recorded = input.downstream.map(({ method, url, status, responseHeaders, responseBody }) => ({ method, url, status, responseHeaders, ...(responseBody === undefined ? {} : { responseBody }) }));
  const lines: string[] = [];
  const cleanup = runner === 'vitest' ? [`afterEach(() => {`, `  vi.unstubAllEnvs();`, `  vi.unstubAllGlobals();`, `});`, ``] : [];

  if (input.entry.kind === 'http') {
    const app = input.httpApp;
    if (app === undefined) throw new TracemendError('MINIMIZATION_FAILED', 'an HTTP entry needs the catalog\'s httpApp (module and export) to emit a test');
    const name = identifier(app.export);
    lines.push(
      ...header(runner, [`import type { AddressInfo } from 'node:net';`, `import { ${name} } from '${importPath(testDir, app.module, extension)}';`]),
      ``,
      ...cleanup,
      `it(${q(`${input.entry.method} ${input.entry.route} ${title(input)}`)}, async () => {`,
      ...envSetup(runner, env),
      `  const server = ${name}().listen(0, '127.0.0.1');`,
      `  await new Promise<void>((resolve) => server.once('listening', () => resolve()));`,
      `  try {`,
      `    const { port } = server.address() as AddressInfo;`,
      `    const response = await fetch(\`http://127.0.0.1:\${port}${input.entry.path}${Object.keys(input.entry.query).length > 0 ? `?${new URLSearchParams(input.entry.query).toString()}` : ''}\`, {`,
      `      method: ${q(input.entry.method)},`,
      `      headers: ${q({ 'content-type': 'application/json' })},`,
      ...(input.entry.body === undefined ? [] : [`      body: JSON.stringify(${q(input.entry.body).replace(/\n/g, '\n      ')}),`]),
      `    });`,
      runner === 'vitest' ? `    expect(response.status).toBeLessThan(500);` : `    assert.ok(response.status < 500, \`answered \${response.status}\`);`,
      `  } finally {`,
      `    server.close();`,
      `  }`,
      `});`,
    );
  } else {
    const name = identifier(input.entry.export);
    const call = input.entry.kind === 'function' ? `${name}(...(revive(${q(input.entry.args).replace(/\n/g, '\n  ')}) as Parameters<typeof ${name}>))` : `${name}(revive(${q(input.entry.payload).replace(/\n/g, '\n  ')}) as Parameters<typeof ${name}>[0])`;
    lines.push(
      ...header(runner, [`import { ${name} } from '${importPath(testDir, input.entry.module, extension)}';`]),
      ``,
      REVIVE_STUBS,
      ``,
      ...(usesFetch ? [RECORDED_FETCH, ``] : []),
      ...cleanup,
      `it(${q(title(input))}, async () => {`,
      ...envSetup(runner, env),
      ...(usesFetch
        ? runner === 'vitest'
          ? [`  vi.stubGlobal('fetch', recordedFetch(${q(recorded).replace(/\n/g, '\n  ')}));`]
          : [`  const realFetch = globalThis.fetch;`, `  afterEach(() => { globalThis.fetch = realFetch; });`, `  globalThis.fetch = recordedFetch(${q(recorded).replace(/\n/g, '\n  ')});`]
        : []),
      `  await ${call};`,
      `});`,
    );
  }
  const slug = input.fingerprint.slice(0, 8);
  const path = posix.join(testDir, `tracemend-${slug}.test.ts`);
  const command = runner === 'vitest' ? ['npx', 'vitest', 'run', path] : ['node', '--import', 'tsx', '--test', path];
  return { path, content: `${lines.join('\n')}\n`, runner, command };
}
