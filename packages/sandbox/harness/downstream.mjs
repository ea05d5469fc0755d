// Serves recorded downstream calls to globalThis.fetch and node:http/https requests; anything unrecorded fails loudly.
import http from 'node:http';
import https from 'node:https';
import { Duplex } from 'node:stream';
import { patch, syncBuiltins } from './patches.mjs';

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** The fetch the service would have had; the harness uses it to send the recorded HTTP request. */
export const originalFetch = globalThis.fetch;

let recorded = [];
let consumed = [];
let unrecorded = [];

function templatePattern(template) {
  const escaped = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}/]+\\?\}/g, '[^/?#]+');
  return new RegExp(`^${escaped}$`);
}

function matchesTemplate(call, method, url) {
  if (call.method !== method || typeof call.urlTemplate !== 'string' || call.urlTemplate === '') return false;
  let target;
  try {
    target = new URL(url);
  } catch {
    return false;
  }
  if (call.urlTemplate.startsWith('/')) {
    // A path template: the origin must be the recorded call's.
    let origin;
    try {
      origin = new URL(call.url).origin;
    } catch {
      return false;
    }
    return origin === target.origin && templatePattern(call.urlTemplate).test(target.pathname);
  }
  return templatePattern(call.urlTemplate).test(`${target.origin}${target.pathname}`);
}

/** Host name and path of a URL, for a call whose scheme, port or query the replay's configuration changed. */
function hostPath(url) {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}${parsed.pathname}`;
  } catch {
    return undefined;
  }
}

/**
 * The recorded call that answers a request: the same URL, else one its template matches, else the same
 * host and path on another port, scheme or query (the service's base URL comes from configuration the
 * trace does not carry, e.g. `http://rates.internal` in code and `http://rates.internal:8443` deployed).
 */
function takeRecorded(method, url) {
  const free = (index) => !consumed[index];
  let index = recorded.findIndex((call, position) => free(position) && call.method === method && call.url === url);
  if (index < 0) index = recorded.findIndex((call, position) => free(position) && matchesTemplate(call, method, url));
  const wanted = hostPath(url);
  if (index < 0 && wanted !== undefined) index = recorded.findIndex((call, position) => free(position) && call.method === method && hostPath(call.url) === wanted);
  if (index < 0) return undefined;
  consumed[index] = true;
  return recorded[index];
}

function isJson(headers) {
  const type = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === 'content-type')?.[1];
  return type === undefined || /json/i.test(type);
}

function responseFor(call) {
  const status = call.status;
  const headers = { ...(call.responseHeaders ?? {}) };
  let body = null;
  if (!NULL_BODY_STATUSES.has(status) && call.responseBody !== undefined) {
    body = typeof call.responseBody === 'string' && !isJson(headers) ? call.responseBody : JSON.stringify(call.responseBody);
  }
  return new Response(body, { status, headers });
}

function unrecordedError(method, url) {
  const description = `${method} ${url}`;
  unrecorded.push(description);
  return new Error(`tracemend replay: unrecorded downstream call ${description}`);
}

async function replayFetch(input, init) {
  const request = input instanceof Request ? input : undefined;
  const url = request ? request.url : String(input instanceof URL ? input.href : input);
  const method = String(init?.method ?? request?.method ?? 'GET').toUpperCase();
  let absolute = url;
  try {
    absolute = new URL(url).href;
  } catch {
    // Left as given; it will not match any recorded call.
  }
  const call = takeRecorded(method, absolute) ?? (absolute === url ? undefined : takeRecorded(method, url));
  if (call === undefined) throw unrecordedError(method, absolute);
  return responseFor(call);
}

const HOP_BY_HOP_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

function rawResponse(call) {
  const status = Number.isInteger(call.status) ? call.status : 200;
  const headers = Object.entries(call.responseHeaders ?? {}).filter(([name]) => !HOP_BY_HOP_HEADERS.has(name.toLowerCase()));
  let body = '';
  if (!NULL_BODY_STATUSES.has(status) && call.responseBody !== undefined) {
    body = typeof call.responseBody === 'string' && !isJson(call.responseHeaders) ? call.responseBody : JSON.stringify(call.responseBody);
  }
  const payload = Buffer.from(body);
  const clean = (text) => String(text).replace(/[\r\n]+/g, ' ');
  const lines = [`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Unknown'}`, ...headers.map(([name, value]) => `${clean(name)}: ${clean(value)}`)];
  if (!NULL_BODY_STATUSES.has(status)) lines.push(`content-length: ${payload.length}`);
  lines.push('connection: close', '', '');
  return Buffer.concat([Buffer.from(lines.join('\r\n')), payload]);
}

/**
 * A socket for one node:http(s) request that never reaches the network: it reads the request head
 * Node writes, then answers with the recorded response as raw HTTP (so Node's own parser builds the
 * IncomingMessage) or fails with the same error fetch throws for an unrecorded call.
 */
function replaySocket(protocol) {
  let head = '';
  let answered = false;
  const socket = new Duplex({
    read() {},
    write(chunk, _encoding, done) {
      if (!answered) {
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end >= 0) {
          answered = true;
          const [requestLine = '', ...headerLines] = head.slice(0, end).split('\r\n');
          const [method = 'GET', path = '/'] = requestLine.split(' ');
          const host = headerLines.find((line) => /^host:/i.test(line))?.slice(5).trim() ?? 'localhost';
          let url = `${protocol}//${host}${path}`;
          try {
            url = new URL(url).href;
          } catch {
            // Left as written; it will not match any recorded call.
          }
          const call = takeRecorded(method.toUpperCase(), url);
          if (call === undefined) {
            const error = unrecordedError(method.toUpperCase(), url);
            process.nextTick(() => socket.destroy(error));
          } else {
            socket.push(rawResponse(call));
            socket.push(null);
          }
        }
      }
      done();
    },
  });
  Object.assign(socket, {
    connecting: false,
    remoteAddress: '127.0.0.1',
    setTimeout: () => socket,
    setNoDelay: () => socket,
    setKeepAlive: () => socket,
    ref: () => socket,
    unref: () => socket,
  });
  return socket;
}

function replayRequest(module, protocol) {
  const realRequest = module.request;
  // Without an agent Node takes the default port (which decides the Host header) from the options.
  const replaced = { agent: null, defaultPort: protocol === 'https:' ? 443 : 80, createConnection: () => replaySocket(protocol) };
  const request = (input, options, callback) => {
    if (typeof input === 'string' || input instanceof URL) {
      return typeof options === 'function' || options === undefined
        ? realRequest(input, replaced, options)
        : realRequest(input, { ...options, ...replaced }, callback);
    }
    return realRequest({ ...input, ...replaced }, options);
  };
  const get = (...args) => {
    const outgoing = request(...args);
    outgoing.end();
    return outgoing;
  };
  return { request, get };
}

/**
 * Replaces globalThis.fetch and node:http/https `request` and `get` with replaying versions. Other
 * sockets (net, tls, undici's own client) are not intercepted; with no network they fail to connect.
 */
export function installDownstream() {
  patch(globalThis, 'fetch', replayFetch);
  for (const [module, protocol] of [[http, 'http:'], [https, 'https:']]) {
    for (const [name, value] of Object.entries(replayRequest(module, protocol))) patch(module, name, value);
  }
  syncBuiltins();
}

/** Arms the recorded calls of one job; each is served once, in recorded order among equal matches. */
export function beginDownstream(calls) {
  recorded = Array.isArray(calls) ? calls.map((call) => ({ ...call, method: String(call.method).toUpperCase() })) : [];
  consumed = recorded.map(() => false);
  unrecorded = [];
}

/** The calls of the current job that had no recording. */
export function unrecordedCalls() {
  return [...unrecorded];
}
