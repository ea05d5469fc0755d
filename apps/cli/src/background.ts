import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A process the demo keeps running in the background: its pid file and its log. */
export interface BackgroundProcess {
  name: string;
  pid: number;
  log: string;
  /** Where this process's output starts in the (appended) log. */
  logOffset: number;
}

/** Whether this process has written `text` to its log. */
export async function logSays(proc: BackgroundProcess, text: string): Promise<boolean> {
  return (await readFile(proc.log)).subarray(proc.logOffset).toString('utf8').includes(text);
}

/** This process's log output so far. */
export async function logOf(proc: BackgroundProcess): Promise<string> {
  return (await readFile(proc.log)).subarray(proc.logOffset).toString('utf8');
}

function pidFile(state: string, name: string): string {
  return join(state, 'run', `${name}.pid`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops a background process started by `startBackground` with the same state folder (SIGTERM, then
 * SIGKILL after 10 s).
 */
export async function stopBackground(state: string, name: string): Promise<boolean> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile(state, name), 'utf8').trim());
  } catch {
    return false;
  }
  rmSync(pidFile(state, name), { force: true });
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  return true;
}

/**
 * Starts a TypeScript entry (`node --import tsx <entry>`) detached, logging to
 * `<state>/logs/<name>.log` and recording its pid under `<state>/run`; a previous instance is stopped
 * first. `state` is the state folder (`.tracemend`, or `TRACEMEND_STATE_DIR`), so two state folders
 * never stop each other's processes.
 */
export async function startBackground(
  state: string,
  options: { name: string; cwd: string; entry: string; args?: string[]; env?: NodeJS.ProcessEnv },
): Promise<BackgroundProcess> {
  await stopBackground(state, options.name);
  mkdirSync(join(state, 'logs'), { recursive: true });
  mkdirSync(join(state, 'run'), { recursive: true });
  const log = join(state, 'logs', `${options.name}.log`);
  const output = openSync(log, 'a');
  const logOffset = statSync(log).size;
  const child = spawn(process.execPath, ['--import', 'tsx', options.entry, ...(options.args ?? [])], {
    cwd: options.cwd,
    detached: true,
    stdio: ['ignore', output, output],
    env: { ...process.env, ...options.env },
  });
  child.unref();
  if (child.pid === undefined) throw new Error(`${options.name} did not start; see ${log}`);
  writeFileSync(pidFile(state, options.name), `${child.pid}\n`);
  return { name: options.name, pid: child.pid, log, logOffset };
}

/** Waits until `ready` answers true, failing early when the process died. */
export async function waitFor(proc: BackgroundProcess, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready().catch(() => false))) {
    if (!alive(proc.pid)) throw new Error(`${proc.name} exited during start-up; see ${proc.log}`);
    if (Date.now() > deadline) throw new Error(`${proc.name} was not ready within ${timeoutMs} ms; see ${proc.log}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
