// Observes exceptions and coverage through an in-process inspector session (no framework hooks).
import { readFile } from 'node:fs/promises';
import { Session } from 'node:inspector';
import { checkoutPath } from './prepared.mjs';

// The checkout's root inside the sandbox; a regression test replaying outside it passes its own.
let repoRoot = '/work/';
const V8_FRAME = /^\s*at (?:(.+?) \()?((?:node:|file:\/\/|\/)[^()]*?):(\d+):(\d+)\)?\s*$/;
const MAX_FRAMES = 32;
const MAX_MESSAGE = 4_000;
const MAX_SOURCE_CHARS = 1_000_000;
const MAX_COVERED_SCRIPTS = 200;
const RECORD_EXCEPTION = Symbol.for('tracemend.harness.recordException');

const session = new Session();
let recording = false;
let exceptions = [];
let seen = new WeakSet();
const sourceSent = new Set();

function post(method, params) {
  let failure;
  let result;
  session.post(method, params, (error, value) => {
    failure = error;
    result = value;
  });
  if (failure) throw failure;
  return result;
}

function postAsync(method, params) {
  return new Promise((resolve, reject) => session.post(method, params, (error, value) => (error ? reject(error) : resolve(value))));
}

function pathOf(file) {
  return file.startsWith('file://') ? decodeURIComponent(file.slice('file://'.length).replace(/\?.*$/, '')) : file;
}

/** Repo-relative path of a file under /work outside node_modules, else undefined. */
export function repoRelative(file) {
  const path = checkoutPath(pathOf(file), repoRoot);
  if (!path.startsWith(repoRoot) || path.includes('/node_modules/')) return undefined;
  return path.slice(repoRoot.length);
}

/** Frames of a V8 stack string, top first; repo files made relative and marked in-app. */
export function parseStack(stack) {
  const frames = [];
  for (const line of String(stack ?? '').split('\n')) {
    const match = V8_FRAME.exec(line);
    if (!match) continue;
    const [, name, file, lineText, columnText] = match;
    const relative = repoRelative(file);
    frames.push({
      function: (name ?? '<anonymous>').replace(/^async /, '').trim() || '<anonymous>',
      file: relative ?? pathOf(file),
      line: Number(lineText),
      column: Number(columnText),
      inApp: relative !== undefined,
    });
    if (frames.length >= MAX_FRAMES) break;
  }
  return frames;
}

/**
 * Whether repository code threw it or called what threw it: a repository frame is on the stack. A throw
 * inside a dependency called from repository code counts (its signature takes the repository frames);
 * one raised by framework or Node internals alone, with no repository frame, does not.
 */
export function thrownByApp(frames) {
  return frames.some((frame) => frame.inApp);
}

/** The {type, message, frames} of a thrown value. */
export function describeError(value) {
  if (value instanceof Error || (typeof value === 'object' && value !== null && 'stack' in value)) {
    const named = typeof value.name === 'string' && value.name !== '' ? value.name : undefined;
    const type = named ?? (value.constructor?.name && value.constructor.name !== 'Object' ? value.constructor.name : 'Error');
    return { type, message: String(value.message ?? '').slice(0, MAX_MESSAGE), frames: parseStack(value.stack) };
  }
  return { type: value === null ? 'null' : typeof value, message: String(value).slice(0, MAX_MESSAGE), frames: [] };
}

function onPaused(message) {
  try {
    const { reason, data } = message.params;
    if (!recording || (reason !== 'exception' && reason !== 'promiseRejection') || data?.objectId === undefined) return;
    // Runs in the paused context: hands the thrown object itself to the harness, once per object.
    post('Runtime.callFunctionOn', {
      objectId: data.objectId,
      functionDeclaration: `function () { const record = globalThis[Symbol.for('tracemend.harness.recordException')]; if (record) record(this); }`,
      silent: true,
    });
  } catch {
    // A failed inspection must never leave the program paused.
  } finally {
    try {
      post('Debugger.resume');
    } catch {
      // Already running.
    }
  }
}

function recordException(value) {
  if (!recording || (typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) return;
  seen.add(value);
  const error = describeError(value);
  if (thrownByApp(error.frames)) exceptions.push({ value, error });
}

/**
 * Connects the session; pauses happen only while a job is being driven. `root` is the checkout's
 * directory (with a trailing slash) whose files outside node_modules count as app code; `coverage`
 * starts V8 precise coverage, which must happen before any repository module loads.
 */
export function installCapture({ root = '/work/', coverage = true } = {}) {
  repoRoot = root.endsWith('/') ? root : `${root}/`;
  Object.defineProperty(globalThis, RECORD_EXCEPTION, { value: recordException, enumerable: false, configurable: true });
  session.connect();
  session.on('Debugger.paused', onPaused);
  post('Debugger.enable');
  post('Runtime.enable');
  if (coverage) {
    // Block counters exist only in code compiled after this, so coverage is on before any repo module loads.
    post('Profiler.enable');
    post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }
}

/** Disconnects the session, for a process that goes on running after the replay (a test runner's). */
export function uninstallCapture() {
  recording = false;
  session.off('Debugger.paused', onPaused);
  session.disconnect();
  delete globalThis[RECORD_EXCEPTION];
}

/** Starts recording exceptions thrown by app code (each thrown object once). */
export function beginCapture() {
  exceptions = [];
  seen = new WeakSet();
  recording = true;
  post('Debugger.setPauseOnExceptions', { state: 'all' });
}

/** Stops recording; returns the exceptions thrown by app code, in order. */
export function endCapture() {
  recording = false;
  post('Debugger.setPauseOnExceptions', { state: 'none' });
  return exceptions;
}

/** Resets the coverage counters. */
export async function beginCoverage() {
  await postAsync('Profiler.takePreciseCoverage');
}

/**
 * Coverage of the repository's own scripts since `beginCoverage`: V8 functions and ranges per script,
 * with the generated source (tsx inlines its source map) the first time a script is reported, and the
 * repository file's own text when that differs (the original a source map points at).
 */
export async function endCoverage() {
  const { result } = await postAsync('Profiler.takePreciseCoverage');
  const scripts = [];
  for (const script of result) {
    const file = repoRelative(script.url);
    if (file === undefined || !script.url.startsWith('file://')) continue;
    const entry = { file, url: script.url.replace(/\?.*$/, ''), scriptId: script.scriptId, functions: script.functions };
    if (!sourceSent.has(entry.url)) {
      const { scriptSource } = await postAsync('Debugger.getScriptSource', { scriptId: script.scriptId });
      if (scriptSource.length <= MAX_SOURCE_CHARS) {
        entry.source = scriptSource;
        // Transpiled code: the host maps coverage onto this text when the source map does not carry it.
        const original = await readFile(repoRoot + file, 'utf8').catch(() => undefined);
        if (original !== undefined && original !== scriptSource && original.length <= MAX_SOURCE_CHARS) entry.original = original;
        sourceSent.add(entry.url);
      } else {
        entry.sourceOmitted = 'too-large';
      }
    }
    scripts.push(entry);
    if (scripts.length >= MAX_COVERED_SCRIPTS) break;
  }
  return scripts;
}
