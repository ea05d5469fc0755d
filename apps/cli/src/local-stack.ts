import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findWorkspaceRoot } from '@tracemend/infra';
import { describeExit, runCommand as runChild } from '@tracemend/process';

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
export async function runCommand(file: string, args: string[], options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  try {
    const result = await runChild(file, args, { ...(options.cwd === undefined ? {} : { cwd: options.cwd }), timeoutMs, env: options.env ?? process.env, outputLimitBytes: 4 * 1024 * 1024 });
    const ok = result.code === 0 && !result.timedOut;
    return { ok, stdout: result.stdout.toString('utf8'), stderr: result.stderr.toString('utf8'), ...(ok ? {} : { error: describeExit(file, result, timeoutMs) }) };
  } catch (error) {
    return { ok: false, stdout: '', stderr: '', error: (error as NodeJS.ErrnoException).code === 'ENOENT' ? `${file} not found` : (error as Error).message.split('\n')[0] ?? '' };
  }
}
