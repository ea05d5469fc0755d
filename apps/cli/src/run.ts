import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { TracemendError, type IncidentOutcome } from '@tracemend/contracts';
import { createGateway, mediaTypeOfFormat } from '@tracemend/gateway';
import { createEvidenceStore, detectAlertText, loadServiceCatalog } from '@tracemend/ingest';
import { createLogger } from '@tracemend/telemetry';
import { workflowUiUrl } from './demo';
import { cliStateDir, type CliConfig } from './env';
import type { CliIo } from './io';
import { ensureWorker } from './worker-process';


export interface RunOptions {
  alertFile: string;
  configFile: string;
  wait: boolean;
  json: boolean;
}

/** Parses `run <alert-file> --config <file> [--wait] [--json]`; a bad argument is named. */
export function parseRunArgs(args: readonly string[]): RunOptions {
  let alertFile: string | undefined;
  let configFile: string | undefined;
  let wait = false;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--wait') wait = true;
    else if (arg === '--json') json = true;
    else if (arg === '--config') {
      configFile = args[++i];
      if (configFile === undefined) throw new Error('--config needs a file');
    } else if (arg?.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else if (alertFile === undefined && arg !== undefined) alertFile = arg;
    else throw new Error(`unexpected argument ${arg ?? ''}`);
  }
  if (alertFile === undefined) throw new Error('the alert file is missing');
  if (configFile === undefined) throw new Error('--config <tracemend.config.yaml> is required');
  return { alertFile, configFile, wait, json };
}

/** One line per stage: status, time and summary. */
export function formatOutcome(outcome: IncidentOutcome): string {
  const lines = [`${outcome.outcome}: ${outcome.reason}`];
  for (const stage of outcome.stages) {
    lines.push(`  ${stage.stage.padEnd(12)} ${stage.status.padEnd(9)} ${String(Math.round(stage.durationMs ?? 0)).padStart(7)} ms  ${stage.summary}`);
  }
  if (outcome.pr) lines.push(`  pull request: ${outcome.pr.url} (branch ${outcome.pr.branch})`);
  if (outcome.risk) lines.push(`  risk: ${outcome.risk.score} (${outcome.risk.level}): ${outcome.risk.factors.map((f) => `${f.name} ${f.contribution}`).join(', ')}`);
  return lines.join('\n');
}

/**
 * The alert file's bytes and the Content-Type the intake takes them with (by the format `tracemend
 * ingest` reads them as); a missing file, or one that is neither JSON nor another alert format, is
 * named before anything starts.
 */
async function readAlertFile(file: string): Promise<{ body: Buffer; type: string }> {
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TracemendError('INVALID_INPUT', `cannot read the alert file ${file}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const text = body.toString('utf8');
  try {
    return { body, type: mediaTypeOfFormat(detectAlertText(text, `the alert file ${file}`).format) };
  } catch (error) {
    // JSON of no alert shape goes to the intake, whose refusal names the shapes it reads.
    if (isJson(text)) return { body, type: 'application/json' };
    throw error;
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** One line naming why the intake refused the alert: `{error: {code, message}}` of the gateway. */
function refusal(alertFile: string, status: number, answer: Record<string, unknown>): string {
  const error = (answer.error ?? {}) as { code?: unknown; message?: unknown };
  const code = typeof error.code === 'string' ? ` ${error.code}` : '';
  const message = typeof error.message === 'string' ? error.message : JSON.stringify(answer);
  return `the alert ${alertFile} was refused (${status}${code}): ${message}`;
}

/**
 * Submits one alert file through the gateway's intake (in process, on a private loopback port) to a
 * worker running with the given service catalog, and optionally waits for the incident's outcome.
 * Without `--wait`, `--json` prints the intake's answer (for a trace export or Sentry event: incidentId,
 * workflowId, fingerprint, alertId, format and status `started` or `attached`; for a log export:
 * alertId, format, traceIds, status `stored` and the reason it started nothing). Exits 0 when the alert was accepted (with `--wait`: when the incident
 * opened a pull request), 1 when the intake refused the alert or the incident ended otherwise, and 2
 * when the catalog or the alert file cannot be read or the alert file is in no format the intake reads.
 */
export async function runAlert(config: CliConfig, root: string, io: CliIo, options: RunOptions): Promise<number> {
  const configFile = resolve(options.configFile);
  let body: Buffer;
  let type: string;
  try {
    await loadServiceCatalog(configFile);
    ({ body, type } = await readAlertFile(resolve(options.alertFile)));
  } catch (error) {
    io.err(`tracemend run: ${(error as Error).message}`);
    return 2;
  }
  await ensureWorker(config, root, {
    TRACEMEND_CONFIG: configFile,
    ...(config.github ? { TRACEMEND_GITHUB_API_URL: config.github.apiUrl, ...(config.github.token ? { TRACEMEND_GITHUB_TOKEN: config.github.token } : {}) } : {}),
  });
  const connection = await Connection.connect({ address: config.temporalAddress });
  const client = new Client({ connection, namespace: config.temporalNamespace });
  const token = randomBytes(24).toString('hex');
  const gateway = createGateway({
    store: createEvidenceStore(join(cliStateDir(config, root), 'evidence'), config.evidenceKey === undefined ? {} : { key: config.evidenceKey }),
    client,
    namespace: config.temporalNamespace,
    token,
    logger: createLogger({ name: 'cli-intake', level: 'silent' }),
  });
  try {
    await gateway.listen(0);
    const response = await fetch(`${gateway.url}/v1/alerts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': type },
      body,
    });
    const answer = (await response.json()) as Record<string, unknown>;
    if (response.status !== 202) {
      io.err(`tracemend run: ${refusal(options.alertFile, response.status, answer)}`);
      return 1;
    }
    const workflowId = typeof answer.workflowId === 'string' ? answer.workflowId : undefined;
    if (!options.wait || workflowId === undefined) {
      io.out(options.json ? JSON.stringify(answer, null, 2) : workflowId ? `incident ${workflowId} ${String(answer.status)}: ${workflowUiUrl(config, workflowId)}` : `stored alert ${String(answer.alertId)}`);
      return 0;
    }
    const outcome = (await client.workflow.getHandle(workflowId).result()) as IncidentOutcome;
    io.out(options.json ? JSON.stringify(outcome, null, 2) : `${formatOutcome(outcome)}\n  Temporal UI: ${workflowUiUrl(config, workflowId)}`);
    return outcome.outcome === 'pr-opened' ? 0 : 1;
  } finally {
    await gateway.close();
    await connection.close();
  }
}
