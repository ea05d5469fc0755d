import { access, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { privacyStateFiles, verifyAuditLog, type AuditBreak, type AuditVerification, type TokenKey } from '@tracemend/privacy-gate';
import { loadWorkerConfig } from '@tracemend/worker/env';
import { cliStateDir, type CliConfig } from './env';
import type { CliIo } from './io';
import { AUDIT_USAGE } from './usage';


const EXPLAIN: Record<AuditBreak, string> = {
  unparseable: 'the line is not a valid audit record',
  'sequence-mismatch': 'a record before it was dropped, or records were reordered',
  'prev-hash-mismatch': 'it does not chain to the record before it',
  'hash-mismatch': 'it was edited: its content does not match its MAC (or the MAC was recomputed without the key)',
  unkeyed: 'it was written by an older version, chained by a plain hash with no key; move the log aside to start a keyed one',
  'unknown-key': 'its MAC was made under a key this verification was not given (set TRACEMEND_TOKEN_KEY to that key)',
  'head-missing': 'the log ends before the last record the writer signed: its tail was cut off',
  'head-forged': 'the signed head beside the log does not verify: it was edited or replaced',
};

function parseVerifyArgs(args: readonly string[]): { log?: string; json: boolean } {
  const [action, ...rest] = args;
  if (action !== 'verify') throw new Error(action === undefined ? 'missing action "verify"' : `unknown action "${action}"`);
  let log: string | undefined;
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--log') {
      log = rest[++i];
      if (log === undefined) throw new Error('--log needs a file');
    } else if (arg === '--json') json = true;
    else throw new Error(arg.startsWith('--') ? `unknown option ${arg}` : `unexpected argument "${arg}"`);
  }
  return { json, ...(log ? { log } : {}) };
}

/** One line naming the first broken record: the sequence it holds (or should hold), its line and why. */
export function formatAuditVerification(file: string, result: AuditVerification): string {
  if (result.ok) return `ok: ${result.records} records in ${file}`;
  const { line, sequence, reason } = result.brokenAt;
  const expected = line - 1;
  const record =
    sequence === undefined || sequence === expected
      ? `record ${expected} (line ${line})`
      : `line ${line}, where record ${expected} belongs, holds record ${sequence}`;
  return `broken: ${record}: ${EXPLAIN[reason]} [${reason}]; the ${result.records} records before it verify (${file})`;
}

/**
 * The key the audit log's records are MACed under: the worker's token key (TRACEMEND_TOKEN_KEY, else
 * the local key under the state folder). Read, never created: a new key could verify nothing.
 */
async function auditKey(env: NodeJS.ProcessEnv, stateDir: string): Promise<TokenKey | undefined> {
  const configured = loadWorkerConfig({ ...env, TRACEMEND_STATE_DIR: stateDir }).tokenKey;
  if (configured !== undefined) return configured;
  try {
    const stored = JSON.parse(await readFile(join(stateDir, 'keys', 'token-key.json'), 'utf8')) as { id?: unknown; secret?: unknown };
    return typeof stored.id === 'string' && typeof stored.secret === 'string' ? { id: stored.id, secret: stored.secret } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `tracemend audit verify`: walks the privacy gate's MAC-chained audit log and its signed head and
 * names the first edited, dropped, reordered, unparseable or cut-off record. Exit codes: 0 intact,
 * 1 broken, 2 usage error.
 */
export async function runAudit(args: readonly string[], config: CliConfig, root: string, io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed: { log?: string; json: boolean };
  try {
    parsed = parseVerifyArgs(args);
  } catch (error) {
    io.err(`tracemend audit: ${(error as Error).message}\n${AUDIT_USAGE}`);
    return 2;
  }
  const file = parsed.log ? resolve(parsed.log) : privacyStateFiles(cliStateDir(config, root)).audit;
  try {
    await access(file);
  } catch {
    io.err(`tracemend audit: no audit log at ${file}`);
    return 2;
  }
  const stateDir = cliStateDir(config, root);
  const key = await auditKey(env, stateDir);
  if (key === undefined) {
    io.err(`tracemend audit: no token key to verify with: set TRACEMEND_TOKEN_KEY (and TRACEMEND_TOKEN_KEY_ID) to the worker's key, or run where its state folder ${stateDir} holds keys/token-key.json`);
    return 2;
  }
  const result = await verifyAuditLog(file, { key });
  io.out(parsed.json ? JSON.stringify({ file, ...result }, null, 2) : formatAuditVerification(file, result));
  return result.ok ? 0 : 1;
}
