// Runs the `tracemend` executable in its own process, as an operator would from a shell.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The installed executable (`bin/tracemend.js`). */
export const BIN = fileURLToPath(new URL('../bin/tracemend.js', import.meta.url));

export interface BinResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `tracemend <args>` with only PATH, HOME and `env` in its environment, so nothing of the test
 * process's settings leaks in; `stdin` is written to its standard input (else the input is closed).
 */
export function runBin(args: readonly string[], env: NodeJS.ProcessEnv, options: { stdin?: string } = {}): Promise<BinResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  });
}
