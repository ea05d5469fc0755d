import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { privacyStateFiles, verifyAuditLog, type AuditBreak, type AuditVerification } from '@tracemend/privacy-gate';
import { cliStateDir, type CliConfig } from './env';
import type { CliIo } from './io';

export const AUDIT_USAGE = 'usage: tracemend audit verify [--log <file>] [--json]';

const EXPLAIN: Record<AuditBreak, string> = {
  unparseable: 'the line is not a valid audit record',
  'sequence-mismatch': 'a record before it was dropped, or records were reordered',
  'prev-hash-mismatch': 'it does not chain to the record before it',
  'hash-mismatch': 'it was edited: its content does not match its hash',
  'head-missing': 'the log ends before the last record the pipeline wrote',
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
 * `tracemend audit verify`: walks the privacy gate's hash-chained audit log and names the first
 * edited, dropped, reordered or unparseable record. Exit codes: 0 intact, 1 broken, 2 usage error.
 */
export async function runAudit(args: readonly string[], config: CliConfig, root: string, io: CliIo): Promise<number> {
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
  const result = await verifyAuditLog(file);
  io.out(parsed.json ? JSON.stringify({ file, ...result }, null, 2) : formatAuditVerification(file, result));
  return result.ok ? 0 : 1;
}
