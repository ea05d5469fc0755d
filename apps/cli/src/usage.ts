// What each command takes, kept apart from the commands themselves so that printing usage, and
// dispatching a command, loads no command's dependencies (Temporal, Docker, ts-morph).

/** The command line of `tracemend run`, as the usage text and its error messages show it. */
export const RUN_USAGE = 'tracemend run <alert-file> --config <tracemend.config.yaml> [--wait] [--json]';

export const INIT_USAGE = 'tracemend init [dir] [--service <name>] [--write <catalog file>] [--force] [--json]';

/** `tracemend init --help`. */
export const INIT_HELP = `Inspects a repository folder and prints the service catalog entry that onboards it, as YAML
with a comment above each field saying which file and line it rests on, and TODO where it could
not decide. Nothing is sent anywhere and nothing in the folder is run.

  dir                  the repository folder (default: the current one)
  --service <name>     the catalog name (default: package.json name without scope, lowercase);
                       it must equal the service.name the service reports in its telemetry
  --write <file>       add the entry to this catalog file (created when missing), keeping the
                       other services and comments; refuses a service already there
  --force              with --write: replace the service when it is already there
  --json               print the entry, the TODOs and everything found, as JSON

What it reads: the test runner and command (package.json test script, runner config files and
dependencies), the package manager (lockfiles, packageManager), the Node version asked for
(.nvmrc, .node-version, engines.node), the repository (git remote origin), and the entry a replay
drives, best first: handlers declared in serverless.yml, a SAM template or CDK code; exported
express, fastify, koa, hapi, restify or NestJS app factories and apps, node:http request
listeners; Lambda handlers (event, context); queue consumers (kafkajs, SQS, amqplib, BullMQ).
The other candidates are listed in a comment.

Next step: a data contract from a sample alert, tracemend gate --suggest <alert>.`;

export const AUDIT_USAGE = 'usage: tracemend audit verify [--log <file>] [--json]';

export const VAULT_USAGE = 'usage: tracemend vault reveal <token> [--vault <file>] [--json]';

export const EVIDENCE_USAGE = 'usage: tracemend evidence purge --older-than <days>d | erase --values <file|-> [--evidence <dir>] [--json]';

/** The stages an operator can run alone: `tracemend <stage> [file|-] [--config <catalog>]`. */
export const STAGE_COMMANDS = ['ingest', 'gate', 'triage', 'reproduce', 'minimize', 'localize', 'repair', 'verify'] as const;
export type StageCommand = (typeof STAGE_COMMANDS)[number];

export function isStageCommand(command: string): command is StageCommand {
  return (STAGE_COMMANDS as readonly string[]).includes(command);
}
