// Serves recorded downstream calls to globalThis.fetch; anything unrecorded fails loudly.

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

function takeRecorded(method, url) {
  const free = (index) => !consumed[index];
  let index = recorded.findIndex((call, position) => free(position) && call.method === method && call.url === url);
  if (index < 0) index = recorded.findIndex((call, position) => free(position) && matchesTemplate(call, method, url));
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
  if (call === undefined) {
    const description = `${method} ${absolute}`;
    unrecorded.push(description);
    throw new Error(`tracemend replay: unrecorded downstream call ${description}`);
  }
  return responseFor(call);
}

/** Replaces globalThis.fetch with the replaying one. node:http/https requests are not intercepted. */
export function installDownstream() {
  globalThis.fetch = replayFetch;
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
