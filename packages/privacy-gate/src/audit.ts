import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, extname } from 'node:path';
import { z } from 'zod';
import { Identifier, IsoDateTime, PrivacyDecision, TracemendError, type AuditReference } from '@tracemend/contracts';
import { withFileLock } from './file-lock';
import { isTokenKeyring, type TokenKey, type TokenKeyring } from './tokenize';

/** The hash the first record of a log chains to. */
export const GENESIS_HASH = '0'.repeat(64);

/** A detector hit as recorded: which detector, where, how often — never the value. */
export const DetectorHit = z.object({ detector: z.string().max(64), path: z.string().max(1_024), count: z.number().int().positive() });
export type DetectorHit = z.infer<typeof DetectorHit>;

/** What the gate records for one envelope: paths, actions and detector hits, never a value. */
export const AuditEntry = z.object({
  incidentId: Identifier.optional(),
  service: Identifier,
  contract: z.object({ id: Identifier, version: z.number().int().positive() }).optional(),
  outcome: z.enum(['released', 'blocked']),
  reason: z.string().max(1_024).optional(),
  tokenKeyId: Identifier.optional(),
  decisions: z.array(PrivacyDecision),
  droppedUnknown: z.array(z.string().max(1_024)),
  detectorHits: z.array(DetectorHit),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/** One line of the audit log. */
export const AuditRecord = AuditEntry.extend({
  sequence: z.number().int().nonnegative(),
  at: IsoDateTime,
  /** The token key whose audit subkey made `hash` (keys rotate; verification needs the one named). */
  keyId: Identifier,
  prevHash: z.string().regex(/^[0-9a-f]{64}$/),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type AuditRecord = z.infer<typeof AuditRecord>;

/**
 * The signed head: the last record the writer appended, kept beside the log (`<log>.head`) so a
 * truncated tail is caught even when nobody passes the pipeline's own reference.
 */
const AuditHead = z.object({ sequence: z.number().int().min(-1), hash: z.string().regex(/^[0-9a-f]{64}$/), keyId: Identifier, mac: z.string().regex(/^[0-9a-f]{64}$/) });
type AuditHead = z.infer<typeof AuditHead>;

/** JSON with object keys sorted at every level, so a record hashes the same however it was built. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const AUDIT_MAC_CONTEXT = 'tracemend audit chain v1';

/** The audit subkey of a token key: records are MACed under it, so the token key itself never keys two things. */
function auditSubkey(key: TokenKey): Buffer {
  return createHmac('sha256', key.secret).update(AUDIT_MAC_CONTEXT).digest();
}

/** Every key a verification may meet, by id (a keyring's previous keys verify records made before a rotation). */
function keysById(key: TokenKey | TokenKeyring): Map<string, Buffer> {
  const keys = isTokenKeyring(key) ? [key.current, ...(key.previous ?? [])] : [key];
  return new Map(keys.map((one) => [one.id, auditSubkey(one)]));
}

/**
 * The MAC of a record: HMAC-SHA256 under the audit subkey of its key over its canonical JSON without
 * the `hash` field. Without the key nobody can recompute it, so an edited record cannot be re-chained.
 */
export function macRecord(record: Omit<AuditRecord, 'hash'> & { hash?: string }, key: TokenKey): string {
  return macWith(auditSubkey(key), record);
}

function macWith(subkey: Buffer, record: Omit<AuditRecord, 'hash'> & { hash?: string }): string {
  const { hash: _hash, ...rest } = record;
  return createHmac('sha256', subkey).update(canonicalJson(rest)).digest('hex');
}

function headMac(subkey: Buffer, sequence: number, hash: string): string {
  return createHmac('sha256', subkey).update(`head\u0000${sequence}\u0000${hash}`).digest('hex');
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

/** An append-only, MAC-chained JSONL audit log; one writer at a time, across processes too. */
export interface AuditLog {
  readonly file: string;
  readonly auditId: string;
  /** Appends one record after every earlier append has landed; resolves to its reference. */
  append(entry: AuditEntry): Promise<AuditReference>;
}

/** The signed head file of an audit log. */
export function auditHeadFile(file: string): string {
  return `${file}.head`;
}

/** The last line of a file, read from its end (a log may be large; the chain head is all an append needs). */
async function lastLine(file: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    let length = Math.min(size, 64 * 1024);
    for (;;) {
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      const text = buffer.toString('utf8').replace(/\n$/, '');
      const newline = text.lastIndexOf('\n');
      if (newline >= 0 || length === size) return text.slice(newline + 1) || undefined;
      length = Math.min(size, length * 4);
    }
  } finally {
    await handle.close();
  }
}

async function readHead(file: string): Promise<AuditHead | undefined> {
  try {
    return AuditHead.parse(JSON.parse(await readFile(auditHeadFile(file), 'utf8')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TracemendError('PRIVACY_BLOCKED', `the head file of audit log ${file} is not a signed head (${(error as Error).message})`);
  }
}

/** Writes the signed head beside the log, atomically (a reader sees the old head or the new one). */
async function writeHead(file: string, subkey: Buffer, keyId: string, sequence: number, hash: string): Promise<void> {
  const head: AuditHead = { sequence, hash, keyId, mac: headMac(subkey, sequence, hash) };
  const temporary = `${auditHeadFile(file)}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(head)}\n`, { mode: 0o600 });
  await rename(temporary, auditHeadFile(file));
}

/**
 * Opens (lazily) the audit log at `file`; `auditId` defaults to the file name without extension.
 * Records are MACed under the audit subkey of `key` (the current key of a keyring); the key is held
 * apart from the log, so whoever can write the file cannot re-chain an edit. Each append takes the
 * log's lock file, so several processes may share one log.
 */
export function createAuditLog(options: { file: string; key: TokenKey | TokenKeyring; auditId?: string; now?: () => Date }): AuditLog {
  const { file } = options;
  const auditId = options.auditId ?? basename(file, extname(file));
  const now = options.now ?? (() => new Date());
  const current = isTokenKeyring(options.key) ? options.key.current : options.key;
  const subkey = auditSubkey(current);
  // Derived once: every append checks the last record on disk against the key that made it.
  const keys = keysById(options.key);
  let verified = false;
  let tail: Promise<unknown> = Promise.resolve();

  /** The record the next one chains to, read under the lock: another process may have appended meanwhile. */
  const chainHead = async (): Promise<{ sequence: number; hash: string }> => {
    if (!verified) {
      const check = await verifyAuditLog(file, { key: options.key });
      if (!check.ok) {
        const advice =
          check.brokenAt.reason === 'unkeyed'
            ? `it was written before records were MACed under a key; move ${file} (and any ${file}.head) aside, keeping it, and the next record starts a keyed log`
            : '`tracemend audit verify` explains it';
        throw new TracemendError('PRIVACY_BLOCKED', `audit log ${auditId} is broken at line ${check.brokenAt.line}: ${check.brokenAt.reason}; ${advice}`);
      }
      verified = true;
      if (check.head !== undefined) return check.head;
      // A new log is signed at genesis first, so a crash between its first record and that record's
      // head leaves a head that lags (accepted) rather than none (which verification reports).
      if ((await readHead(file)) === undefined) await writeHead(file, subkey, current.id, -1, GENESIS_HASH);
      return { sequence: -1, hash: GENESIS_HASH };
    }
    const line = await lastLine(file);
    if (line === undefined) return { sequence: -1, hash: GENESIS_HASH };
    const record = AuditRecord.parse(JSON.parse(line));
    const recordKey = keys.get(record.keyId);
    if (recordKey === undefined || !sameHex(macWith(recordKey, record), record.hash)) {
      throw new TracemendError('PRIVACY_BLOCKED', `the last record of audit log ${auditId} does not verify; \`tracemend audit verify\` explains it`);
    }
    return { sequence: record.sequence, hash: record.hash };
  };

  const write = (entry: AuditEntry): Promise<AuditReference> =>
    withFileLockIn(file, async () => {
      const head = await chainHead();
      const parsed = AuditEntry.parse(entry);
      const unhashed = { ...parsed, sequence: head.sequence + 1, at: now().toISOString(), keyId: current.id, prevHash: head.hash };
      const record: AuditRecord = { ...unhashed, hash: macWith(subkey, unhashed) };
      const handle = await open(file, 'a', 0o600);
      try {
        await handle.write(`${JSON.stringify(record)}\n`);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      await writeHead(file, subkey, current.id, record.sequence, record.hash);
      return { auditId, sequence: record.sequence, recordHash: record.hash };
    });

  return {
    file,
    auditId,
    append(entry) {
      const result = tail.then(() => write(entry));
      tail = result.catch(() => undefined);
      return result;
    },
  };
}

/** Creates the log's folder (0700), then runs `use` under the log's lock. */
async function withFileLockIn<T>(file: string, use: () => Promise<T>): Promise<T> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  return withFileLock(file, 'audit log', 'PRIVACY_BLOCKED', use);
}

/** Appends one entry to `log`; resolves to where it landed in the chain. */
export function appendAudit(log: AuditLog, entry: AuditEntry): Promise<AuditReference> {
  return log.append(entry);
}

/** A record an older version wrote, chained by a plain hash with no key id. */
function isUnkeyedRecord(line: string): boolean {
  try {
    const value = JSON.parse(line) as Record<string, unknown>;
    return typeof value.hash === 'string' && typeof value.prevHash === 'string' && value.keyId === undefined;
  } catch {
    return false;
  }
}

/** Why a chain is broken at a record. */
export type AuditBreak =
  | 'unparseable'
  | 'sequence-mismatch'
  | 'prev-hash-mismatch'
  | 'hash-mismatch'
  | 'unknown-key'
  | 'unkeyed'
  | 'head-missing'
  | 'head-forged';

/** The result of walking an audit log from its first record. */
export type AuditVerification =
  | { ok: true; records: number; head?: { sequence: number; hash: string } }
  | { ok: false; records: number; brokenAt: { line: number; sequence?: number; reason: AuditBreak } };

/**
 * Walks the chain and reports the first broken link: an edited record fails its MAC (and without the
 * key nobody can recompute one), a dropped or reordered one breaks the sequence or the link to its
 * predecessor. The signed head beside the log, and `head` when the caller holds the pipeline's last
 * reference, catch a truncated tail; a head file that does not verify is reported as forged. A
 * missing file is an empty log.
 */
export async function verifyAuditLog(file: string, options: { key: TokenKey | TokenKeyring; head?: AuditReference }): Promise<AuditVerification> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    text = '';
  }
  const keys = keysById(options.key);
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let prevHash = GENESIS_HASH;
  let last: { sequence: number; hash: string } | undefined;
  for (const [index, line] of lines.entries()) {
    const lineNumber = index + 1;
    let record: AuditRecord;
    try {
      record = AuditRecord.parse(JSON.parse(line));
    } catch {
      return { ok: false, records: index, brokenAt: { line: lineNumber, reason: isUnkeyedRecord(line) ? 'unkeyed' : 'unparseable' } };
    }
    const broken = (reason: AuditBreak): AuditVerification => ({
      ok: false,
      records: index,
      brokenAt: { line: lineNumber, sequence: record.sequence, reason },
    });
    if (record.sequence !== index) return broken('sequence-mismatch');
    if (record.prevHash !== prevHash) return broken('prev-hash-mismatch');
    const subkey = keys.get(record.keyId);
    if (subkey === undefined) return broken('unknown-key');
    if (!sameHex(macWith(subkey, record), record.hash)) return broken('hash-mismatch');
    prevHash = record.hash;
    last = { sequence: record.sequence, hash: record.hash };
  }
  const heads: { sequence: number; recordHash: string }[] = [];
  let signed: AuditHead | undefined;
  try {
    signed = await readHead(file);
  } catch {
    return { ok: false, records: lines.length, brokenAt: { line: lines.length + 1, reason: 'head-forged' } };
  }
  if (signed !== undefined) {
    const subkey = keys.get(signed.keyId);
    if (subkey === undefined || !sameHex(headMac(subkey, signed.sequence, signed.hash), signed.mac)) {
      return { ok: false, records: lines.length, brokenAt: { line: lines.length + 1, reason: 'head-forged' } };
    }
    if (signed.sequence >= 0) heads.push({ sequence: signed.sequence, recordHash: signed.hash });
  } else if (lines.length > 0) {
    // The writer signs a head with every append: a log with records and no head lost it.
    return { ok: false, records: lines.length, brokenAt: { line: lines.length + 1, reason: 'head-missing' } };
  }
  if (options.head !== undefined) heads.push(options.head);
  // A head may lag the log by a record the writer appended before it could sign (a crash); it may not lead it.
  for (const head of heads) {
    const line = head.sequence + 1;
    if (last === undefined || last.sequence < head.sequence) {
      return { ok: false, records: lines.length, brokenAt: { line, sequence: head.sequence, reason: 'head-missing' } };
    }
    const atHead = JSON.parse(lines[head.sequence] ?? '{}') as { hash?: unknown };
    if (atHead.hash !== head.recordHash) {
      return { ok: false, records: lines.length, brokenAt: { line, sequence: head.sequence, reason: 'hash-mismatch' } };
    }
  }
  return last === undefined ? { ok: true, records: 0 } : { ok: true, records: lines.length, head: last };
}
