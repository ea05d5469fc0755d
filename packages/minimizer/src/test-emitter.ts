import { posix } from 'node:path';
import { TracemendError, type DownstreamCall, type Entry, type FeatureFlagsConfig, type FailureSignature, type RuntimeEnvironment, type TestFile, type TestRunner } from '@tracemend/contracts';
import { flagEnvironment, invocationOf, type HttpApp } from '@tracemend/sandbox';

/** What the emitted test needs: the minimal failure and how the repository runs its tests. */
export interface EmitTestInput {
  entry: Entry;
  environment: RuntimeEnvironment;
  downstream: readonly DownstreamCall[];
  signature: FailureSignature;
  fingerprint: string;
  runner: TestRunner;
  /** For HTTP entries: the module and export that build the app, and the module that builds its arguments. */
  httpApp?: HttpApp;
  /** Where the service reads its feature flags (the catalog's `featureFlags`); default `FEATURE_FLAGS` as JSON. */
  flags?: FeatureFlagsConfig;
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

/**
 * Serves what the app factory built on loopback, as the replay harness does: an http.Server, a request
 * listener (express, connect), a koa app, a fastify instance, a hapi server or a NestJS application.
 */
const SERVE_APP = `// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function serve(built: any): Promise<Server> {
  const listen = (server: Server) =>
    new Promise<Server>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    });
  if (built instanceof Server) return listen(built);
  if (typeof built?.getHttpServer === 'function' && typeof built?.init === 'function') {
    await built.init();
    return serve(built.getHttpServer());
  }
  if (built?.listener instanceof Server && typeof built?.initialize === 'function') {
    await built.initialize();
    return listen(built.listener);
  }
  if (built?.server instanceof Server && typeof built?.ready === 'function') {
    await built.ready();
    return listen(built.server);
  }
  if (typeof built?.callback === 'function' && typeof built?.use === 'function') return listen(createServer(built.callback()));
  if (typeof built === 'function') return listen(createServer(built));
  throw new Error('the app factory built no http.Server, request listener or known framework app');
}`;

/** Calls a Lambda handler as Lambda does: with a context, settling through its callback when it takes one. */
const INVOKE_LAMBDA = `// eslint-disable-next-line @typescript-eslint/no-explicit-any
function invokeLambda(handler: (...args: any[]) => unknown, event: unknown, fields: Record<string, unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const settle = (error: unknown, value?: unknown) => (error === undefined || error === null ? resolve(value) : reject(error));
    const { remainingTimeMs, ...recorded } = fields;
    const deadline = Date.now() + Number(remainingTimeMs ?? 30_000);
    const context = {
      ...recorded,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: settle,
      succeed: (value: unknown) => settle(undefined, value),
      fail: (error: unknown) => settle(error ?? new Error('context.fail')),
    };
    try {
      const returned = handler(event, context, settle) as Promise<unknown> | undefined;
      if (handler.length < 3 || typeof returned?.then === 'function') Promise.resolve(returned).then((value) => settle(undefined, value), (error: unknown) => settle(error));
    } catch (error) {
      reject(error);
    }
  });
}`;

/** The kafkajs \`eachMessage\` payload: key, value and headers as Buffers, heartbeat and pause as no-ops. */
const KAFKA_PAYLOAD = `function kafkaPayload(payload: { topic: string; partition: number; message: { key: string | null; value: string; headers: Record<string, string>; offset: string; timestamp: string; attributes: number } }) {
  const { message } = payload;
  const headers = Object.fromEntries(Object.entries(message.headers).map(([name, value]) => [name, Buffer.from(value)]));
  return {
    ...payload,
    message: { ...message, key: message.key === null ? null : Buffer.from(message.key), value: Buffer.from(message.value), headers },
    heartbeat: async () => undefined,
    pause: () => () => undefined,
  };
}`;

/** Request headers the emitted request sends: the recorded ones a client may set, and a JSON content type. */
function requestHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const dropped = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'expect', 'te', 'trailer']);
  const kept = Object.fromEntries(Object.entries(headers).filter(([name]) => !dropped.has(name.toLowerCase())));
  return Object.keys(kept).some((name) => name.toLowerCase() === 'content-type') ? kept : { 'content-type': 'application/json', ...kept };
}

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
  const env = flagEnvironment(input.environment, input.flags);
  const usesFetch = input.downstream.length > 0;
  const recorded = input.downstream.map(({ method, url, status, responseHeaders, responseBody }) => ({ method, url, status, responseHeaders, ...(responseBody === undefined ? {} : { responseBody }) }));
  const lines: string[] = [];
  const cleanup = runner === 'vitest' ? [`afterEach(() => {`, `  vi.unstubAllEnvs();`, `  vi.unstubAllGlobals();`, `});`, ``] : [];

  if (input.entry.kind === 'http') {
    const app = input.httpApp;
    if (app === undefined) throw new TracemendError('MINIMIZATION_FAILED', 'an HTTP entry needs the service catalog\'s httpApp {module, export} (services.<name>.httpApp) to emit a test');
    const name = identifier(app.export);
    const args = app.args === undefined ? undefined : { ...app.args, local: identifier(app.args.export) === name ? 'appArguments' : identifier(app.args.export) };
    const body = input.entry.body;
    const headers = requestHeaders(input.entry.headers);
    // As the harness sends it: a string body as it is unless the request is JSON, anything else as JSON.
    const raw = typeof body === 'string' && !/json/i.test(Object.entries(headers).find(([header]) => header.toLowerCase() === 'content-type')?.[1] ?? '');
    const sent = body === undefined || input.entry.method === 'GET' || input.entry.method === 'HEAD' ? [] : [`      body: ${raw ? q(body) : `JSON.stringify(${q(body).replace(/\n/g, '\n      ')})`},`];
    lines.push(
      ...header(runner, [
        `import { createServer, Server } from 'node:http';`,
        `import type { AddressInfo } from 'node:net';`,
        `import { ${name} } from '${importPath(testDir, app.module, extension)}';`,
        ...(args === undefined ? [] : [`import { ${args.export === args.local ? args.local : `${args.export} as ${args.local}`} } from '${importPath(testDir, args.module, extension)}';`]),
      ]),
      ``,
      SERVE_APP,
      ``,
      ...cleanup,
      `it(${q(`${input.entry.method} ${input.entry.route} ${title(input)}`)}, async () => {`,
      ...envSetup(runner, env),
      ...(args === undefined
        ? [`  const server = await serve(await ${name}());`]
        : [
            `  // The factory's arguments, built as the service catalog names them (httpApp.args).`,
            `  const made: unknown = typeof ${args.local} === 'function' ? await (${args.local} as () => unknown)() : ${args.local};`,
            `  const server = await serve(await ${name}(...((Array.isArray(made) ? made : [made]) as Parameters<typeof ${name}>)));`,
          ]),
      `  try {`,
      `    const { port } = server.address() as AddressInfo;`,
      `    const response = await fetch(\`http://127.0.0.1:\${port}${input.entry.path}${Object.keys(input.entry.query).length > 0 ? `?${new URLSearchParams(input.entry.query).toString()}` : ''}\`, {`,
      `      method: ${q(input.entry.method)},`,
      `      headers: ${q(headers).replace(/\n/g, '\n      ')},`,
      ...sent,
      `    });`,
      runner === 'vitest' ? `    expect(response.status).toBeLessThan(500);` : `    assert.ok(response.status < 500, \`answered \${response.status}\`);`,
      `  } finally {`,
      `    server.closeAllConnections();`,
      `    server.close();`,
      `  }`,
      `});`,
    );
  } else {
    const name = identifier(input.entry.export);
    const invocation = invocationOf(input.entry);
    const indent = (value: unknown): string => q(value).replace(/\n/g, '\n  ');
    const call =
      invocation.style === 'lambda'
        ? `invokeLambda(${name} as (...args: unknown[]) => unknown, revive(${indent(invocation.event)}), ${indent(invocation.context)})`
        : invocation.style === 'kafka'
          ? `${name}(kafkaPayload(${indent(invocation.payload)}) as unknown as Parameters<typeof ${name}>[0])`
          : `${name}(...(revive(${indent(invocation.args)}) as Parameters<typeof ${name}>))`;
    const helper = invocation.style === 'lambda' ? [INVOKE_LAMBDA, ``] : invocation.style === 'kafka' ? [KAFKA_PAYLOAD, ``] : [];
    lines.push(
      ...header(runner, [`import { ${name} } from '${importPath(testDir, input.entry.module, extension)}';`]),
      ``,
      REVIVE_STUBS,
      ``,
      ...helper,
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
