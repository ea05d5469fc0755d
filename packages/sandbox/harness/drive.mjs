// Drives one entry (function, message or http) against the repository checked out at /work.
import { createServer, Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { originalFetch } from './downstream.mjs';
import { moduleFile } from './prepared.mjs';

const REPO_ROOT = '/work/';
const MAX_BODY_CHARS = 16_384;
const DROPPED_REQUEST_HEADERS = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'expect', 'te', 'trailer']);

/** Thrown for problems of the job itself (missing module or export); reported as a harness error. */
export class JobError extends Error {}

function stubKey(args) {
  if (args.length === 0) return '';
  return typeof args[0] === 'string' ? args[0] : JSON.stringify(args[0]);
}

/**
 * Replaces every `{"$stub": {method: {firstArgument: value}}}` by an object whose `method(arg)`
 * resolves to the recorded value for that argument; an unrecorded argument rejects and is reported.
 */
export function reviveStubs(value, onUnrecorded) {
  if (Array.isArray(value)) return value.map((item) => reviveStubs(item, onUnrecorded));
  if (typeof value !== 'object' || value === null) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === '$stub' && typeof value.$stub === 'object' && value.$stub !== null) {
    const stub = {};
    for (const [method, answers] of Object.entries(value.$stub)) {
      const table = typeof answers === 'object' && answers !== null ? answers : {};
      stub[method] = async (...args) => {
        const key = stubKey(args);
        if (Object.prototype.hasOwnProperty.call(table, key)) return structuredClone(table[key]);
        const description = `${method}(${JSON.stringify(key)})`;
        onUnrecorded(`stub ${description}`);
        throw new Error(`tracemend replay: unrecorded dependency call ${description}`);
      };
    }
    return stub;
  }
  return Object.fromEntries(keys.map((key) => [key, reviveStubs(value[key], onUnrecorded)]));
}

async function importRepoModule(modulePath) {
  if (typeof modulePath !== 'string' || modulePath === '' || modulePath.startsWith('/') || modulePath.split('/').includes('..')) {
    throw new JobError(`the module must be a repo-relative path, got ${JSON.stringify(modulePath)}`);
  }
  return await import(pathToFileURL(moduleFile(REPO_ROOT, modulePath)).href);
}

async function loadModuleExport(modulePath, exportName) {
  const namespace = await importRepoModule(modulePath);
  if (!(exportName in namespace)) throw new JobError(`${modulePath} has no export ${exportName}`);
  return namespace[exportName];
}

async function loadExport(modulePath, exportName) {
  const exported = (await importRepoModule(modulePath))[exportName];
  if (typeof exported !== 'function') throw new JobError(`${modulePath} has no exported function ${exportName}`);
  return exported;
}

/** Runs the handler the way Lambda does: callback-style handlers (3 parameters) settle through the callback or context.done/succeed/fail. */
async function invokeLambda(handler, event, fields) {
  const { remainingTimeMs, ...recorded } = fields;
  const deadline = Date.now() + remainingTimeMs;
  let settle;
  const settled = new Promise((resolve, reject) => {
    settle = (error, value) => (error !== undefined && error !== null ? reject(error) : resolve(value));
  });
  const context = {
    ...recorded,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: (error, value) => settle(error, value),
    succeed: (value) => settle(undefined, value),
    fail: (error) => settle(error ?? new Error('context.fail')),
  };
  if (handler.length >= 3) {
    const returned = handler(event, context, (error, value) => settle(error, value));
    if (typeof returned?.then === 'function') returned.then((value) => settle(undefined, value), (error) => settle(error));
    return await settled;
  }
  return await Promise.race([handler(event, context), settled]);
}

/**
 * Calls a function or message entry's export as `invocation` says; the host builds it from the entry:
 * an argument list, a Lambda event and context, or a kafkajs `eachMessage` payload.
 */
export async function driveCall(entry, invocation, onUnrecorded) {
  return await callWith(await loadExport(entry.module, entry.export), entry, invocation, onUnrecorded);
}

/** Calls `fn` (a function or message entry's export, however it was loaded) as `invocation` says. */
export async function callWith(fn, entry, invocation, onUnrecorded) {
  switch (invocation?.style) {
    case 'lambda':
      return await invokeLambda(fn, reviveStubs(invocation.event, onUnrecorded), invocation.context);
    case 'kafka': {
      const { message } = invocation.payload;
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, Buffer.from(String(value))]));
      return await fn({
        ...invocation.payload,
        message: { ...message, key: message.key === null ? null : Buffer.from(message.key), value: Buffer.from(message.value), headers },
        heartbeat: async () => undefined,
        pause: () => () => undefined,
      });
    }
    case 'call':
      // Called without a receiver so stack frames read `topUsers`, as in production, not `Module.topUsers`.
      return await fn(...reviveStubs(invocation.args, onUnrecorded));
    default:
      // A job line written without the host's invocation: the arguments as recorded, or the bare payload.
      return await fn(...reviveStubs(entry.kind === 'message' ? [entry.payload] : Array.isArray(entry.args) ? entry.args : [], onUnrecorded));
  }
}

/** The factory's arguments from `httpApp.args`: a function's awaited result or a value; an array is the list. */
async function factoryArguments(args) {
  if (args === undefined) return [];
  const exported = await loadModuleExport(args.module, args.export);
  const value = typeof exported === 'function' ? await exported() : exported;
  return Array.isArray(value) ? value : [value];
}

function listenOn(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/**
 * A Node http.Server listening on loopback for what the factory built. Each framework is reduced to
 * its http.Server or request listener, so every one is served and closed the same way.
 */
async function serve(app) {
  if (app instanceof Server) return app.listening ? app : await listenOn(app);
  if (typeof app?.getHttpServer === 'function' && typeof app?.init === 'function') {
    // NestJS: init() wires the modules and routes into the adapter's server without listening.
    await app.init();
    return await serve(app.getHttpServer());
  }
  if (app?.listener instanceof Server && typeof app?.initialize === 'function') {
    // hapi: the listener already dispatches to the router; initialize() starts plugins and caches.
    await app.initialize();
    return await listenOn(app.listener);
  }
  if (app?.server instanceof Server && typeof app?.ready === 'function') {
    // fastify: the server carries fastify's handler from construction; ready() loads the plugins and routes.
    await app.ready();
    return await listenOn(app.server);
  }
  if (typeof app?.callback === 'function' && typeof app?.use === 'function') return await listenOn(createServer(app.callback()));
  if (typeof app === 'function') return await listenOn(createServer(app));
  if (typeof app?.listen === 'function') {
    const started = await new Promise((resolve, reject) => {
      const value = app.listen(0, '127.0.0.1', (error) => (error ? reject(error) : resolve(value)));
      value?.once?.('error', reject);
    });
    if (started instanceof Server) return started;
  }
  throw new JobError(
    'the http app factory returned none of: an http.Server, a request listener (express, connect), a koa app, a fastify instance, a hapi server or a NestJS application',
  );
}

function requestBody(entry, headers) {
  if (entry.body === undefined || entry.method === 'GET' || entry.method === 'HEAD') return undefined;
  const type = Object.entries(headers).find(([name]) => name.toLowerCase() === 'content-type');
  if (type === undefined) headers['content-type'] = 'application/json';
  if (typeof entry.body === 'string' && type !== undefined && !/json/i.test(type[1])) return entry.body;
  return JSON.stringify(entry.body);
}

/** Builds the app, serves it on loopback inside the sandbox and sends the recorded request; resolves to status and body. */
export async function driveHttp(entry, httpApp) {
  if (!httpApp) throw new JobError('an http entry needs httpApp {module, export}');
  const factory = await loadExport(httpApp.module, httpApp.export);
  return await sendToApp(await factory(...(await factoryArguments(httpApp.args))), entry);
}

/** Serves what an app factory built on loopback, sends it the entry's request and closes it; resolves to status and body. */
export async function sendToApp(app, entry) {
  const server = await serve(app);
  try {
    const { port } = server.address();
    const query = new URLSearchParams(entry.query ?? {}).toString();
    const url = `http://127.0.0.1:${port}${entry.path.startsWith('/') ? '' : '/'}${entry.path}${query ? `?${query}` : ''}`;
    const headers = Object.fromEntries(Object.entries(entry.headers ?? {}).filter(([name]) => !DROPPED_REQUEST_HEADERS.has(name.toLowerCase())));
    const body = requestBody(entry, headers);
    const response = await originalFetch(url, { method: entry.method, headers, body });
    const text = await response.text();
    return { status: response.status, body: text.slice(0, MAX_BODY_CHARS) };
  } finally {
    server.closeAllConnections?.();
    await new Promise((resolve) => server.close(() => resolve()));
  }
}
