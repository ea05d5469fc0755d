import Docker from 'dockerode';
import { runDemo } from './demo';
import { doctorPassed, formatDoctor, runDoctor } from './doctor';
import { loadCliConfig } from './env';
import type { CliIo } from './io';
import { findWorkspaceRoot } from '@tracemend/infra';

export const USAGE = `usage: tracemend <command> [options]

commands:
  demo             bring up Temporal and the worker, check the machine, run the demo incident
  doctor [--json]  check Node, pnpm, the temporal CLI, Temporal, Docker, the sandbox image,
                   the GitHub target and the LLM provider; exits 1 when a required part is missing
  help             show this text`;

/** Runs one `tracemend` command and returns its exit code; never calls process.exit. */
export async function runCli(argv: string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    io.out(USAGE);
    return command === undefined ? 2 : 0;
  }
  let config;
  try {
    config = loadCliConfig(env);
  } catch (error) {
    io.err(`tracemend: ${(error as Error).message}`);
    return 2;
  }
  const root = findWorkspaceRoot();
  switch (command) {
    case 'doctor': {
      const unknown = rest.filter((arg) => arg !== '--json');
      if (unknown.length > 0) {
        io.err(`tracemend doctor: unknown option ${unknown.join(' ')}\n${USAGE}`);
        return 2;
      }
      const results = await runDoctor({ config, root, docker: new Docker() });
      io.out(rest.includes('--json') ? JSON.stringify({ passed: doctorPassed(results), checks: results }, null, 2) : formatDoctor(results));
      return doctorPassed(results) ? 0 : 1;
    }
    case 'demo':
      if (rest.length > 0) {
        io.err(`tracemend demo: unexpected arguments ${rest.join(' ')}`);
        return 2;
      }
      return runDemo(config, root, io);
    default:
      io.err(`tracemend: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}
