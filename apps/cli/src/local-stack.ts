import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findWorkspaceRoot } from '@tracemend/infra';

/** The root package.json fields the checks compare against. */
export function rootManifest(root: string = findWorkspaceRoot()): { packageManager?: string; engines?: { node?: string } } {
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
