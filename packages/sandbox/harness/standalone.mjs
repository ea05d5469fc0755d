// The replay a regression test runs, bundled into the support file written beside the test: this
// harness's own control of time, randomness, locale and environment, its own downstream replay and its
// own way of calling an entry, around modules the test loads itself (so the test runner's transform and
// module resolution apply). The sandbox and the test therefore replay an incident the same way.
import { beginCapture, endCapture, installCapture, uninstallCapture } from './capture.mjs';
import { beginJob, installDeterminism } from './determinism.mjs';
import { beginDownstream, installDownstream } from './downstream.mjs';
import { callWith, sendToApp } from './drive.mjs';
import { restorePatches, syncBuiltins } from './patches.mjs';

function exported(namespace, name, module) {
  const value = namespace?.[name] ?? namespace?.default?.[name];
  if (value === undefined) throw new Error(`tracemend replay: ${module} has no export ${name}`);
  return value;
}

const PROCESS_EVENTS = ['uncaughtException', 'unhandledRejection'];

/** Replaces the process's error handlers with `onError` until `restore()` puts the earlier ones back. */
function takeProcessHandlers(onError) {
  const saved = PROCESS_EVENTS.map((event) => [event, process.rawListeners(event)]);
  for (const event of PROCESS_EVENTS) {
    process.removeAllListeners(event);
    process.on(event, onError);
  }
  return {
    restore() {
      for (const [event, listeners] of saved) {
        process.removeAllListeners(event);
        for (const listener of listeners) process.on(event, listener);
      }
    },
  };
}

async function factoryArguments(job, modules) {
  const args = job.httpApp.args;
  if (args === undefined) return [];
  if (typeof modules.args !== 'function') throw new Error(`tracemend replay: the test must load ${args.module} (modules.args) for the app factory's arguments`);
  const made = exported(await modules.args(), args.export, args.module);
  const value = typeof made === 'function' ? await made() : made;
  return Array.isArray(value) ? value : [value];
}

/**
 * Replays one incident's job line (as the sandbox harness reads it) against the modules the test loads:
 * `modules.entry()` resolves to the entry's module (the app factory's for an HTTP entry), `modules.args()`
 * to the module of the factory's arguments. Resolves when the entry succeeds; rejects with the error the
 * entry threw, or for an HTTP entry that answered 5xx, with the last exception app code threw meanwhile.
 * Everything replaced for the replay (clock, timers, randomness, locale, fetch, node:http, process.env)
 * is put back before it settles.
 */
export async function replay(job, modules) {
  const env = { ...process.env };
  const http = job.entry.kind === 'http';
  installDeterminism();
  installDownstream();
  if (http) installCapture({ root: `${process.cwd()}/`, coverage: false });
  // What escapes the entry (a rejection nobody awaited) is the replay's to judge, as in the sandbox,
  // not the test runner's: its own handlers would fail the test with that error instead.
  const escaped = [];
  const runnerHandlers = takeProcessHandlers((error) => escaped.push(error));
  try {
    beginJob(job);
    beginDownstream(job.downstream);
    if (http) beginCapture();
    let response;
    let thrown = [];
    try {
      if (http) {
        const factory = exported(await modules.entry(), job.httpApp.export, job.httpApp.module);
        const app = await factory(...(await factoryArguments(job, modules)));
        response = await sendToApp(app, job.entry);
      } else {
        const fn = exported(await modules.entry(), job.entry.export, job.entry.module);
        await callWith(fn, job.entry, job.invocation, () => undefined);
      }
    } finally {
      // Lets fire-and-forget work of the entry surface its errors inside the replay, as the sandbox does.
      await new Promise((resolve) => setImmediate(resolve));
      if (http) thrown = endCapture();
    }
    if (http && response.status >= 500) {
      // The framework turned the exception into a 5xx: the last one app code threw is the one that led there.
      const cause = thrown.at(-1);
      if (cause !== undefined) throw cause.value;
      throw new Error(`${job.entry.method} ${job.entry.path} answered ${response.status}: ${response.body.slice(0, 500)}`);
    }
    if (!http && escaped.length > 0) throw escaped[0];
  } finally {
    runnerHandlers.restore();
    if (http) uninstallCapture();
    restorePatches();
    syncBuiltins();
    for (const key of Object.keys(process.env)) if (!(key in env)) delete process.env[key];
    Object.assign(process.env, env);
  }
}
