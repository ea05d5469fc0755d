import { join, resolve } from 'node:path';
import { createEvidenceStore, type PurgeReport } from '@tracemend/ingest';
import { cliStateDir, type CliConfig } from './env';
import type { CliIo } from './io';
import { EVIDENCE_USAGE } from './usage';


const DAY_MS = 24 * 60 * 60 * 1000;

interface PurgeArgs {
  days: number;
  evidence?: string;
  json: boolean;
}

function parsePurgeArgs(args: readonly string[]): PurgeArgs {
  const [action, ...rest] = args;
  if (action !== 'purge') throw new Error(action === undefined ? 'missing action "purge"' : `unknown action "${action}"`);
  let days: number | undefined;
  let evidence: string | undefined;
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--older-than') {
      const value = rest[++i];
      const match = value === undefined ? null : /^(\d{1,5})d$/.exec(value);
      if (match === null) throw new Error(`--older-than takes a whole number of days such as 30d, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
      days = Number(match[1]);
    } else if (arg === '--evidence') {
      evidence = rest[++i];
      if (evidence === undefined) throw new Error('--evidence needs a folder');
    } else if (arg === '--json') json = true;
    else throw new Error(arg.startsWith('--') ? `unknown option ${arg}` : `unexpected argument "${arg}"`);
  }
  if (days === undefined) throw new Error('say how old evidence must be to go, e.g. --older-than 30d (there is no default retention)');
  return { days, json, ...(evidence === undefined ? {} : { evidence }) };
}

function formatPurge(dir: string, report: PurgeReport): string {
  const parts = [
    `${report.alerts} raw alert${report.alerts === 1 ? '' : 's'}`,
    `${report.envelopes} envelope${report.envelopes === 1 ? '' : 's'}`,
    `${report.rawValueHashes} raw-value hash file${report.rawValueHashes === 1 ? '' : 's'}`,
    `${report.alertEventLogs} alert event log${report.alertEventLogs === 1 ? '' : 's'}`,
    `${report.pending} pending alert${report.pending === 1 ? '' : 's'}`,
  ];
  return `purged from ${dir}, everything from before ${report.before}: ${parts.join(', ')} (${report.bytes} bytes)`;
}

/**
 * `tracemend evidence purge --older-than <days>d`: deletes raw alerts, envelopes, raw-value hashes,
 * alert event logs and pending alerts older than the retention from the evidence store (the state
 * folder's `evidence`, or `--evidence`). Exit codes: 0 done, 2 usage error.
 */
export async function runEvidence(args: readonly string[], config: CliConfig, root: string, io: CliIo, now = new Date()): Promise<number> {
  let parsed: PurgeArgs;
  try {
    parsed = parsePurgeArgs(args);
  } catch (error) {
    io.err(`tracemend evidence: ${(error as Error).message}\n${EVIDENCE_USAGE}`);
    return 2;
  }
  const dir = parsed.evidence === undefined ? join(cliStateDir(config, root), 'evidence') : resolve(parsed.evidence);
  const report = await createEvidenceStore(dir).purge(new Date(now.getTime() - parsed.days * DAY_MS));
  io.out(parsed.json ? JSON.stringify({ evidence: dir, ...report }, null, 2) : formatPurge(dir, report));
  return 0;
}
