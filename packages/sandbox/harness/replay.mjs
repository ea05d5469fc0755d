// The resident replay harness: `node --enable-source-maps --import tsx /harness/replay.mjs`, cwd /work, or
// `node --enable-source-maps /harness/replay.mjs --prepared=<dir>` on a prepared JavaScript tree (prepared.mjs).
// Reads one job per stdin line, answers one marker-prefixed JSON line per job on stdout, until stdin closes.
// A job that runs past its `timeoutMs` (default 30 s) gets a `{"outcome":"timeout"}` line and the process
// is killed (watchdog.mjs), so a hung job never outlives its limit, with or without a host watching.
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { beginCapture, beginCoverage, describeError, endCapture, endCoverage, installCapture } from './capture.mjs';
import { beginJob, installDeterminism, realNow } from './determinism.mjs';
import { beginDownstream, installDownstream, unrecordedCalls } from './downstream.mjs';
import { driveCall, driveHttp, JobError } from './drive.mjs';

/** Prefix of every harness line on stdout; service output never starts with it. */
export const RESULT_MARKER = '\u001eTRACEMEND\u001e';

const MAX_VALUE_CHARS = 16_384;
/** The per-job limit when a job line names none; the host's default per-job limit too. */
const DEFAULT_JOB_TIMEOUT_MS = 30_000;
const write = process.stdout.write.bind(process.stdout);
const realExit = process.exit.bind(process);
let current;

function emit(message) {
  write(`\n${RESULT_MARKER}${JSON.stringify(message)}\n`);
}

function boundedValue(value) {
  if (value === undefined) return {};
  let text;
  try {
    text = JSON.stringify(value);
  } catch {
    return { valueOmitted: 'not-json' };
  }
  if (text === undefined) return {};
  return text.length <= MAX_VALUE_CHARS ? { value: JSON.parse(text) } : { valueOmitted: 'too-large' };
}

function errorOf(value) {
  return describeError(value);
}

process.on('uncaughtException', (error) => {
  if (current) current.escaped.push(error);
  else emit({ id: null, outcome: 'harness-error', message: `uncaught outside a job: ${errorOf(error).type}: ${errorOf(error).message}` });
});
process.on('unhandledRejection', (reason) => {
  if (current) current.escaped.push(reason);
});

async function drive(job, onUnrecorded) {
  const { entry } = job;
  switch (entry?.kind) {
    case 'function':
    case 'message':
      return { value: await driveCall(entry, job.invocation, onUnrecorded) };
    case 'http':
      return await driveHttp(entry, job.httpApp);
    default:
      throw new JobError(`unknown entry kind ${JSON.stringify(entry?.kind)}`);
  }
}

async function runJob(job) {
  const started = realNow();
  const state = { escaped: [], stubMisses: [] };
  current = state;
  beginJob(job);
  beginDownstream(job.downstream);
  if (job.coverage) await beginCoverage();
  let thrown;
  let threw = false;
  let driven;
  let appExceptions;
  beginCapture();
  try {
    driven = await drive(job, (call) => state.stubMisses.push(call));
  } catch (error) {
    threw = true;
    thrown = error;
  } finally {
    // Lets fire-and-forget work of the entry surface its errors inside this job.
    await new Promise((resolve) => setImmediate(resolve));
    appExceptions = endCapture();
    current = undefined;
  }
  if (threw && thrown instanceof JobError) return { id: job.id, outcome: 'harness-error', message: thrown.message, durationMs: realNow() - started };

  const result = { id: job.id, unrecordedCalls: [...unrecordedCalls(), ...state.stubMisses] };
  if (job.entry.kind === 'http' && !threw) {
    result.outcome = 'http';
    result.httpStatus = driven.status;
    result.httpBody = driven.body;
    // The framework turned the exception into a 5xx: the last one app code threw is the one that led there.
    const cause = appExceptions.at(-1);
    if (driven.status >= 500 && cause) result.error = cause.error;
  } else if (threw) {
    result.outcome = 'threw';
    result.error = errorOf(thrown);
  } else if (state.escaped.length > 0) {
    result.outcome = 'threw';
    result.error = errorOf(state.escaped[0]);
  } else {
    result.outcome = 'returned';
    Object.assign(result, boundedValue(driven.value));
  }
  result.appExceptions = appExceptions.length;
  if (job.coverage) result.coverage = await endCoverage();
  result.durationMs = realNow() - started;
  return result;
}

/** The limit the job line asks for (`timeoutMs`, a positive integer), else the default. */
function jobTimeoutMs(job) {
  return Number.isSafeInteger(job?.timeoutMs) && job.timeoutMs > 0 ? job.timeoutMs : DEFAULT_JOB_TIMEOUT_MS;
}

/** Starts the watchdog thread (watchdog.mjs) that ends the process when a job outlives its limit. */
async function startWatchdog() {
  const worker = new Worker(new URL('./watchdog.mjs', import.meta.url), { workerData: { marker: RESULT_MARKER }, execArgv: [], env: {} });
  await once(worker, 'online');
  // Referenced until online, or the process could end while it waits; afterwards stdin keeps it alive.
  worker.unref();
  worker.on('error', (error) => emit({ id: null, outcome: 'harness-error', message: `the job watchdog failed: ${errorOf(error).message}` }));
  return worker;
}

/** Runs one job under the watchdog: past its limit the watchdog reports a timeout and kills the process. */
async function runWatched(watchdog, job) {
  watchdog.postMessage({ start: true, id: typeof job?.id === 'string' ? job.id : null, timeoutMs: jobTimeoutMs(job) });
  try {
    return await runJob(job);
  } finally {
    watchdog.postMessage({ start: false });
  }
}

async function main() {
  const watchdog = await startWatchdog();
  installDeterminism();
  installDownstream();
  installCapture();
  process.exit = (code) => {
    throw new Error(`tracemend replay: the service called process.exit(${code ?? ''})`);
  };
  emit({ ready: true, node: process.version });

  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let job;
    try {
      job = JSON.parse(line);
    } catch (error) {
      emit({ id: null, outcome: 'harness-error', message: `unreadable job line: ${errorOf(error).message}` });
      continue;
    }
    try {
      emit(await runWatched(watchdog, job));
    } catch (error) {
      current = undefined;
      const { type, message } = errorOf(error);
      emit({ id: job?.id ?? null, outcome: 'harness-error', message: `${type}: ${message}` });
    }
  }
  realExit(0);
}

main().catch((error) => {
  const { type, message } = errorOf(error);
  emit({ id: null, outcome: 'harness-error', message: `the harness failed: ${type}: ${message}` });
  realExit(70);
});
