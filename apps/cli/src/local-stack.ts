import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout this CLI belongs to: the nearest ancestor of this file holding pnpm-workspace.yaml. */
export function workspaceRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no pnpm-workspace.yaml above ${from}`);
    dir = parent;
  }
  return dir;
}

/** Project-local, git-ignored state: logs, pid files, the Temporal database, the bootstrap's links. */
export function stateDir(root: string = workspaceRoot()): string {
  return join(root, '.tracemend');
}

/** The temporal CLI the bootstrap linked into the state folder, else `temporal` on PATH. */
export function temporalCli(root: string = workspaceRoot()): string {
  const linked = join(stateDir(root), 'bin', 'temporal');
  return existsSync(linked) ? linked : 'temporal';
}

/** The root package.json fields the checks compare against. */
export function rootManifest(root: string = workspaceRoot()): { packageManager?: string; engines?: { node?: string } } {
  return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { packageManager?: string; engines?: { node?: string } };
}

export interface CommandResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  error?: string;
}

/** Runs a program without a shell and never throws: a missing binary or a non-zero exit is a result. */
export function runCommand(file: string, args: string[], options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, timeout: options.timeoutMs ?? 15_000, env: options.env ?? process.env, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({
          ok: error === null,
          stdout: String(stdout),
          stderr: String(stderr),
          ...(error ? { error: (error as NodeJS.ErrnoException).code === 'ENOENT' ? `${file} not found` : error.message.split('\n')[0] } : {}),
        });
      },
    );
  });
}
