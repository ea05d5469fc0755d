import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { FailureEnvelope, STAGE_ACTIVITIES, TracemendError, parseContract, type RawAlertRef, type StageActivities, type StageActivityName } from '@tracemend/contracts';
import { detectAlertText, envelopeOfReading, readAlert, type EvidenceStore } from '@tracemend/ingest';
import { createLogger } from '@tracemend/telemetry';
import { loadWorkerConfig } from '@tracemend/worker/env';
import { runGateDryRun } from './gate-dry-run';
import { runGateSuggest } from './gate-suggest';
import type { CliIo } from './io';
import type { StageCommand } from './usage';

/** `tracemend gate --help`. */
export const GATE_HELP = `usage: tracemend gate [file|-] [--config <catalog>]
       tracemend gate --dry-run [file|-] [--contract <file>] [--config <catalog>] [--json]
       tracemend gate --suggest [file|-] [--service <name>] [--json]

  (no option)   gate a FailureEnvelope with its service's data contract from the catalog and print
                the GatedEnvelope, as the worker's gate stage does (audit record, tokens, vault)
  --dry-run     show the gate's decision for every field path of an envelope or raw alert under a
                contract (--contract, else the catalog's): action, sensitivity, rule, detector hits;
                never a value, writes nothing; exits 1 when the gate would refuse the envelope
  --suggest     draft a data contract from a sample alert or envelope: every field path seen, with
                a proposed action and sensitivity and the reason in its note (a detector hit on the
                value, a key naming personal data or a credential, the meaning of an OpenTelemetry
                attribute); printed in the contract format, never a value, writes nothing. Review
                it, then save it where the catalog's dataContract points
  --service     with --suggest: the contract's service (default: the service the alert names)
  --json        with --dry-run or --suggest: print JSON

The input is a file or stdin (-): an ungated FailureEnvelope, or a raw alert in any format
tracemend ingest reads (OTLP/JSON traces, a Sentry event or envelope, JSON log lines), read alone.`;


async function readInput(path: string | undefined, stdin: () => Promise<string>): Promise<string> {
  return path === undefined || path === '-' ? stdin() : readFile(resolve(path), 'utf8');
}

/** `text` as JSON, or INVALID_INPUT naming `name` on one line (the parser quotes the text, line breaks included). */
export function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new TracemendError('INVALID_INPUT', `${name} is not JSON: ${(error as Error).message.replace(/\s+/g, ' ')}`);
  }
}

/**
 * Reads an alert as the gateway does and stores it: a failure with the trace ids and service it
 * names, evidence for its traces (then NO_FAILURE_IN_ALERT saying why it starts nothing, as the
 * gateway answers). Returns the alert the ingest stage starts from: the failing trace that log
 * lines joined, else the alert itself.
 */
async function storeAlert(store: EvidenceStore, text: string): Promise<RawAlertRef> {
  const { format, json } = detectAlertText(text);
  const bytes = Buffer.from(text, 'utf8');
  const receivedAt = new Date().toISOString();
  const source = { alertId: createHash('sha256').update(bytes).digest('hex'), receivedAt };
  const reading = await readAlert({ store, bytes, format, source, ...(json === undefined ? {} : { json }) });
  if (reading.kind === 'evidence') await store.putAlert({ bytes, format, receivedAt, traceIds: reading.traceIds });
  const envelope = envelopeOfReading(reading);
  const stored = await store.putAlert({ bytes, format, receivedAt, serviceHint: envelope.identity.service, traceIds: reading.traceIds });
  return reading.kind === 'failure' && reading.basis ? reading.basis : stored;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Runs one stage over contract JSON: `ingest` reads a raw alert and prints the FailureEnvelope (still
 * ungated: keep it on the operator's machine); `gate` reads a FailureEnvelope and prints the
 * GatedEnvelope; every other stage reads its activity input and prints its output, as the workflow
 * would pass them. The stages are the worker's own, built with the same configuration.
 * `gate --dry-run [--contract <file>] [--json]` only shows the gate's decision per field path and
 * writes nothing (see gate-dry-run.ts).
 */
export async function runStage(
  command: StageCommand,
  args: readonly string[],
  io: CliIo,
  env: NodeJS.ProcessEnv,
  stdin: () => Promise<string> = readStdin,
): Promise<number> {
  if (command === 'gate' && (args.includes('--help') || args.includes('-h'))) {
    io.out(GATE_HELP);
    return 0;
  }
  let file: string | undefined;
  let catalog: string | undefined;
  let contractFile: string | undefined;
  let dryRun = false;
  let suggest = false;
  let service: string | undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--config') catalog = args[++i];
    else if (command === 'gate' && arg === '--dry-run') dryRun = true;
    else if (command === 'gate' && arg === '--suggest') suggest = true;
    else if (command === 'gate' && arg === '--service') {
      service = args[++i];
      if (service === undefined || service.startsWith('--')) {
        io.err('tracemend gate: --service needs a service name');
        return 2;
      }
    }
    else if (command === 'gate' && arg === '--json') json = true;
    else if (command === 'gate' && arg === '--contract') {
      contractFile = args[++i];
      if (contractFile === undefined) {
        io.err('tracemend gate: --contract needs a file');
        return 2;
      }
    }
    else if (arg?.startsWith('--')) {
      io.err(`tracemend ${command}: unknown option ${arg}`);
      return 2;
    } else file = arg;
  }
  if (suggest) {
    if (dryRun || contractFile !== undefined || catalog !== undefined) {
      io.err(`tracemend gate: --suggest drafts a contract from the alert alone; it takes no ${dryRun ? '--dry-run' : contractFile !== undefined ? '--contract' : '--config'}`);
      return 2;
    }
    return runGateSuggest({ text: await readInput(file, stdin), json, ...(service === undefined ? {} : { service }) }, io);
  }
  if (service !== undefined) {
    io.err('tracemend gate: --service applies only with --suggest');
    return 2;
  }
  if ((json || contractFile !== undefined) && !dryRun) {
    io.err(`tracemend gate: ${json ? '--json' : '--contract'} applies only with --dry-run or --suggest`);
    return 2;
  }
  if (dryRun) {
    // Before the stages are built: building them creates the state directory and a local token key.
    const catalogFile = catalog ? resolve(catalog) : loadWorkerConfig(env).catalogFile;
    return runGateDryRun({ text: await readInput(file, stdin), catalogFile, json, ...(contractFile ? { contractFile } : {}) }, io);
  }
  const config = { ...loadWorkerConfig(env), ...(catalog ? { catalogFile: resolve(catalog) } : {}) };
  const logger = createLogger({ name: `cli-${command}`, level: 'warn', destination: process.stderr });
  const { buildGateStage, workerEvidenceStore } = await import('@tracemend/worker/gate-stage');
  const store = workerEvidenceStore(config);
  // The gate alone needs no Docker, Temporal or sandbox: the other stages load the whole worker, here only.
  const stages: Partial<StageActivities> =
    command === 'gate' ? (await buildGateStage(config, logger, store)).activities : await (await import('@tracemend/worker')).buildStages(config, logger);
  const text = await readInput(file, stdin);
  const incidentId = 'cli';
  let output: unknown;
  if (command === 'ingest') {
    const alert = await storeAlert(store, text);
    const ref = await stages.ingest!({ incidentId, alert });
    output = await store.getEnvelope(ref.envelopeId);
  } else if (command === 'gate') {
    const envelope = parseContract(FailureEnvelope, parseJson(text, 'FailureEnvelope'), 'FailureEnvelope');
    output = await stages.gate!({ incidentId, envelope: await store.putEnvelope(envelope) });
  } else {
    const name: StageActivityName = command;
    const input = parseContract(STAGE_ACTIVITIES[name].input, parseJson(text, `${name} input`), `${name} input`);
    const run = stages[name] as ((value: unknown) => Promise<unknown>) | undefined;
    if (run === undefined) {
      io.err(`tracemend ${command}: the stage is not built`);
      return 1;
    }
    output = parseContract(STAGE_ACTIVITIES[name].output, await run(input), `${name} output`);
  }
  io.out(JSON.stringify(output, null, 2));
  return 0;
}
