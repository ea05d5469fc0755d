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

async function loadExport(modulePath, exportName) {
  if (typeof modulePath !== 'string' || modulePath === '' || modulePath.startsWith('/') || modulePath.split('/').includes('..')) {
    throw new JobError(`the module must be a repo-relative path, got ${JSON.stringify(modulePath)}`);
  }
  const namespace = await import(pathToFileURL(moduleFile(REPO_ROOT, modulePath)).href);
  const exported = namespace[exportName];
  if (typeof exported !== 'function') throw new JobError(`${modulePath} has no exported function ${exportName}`);
  return exported;
}

/** Calls the exported function with the revived arguments; resolves to its awaited value. */
export async function driveFunction(entry, onUnrecorded) {
  const fn = await loadExport(entry.module, entry.export);
  const args = reviveStubs(Array.isArray(entry.args) ? entry.args : [], onUnrecorded);
  // Called without a receiver so stack frames read `topUsers`, as in production, not `Module.topUsers`.
  return await fn(...args);
}

/** Calls the handler with the payload only; it builds its own dependencies from env and flags. */
export async function driveMessage(entry, onUnrecorded) {
  const fn = await loadExport(entry.module, entry.export);
  return await fn(reviveStubs(entry.payload, onUnrecorded));
}

async function listen(app) {
  const server = app instanceof Server ? app : typeof app?.listen === 'function' ? undefined : typeof app === 'function' ? createServer(app) : undefined;
  if (server) {
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    return server;
  }
  if (typeof app?.listen !== 'function') throw new JobError('the http app export returned neither an app with listen(), a request listener nor an http.Server');
  return await new Promise((resolve, reject) => {
    const started = app.listen(0, '127.0.0.1', (error) => (error ? reject(error) : resolve(started)));
    started?.once?.('error', reject);
  });
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
  const server = await listen(await factory());
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
