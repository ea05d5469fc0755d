// Runs the `tracemend` executable in its own process, as an operator would from a shell.
import { runCommand } from '@tracemend/process';
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
export async function runBin(args: readonly string[], env: NodeJS.ProcessEnv, options: { stdin?: string } = {}): Promise<BinResult> {
  const result = await runCommand(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    ...(options.stdin === undefined ? {} : { input: options.stdin }),
  });
  return { code: result.code, stdout: result.stdout.toString('utf8'), stderr: result.stderr.toString('utf8') };
}
