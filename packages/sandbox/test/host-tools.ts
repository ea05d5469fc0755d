import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** What one recorded invocation of a tool saw: its user, group, arguments and whole environment. */
export interface ToolCall {
  readonly uid: number;
  readonly gid: number;
  readonly args: string;
  readonly env: Record<string, string>;
}

/**
 * A folder of stand-ins for host tools (git, npm) to put first on PATH: each records who ran it, with
 * which arguments and environment, then runs the real tool, or instead of that runs `body` (a shell
 * snippet). The folder is world-readable and its log world-writable, so a tool run as another user
 * records too.
 */
export interface ToolRecorder {
  readonly binDir: string;
  readonly logDir: string;
  /** Installs a recording stand-in for `tool`; `body` replaces running the real tool. */
  wrap(tool: string, body?: string): Promise<void>;
  /** The recorded invocations of `tool`, in order. */
  calls(tool: string): Promise<ToolCall[]>;
  /** Removes the stand-ins and their logs. */
  remove(): Promise<void>;
}

export async function toolRecorder(): Promise<ToolRecorder> {
  const base = await mkdtemp(join(tmpdir(), 'tracemend-tools-'));
  const binDir = join(base, 'bin');
  const logDir = join(base, 'log');
  await mkdir(binDir);
  await mkdir(logDir);
  await chmod(base, 0o755);
  await chmod(logDir, 0o777);
  return {
    binDir,
    logDir,
    async wrap(tool, body) {
      const real = (await execFileAsync('sh', ['-c', `command -v ${tool}`])).stdout.trim();
      const log = join(logDir, tool);
      const script = [
        '#!/bin/sh',
        `{ echo "@@call uid=$(id -u) gid=$(id -g)"; echo "@@args $*"; env; } >> ${log}`,
        body ?? `exec ${real} "$@"`,
        '',
      ].join('\n');
      await writeFile(join(binDir, tool), script, { mode: 0o755 });
      // Whoever runs first, every later user may append.
      await writeFile(log, '');
      await chmod(log, 0o666);
    },
    remove: () => rm(base, { recursive: true, force: true }),
    async calls(tool) {
      const text = await readFile(join(logDir, tool), 'utf8');
      return text
        .split('@@call ')
        .filter((part) => part.trim() !== '')
        .map((part) => {
          const [head = '', argsLine = '', ...envLines] = part.split('\n');
          const env: Record<string, string> = {};
          for (const line of envLines) {
            const equals = line.indexOf('=');
            if (equals > 0) env[line.slice(0, equals)] = line.slice(equals + 1);
          }
          return {
            uid: Number(/uid=(\d+)/.exec(head)?.[1]),
            gid: Number(/gid=(\d+)/.exec(head)?.[1]),
            args: argsLine.replace(/^@@args /, ''),
            env,
          };
        });
    },
  };
}

/** Whether a process with this id is still running (and not a zombie). */
export async function processAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return !/^State:\s+Z/m.test(status);
}
