import { access, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TracemendError } from '@tracemend/contracts';
import { privacyStateFiles } from '@tracemend/privacy-gate';
import { eraseFromVault, type VaultErasure } from '@tracemend/privacy-gate/vault';
import { createEvidenceStore, type PurgeReport } from '@tracemend/ingest';
import { cliStateDir, type CliConfig } from './env';
import type { CliIo } from './io';
import { EVIDENCE_USAGE } from './usage';

const DAY_MS = 24 * 60 * 60 * 1000;

type EvidenceArgs = { action: 'purge'; days: number } | { action: 'erase'; values: string };

function parseEvidenceArgs(args: readonly string[]): EvidenceArgs & { evidence?: string; json: boolean } {
  const [action, ...rest] = args;
  if (action !== 'purge' && action !== 'erase') throw new Error(action === undefined ? 'missing action "purge" or "erase"' : `unknown action "${action}"`);
  let days: number | undefined;
  let values: string | undefined;
  let evidence: string | undefined;
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--older-than' && action === 'purge') {
      const value = rest[++i];
      const match = value === undefined ? null : /^(\d{1,5})d$/.exec(value);
      if (match === null) throw new Error(`--older-than takes a whole number of days such as 30d, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
      days = Number(match[1]);
    } else if (arg === '--values' && action === 'erase') {
      values = rest[++i];
      if (values === undefined) throw new Error('--values needs a file (or - for stdin) holding one value per line');
    } else if (arg === '--evidence') {
      evidence = rest[++i];
      if (evidence === undefined) throw new Error('--evidence needs a folder');
    } else if (arg === '--json') json = true;
    else throw new Error(arg.startsWith('--') ? `unknown option ${arg} for ${action}` : `unexpected argument "${arg}"`);
  }
  const common = { json, ...(evidence === undefined ? {} : { evidence }) };
  if (action === 'purge') {
    if (days === undefined) throw new Error('say how old evidence must be to go, e.g. --older-than 30d (there is no default retention)');
    return { action, days, ...common };
  }
  // Values come from a file or stdin, never the command line, where shell history and the process list would keep them.
  if (values === undefined) throw new Error('say whose evidence to erase with --values <file|->: one value of the subject per line (email, phone, name)');
  return { action, values, ...common };
}

async function readValues(source: string): Promise<string[]> {
  let text: string;
  if (source === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
  } else text = await readFile(resolve(source), 'utf8');
  return [...new Set(text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== ''))];
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
 * `tracemend evidence purge --older-than <days>d` deletes raw alerts, envelopes, raw-value hashes, alert
 * event logs and pending alerts older than the retention; `tracemend evidence erase --values <file|->`
 * deletes every raw alert and envelope holding one of a data subject's values. Both work on the state
 * folder's `evidence` (or `--evidence`) and never print a value. Exit codes: 0 done, 2 usage error.
 */
export async function runEvidence(args: readonly string[], config: CliConfig, root: string, io: CliIo, now = new Date()): Promise<number> {
  let parsed: ReturnType<typeof parseEvidenceArgs>;
  let values: string[] = [];
  try {
    parsed = parseEvidenceArgs(args);
    if (parsed.action === 'erase') values = await readValues(parsed.values);
  } catch (error) {
    io.err(`tracemend evidence: ${(error as Error).message}\n${EVIDENCE_USAGE}`);
    return 2;
  }
  const dir = parsed.evidence === undefined ? join(cliStateDir(config, root), 'evidence') : resolve(parsed.evidence);
  const store = createEvidenceStore(dir, config.evidenceKey === undefined ? {} : { key: config.evidenceKey });
  if (parsed.action === 'purge') {
    const report = await store.purge(new Date(now.getTime() - parsed.days * DAY_MS));
    io.out(parsed.json ? JSON.stringify({ evidence: dir, ...report }, null, 2) : formatPurge(dir, report));
    return 0;
  }
  let report;
  let vault: VaultErasure | string;
  try {
    report = await store.erase(values);
    vault = await eraseVault(config, root, values);
  } catch (error) {
    if (!(error instanceof TracemendError) || !['INVALID_INPUT', 'VAULT_KEY_INVALID', 'VAULT_CORRUPT'].includes(error.code)) throw error;
    io.err(`tracemend evidence: ${error.message}`);
    return 2;
  }
  const vaultText =
    typeof vault === 'string' ? vault : `${vault.records} vault record${vault.records === 1 ? '' : 's'} (tokens ${vault.tokens.join(', ') || 'none'} can no longer be revealed)`;
  io.out(
    parsed.json
      ? JSON.stringify({ evidence: dir, values: values.length, ...report, vault }, null, 2)
      : `erased the data holding any of ${values.length} value${values.length === 1 ? '' : 's'}: ${report.alerts} raw alert${report.alerts === 1 ? '' : 's'} and ${report.envelopes} envelope${report.envelopes === 1 ? '' : 's'} from ${dir} (${report.bytes} bytes); ${vaultText}`,
  );
  return 0;
}

/** The subject's records in the token vault, erased with the operator's key; a sentence saying why not, when there is no key or no vault. */
async function eraseVault(config: CliConfig, root: string, values: readonly string[]): Promise<VaultErasure | string> {
  const file = privacyStateFiles(cliStateDir(config, root)).vault;
  if (config.vaultKey === undefined) return `the vault was not searched: set TRACEMEND_VAULT_KEY to erase the subject's tokens from ${file} too`;
  try {
    await access(file);
  } catch {
    return `no token vault at ${file}`;
  }
  return eraseFromVault({ file, key: config.vaultKey, values });
}
