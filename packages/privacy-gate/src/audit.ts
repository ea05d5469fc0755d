import { createHash } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { basename, dirname, extname } from 'node:path';
import { z } from 'zod';
import { Identifier, IsoDateTime, PrivacyDecision, TracemendError, type AuditReference } from '@tracemend/contracts';

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
  prevHash: z.string().regex(/^[0-9a-f]{64}$/),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type AuditRecord = z.infer<typeof AuditRecord>;

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

/** The hash of a record: SHA-256 over its canonical JSON without the `hash` field. */
export function hashRecord(record: Omit<AuditRecord, 'hash'> & { hash?: string }): string {
  const { hash: _hash, ...rest } = record;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/** An append-only, hash-chained JSONL audit log with a single writer. */
export interface AuditLog {
  readonly file: string;
  readonly auditId: string;
  /** Appends one record after every earlier append has landed; resolves to its reference. */
  append(entry: AuditEntry): Promise<AuditReference>;
}

/** Opens (lazily) the audit log at `file`; `auditId` defaults to the file name without extension. */
export function createAuditLog(options: { file: string; auditId?: string; now?: () => Date }): AuditLog {
  const { file } = options;
  const auditId = options.auditId ?? basename(file, extname(file));
  const now = options.now ?? (() => new Date());
  let head: { sequence: number; hash: string } | undefined;
  let tail: Promise<unknown> = Promise.resolve();

  const write = async (entry: AuditEntry): Promise<AuditReference> => {
    if (head === undefined) {
      const check = await verifyAuditLog(file);
      if (!check.ok) {
        throw new TracemendError('PRIVACY_BLOCKED', `audit log ${auditId} is broken at line ${check.brokenAt.line}: ${check.brokenAt.reason}`);
      }
      head = check.head ?? { sequence: -1, hash: GENESIS_HASH };
    }
    const parsed = AuditEntry.parse(entry);
    const unhashed = { ...parsed, sequence: head.sequence + 1, at: now().toISOString(), prevHash: head.hash };
    const record: AuditRecord = { ...unhashed, hash: hashRecord(unhashed) };
    await mkdir(dirname(file), { recursive: true });
    const handle = await open(file, 'a', 0o600);
    try {
      await handle.write(`${JSON.stringify(record)}\n`);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    head = { sequence: record.sequence, hash: record.hash };
    return { auditId, sequence: record.sequence, recordHash: record.hash };
  };

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

/** Appends one entry to `log`; resolves to where it landed in the chain. */
export function appendAudit(log: AuditLog, entry: AuditEntry): Promise<AuditReference> {
  return log.append(entry);
}

/** Why a chain is broken at a record. */
export type AuditBreak = 'unparseable' | 'sequence-mismatch' | 'prev-hash-mismatch' | 'hash-mismatch' | 'head-missing';

/** The result of walking an audit log from its first record. */
export type AuditVerification =
  | { ok: true; records: number; head?: { sequence: number; hash: string } }
  | { ok: false; records: number; brokenAt: { line: number; sequence?: number; reason: AuditBreak } };

/**
 * Walks the chain and reports the first broken link: an edited record fails its own hash, a dropped
 * or reordered one breaks the sequence or the link to its predecessor. A missing file is an empty log.
 * Pass the last reference the pipeline holds as `head` to also catch a truncated tail.
 */
export async function verifyAuditLog(file: string, options: { head?: AuditReference } = {}): Promise<AuditVerification> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    text = '';
  }
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
      return { ok: false, records: index, brokenAt: { line: lineNumber, reason: 'unparseable' } };
    }
    const broken = (reason: AuditBreak): AuditVerification => ({
      ok: false,
      records: index,
      brokenAt: { line: lineNumber, sequence: record.sequence, reason },
    });
    if (record.sequence !== index) return broken('sequence-mismatch');
    if (record.prevHash !== prevHash) return broken('prev-hash-mismatch');
    if (hashRecord(record) !== record.hash) return broken('hash-mismatch');
    prevHash = record.hash;
    last = { sequence: record.sequence, hash: record.hash };
  }
  if (options.head !== undefined) {
    const line = options.head.sequence + 1;
    if (last === undefined || last.sequence < options.head.sequence) {
      return { ok: false, records: lines.length, brokenAt: { line, sequence: options.head.sequence, reason: 'head-missing' } };
    }
    const atHead = JSON.parse(lines[options.head.sequence] ?? '{}') as { hash?: unknown };
    if (atHead.hash !== options.head.recordHash) {
      return { ok: false, records: lines.length, brokenAt: { line, sequence: options.head.sequence, reason: 'hash-mismatch' } };
    }
  }
  return last === undefined ? { ok: true, records: 0 } : { ok: true, records: lines.length, head: last };
}
