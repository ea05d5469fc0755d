// Each command's module is imported when that command runs: the others' dependencies (Temporal,
// Docker, ts-morph) would cost seconds of start-up for a command that needs none of them.
import { loadCliConfig } from './env';
import type { CliIo } from './io';
import { EVIDENCE_USAGE, INIT_HELP, INIT_USAGE, isStageCommand, RUN_USAGE } from './usage';
import { findWorkspaceRoot } from '@tracemend/infra';
import { TracemendError } from '@tracemend/contracts';

export const USAGE = `usage: tracemend <command> [options]

commands:
  demo             bring up Temporal, the GitHub emulator, the worker and the gateway, check the
                   machine, and turn the three recorded fixture alerts into pull requests; the
                   stack keeps running (gateway and emulator ports: TRACEMEND_DEMO_GATEWAY_PORT,
                   TRACEMEND_DEMO_GITHUB_PORT, default 8787 and 8790)
  demo --stop      stop what the demo left running, the local Temporal dev server included
  ${RUN_USAGE.replace('tracemend ', '')}
                   submit one alert (OTLP/JSON traces or logs, Sentry event or envelope, JSON log
                   lines, Alertmanager webhook); --wait prints the incident's outcome (--json: the
                   IncidentOutcome)
  ingest|gate|triage|reproduce|minimize|localize|repair|verify [file|-] [--config <catalog>]
                   run one stage over contract JSON (a file or stdin) and print its output:
                   ingest takes a raw alert (read as the gateway reads it), gate a FailureEnvelope,
                   the others their activity input
  gate --dry-run [file|-] [--contract <file>] [--config <catalog>] [--json]
                   show the gate's decision for every field path of an envelope or raw alert
                   (action, sensitivity, rule, detector hits; never a value); writes nothing
  gate --suggest [file|-] [--service <name>] [--json]
                   draft a data contract from a sample alert or envelope: every field path seen,
                   with a proposed action and why (detector hit, key name, OpenTelemetry attribute
                   meaning), in the contract format; never a value
  vault reveal <token> [--vault <file>] [--json]
                   print the raw value behind a token, its type and incidents, from the token vault
                   opened with TRACEMEND_VAULT_KEY; exits 1 when the token is not in the vault
  audit verify [--log <file>] [--json]
                   walk the privacy audit log's hash chain; exits 1 naming the first edited,
                   dropped, reordered or unparseable record
  ${EVIDENCE_USAGE.replace('usage: tracemend ', '')}
                   purge: delete raw alerts, envelopes, raw-value hashes, alert event logs and
                   pending alerts older than the retention from the evidence store; erase: delete
                   the raw alerts, envelopes and vault records holding a data subject's values
  ${INIT_USAGE.replace('tracemend ', '')}
                   inspect a repository folder (default: the current one) and print its service
                   catalog entry as YAML: test runner and command, package manager, Node version,
                   repository from git origin, and the entry a replay drives (HTTP app factory,
                   Lambda handler, queue consumer) with the file and line behind each; --write adds
                   it to a catalog file (--force replaces a service already there)
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
  if (command === 'init') return initCommand(rest, io);
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
      const [{ default: Docker }, { doctorPassed, formatDoctor, runDoctor }] = await Promise.all([import('dockerode'), import('./doctor')]);
      const results = await runDoctor({ config, root, docker: new Docker() });
      io.out(rest.includes('--json') ? JSON.stringify({ passed: doctorPassed(results), checks: results }, null, 2) : formatDoctor(results));
      return doctorPassed(results) ? 0 : 1;
    }
    case 'run': {
      const { parseRunArgs, runAlert } = await import('./run');
      let options;
      try {
        options = parseRunArgs(rest);
      } catch (error) {
        io.err(`tracemend run: ${(error as Error).message}; usage: ${RUN_USAGE}`);
        return 2;
      }
      return runAlert(config, root, io, options);
    }
    case 'vault':
      return (await import('./vault')).runVault(rest, config, root, io);
    case 'audit':
      return (await import('./audit')).runAudit(rest, config, root, io, env);
    case 'evidence':
      return (await import('./evidence')).runEvidence(rest, config, root, io);
    case 'demo': {
      const { runDemo, stopDemo } = await import('./demo');
      if (rest.length === 1 && rest[0] === '--stop') return stopDemo(config, root, io);
      if (rest.length > 0) {
        io.err(`tracemend demo: unexpected arguments ${rest.join(' ')}; usage: tracemend demo [--stop]`);
        return 2;
      }
      return runDemo(config, root, io);
    }
    default:
      if (isStageCommand(command)) {
        try {
          return await (await import('./stage')).runStage(command, rest, io, env);
        } catch (error) {
          // One line naming the problem, even when it quotes input with line breaks (a JSON parse error).
          io.err(`tracemend ${command}: ${(error as Error).message.replace(/\s*\n\s*/g, ' ')}`);
          return 1;
        }
      }
      io.err(`tracemend: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

async function initCommand(args: readonly string[], io: CliIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.out(`usage: ${INIT_USAGE}\n\n${INIT_HELP}`);
    return 0;
  }
  const { parseInitArgs, runInit } = await import('./init');
  let options;
  try {
    options = parseInitArgs(args);
  } catch (error) {
    io.err(`tracemend init: ${(error as Error).message}; usage: ${INIT_USAGE}`);
    return 2;
  }
  try {
    return await runInit(options, io);
  } catch (error) {
    if (!(error instanceof TracemendError)) throw error;
    io.err(`tracemend init: ${error.message}`);
    return 1;
  }
}
