import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import initSqlJs, { type Database, type SqlJsStatic } from 'sql.js';
import { TracemendError } from '@tracemend/contracts';
import { deriveSealingKey, seal, SEAL_NONCE_BYTES, SEAL_TAG_BYTES, unseal } from '@tracemend/process';
import { canonicalJson } from './audit';
import { withFileLock } from './file-lock';
import { TOKEN_TYPES, type TokenType } from './tokenize';

/**
 * The token vault: the only place a token can be turned back into the raw value it replaced. It is a
 * SQLite file in which every raw value is sealed with AES-256-GCM under a key derived from the
 * operator's vault key, so a copy of the file alone reveals nothing. The gate only appends to it;
 * no stage reads it; the operator opens it with the key to reveal a token.
 */

/** The operator's vault key: at least 32 bytes, held outside the pipeline, never stored or logged here. */
export type VaultKey = string | Uint8Array;

/** One token to keep: what the gate issued, for which incident, under which token key. */
export interface VaultEntry {
  token: string;
  type: TokenType;
  raw: string;
  /** The id of the token key that issued the token. */
  keyId: string;
  incidentId?: string;
}

/** What the gate's side may do with the vault: append. It cannot read a value back. */
export interface VaultWriter {
  readonly file: string;
  /** Seals and appends the entries in one transaction after every earlier batch has landed on disk. */
  record(entries: readonly VaultEntry[]): Promise<void>;
}

/** A raw value behind a token, with where it was seen. */
export interface RevealedValue {
  token: string;
  type: TokenType;
  raw: string;
  keyId: string;
  /** Incidents the value was recorded for, oldest first; empty when it was gated outside an incident. */
  incidentIds: string[];
  firstSeen: string;
}

/** The operator's side: reveals tokens. Only the CLI constructs one. */
export interface VaultReader {
  readonly file: string;
  /** Every distinct raw value recorded for `token` (more than one only when two values share a token). */
  reveal(token: string): RevealedValue[];
  close(): void;
}

const MIN_KEY_BYTES = 32;
const NONCE_BYTES = SEAL_NONCE_BYTES;
const TAG_BYTES = SEAL_TAG_BYTES;
const SCHEMA_VERSION = 1;
const HKDF_SALT = 'tracemend-token-vault';
const KEY_CHECK_TEXT = 'tracemend-token-vault-key-check';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS vault_meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS token_mappings (
  id INTEGER PRIMARY KEY,
  token TEXT NOT NULL,
  token_type TEXT NOT NULL,
  key_id TEXT NOT NULL,
  incident_id TEXT,
  created_at TEXT NOT NULL,
  nonce BLOB NOT NULL,
  ciphertext BLOB NOT NULL,
  tag BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS token_mappings_by_token ON token_mappings (token);
CREATE TRIGGER IF NOT EXISTS token_mappings_no_update BEFORE UPDATE ON token_mappings
  BEGIN SELECT RAISE(ABORT, 'the token vault is append-only'); END;
CREATE TRIGGER IF NOT EXISTS token_mappings_no_delete BEFORE DELETE ON token_mappings
  BEGIN SELECT RAISE(ABORT, 'the token vault is append-only'); END;
`;

let sqlJs: Promise<SqlJsStatic> | undefined;

/** SQLite as WebAssembly, loaded once per process from the installed package (nothing is fetched). */
function loadSqlJs(): Promise<SqlJsStatic> {
  const wasm = createRequire(import.meta.url).resolve('sql.js/dist/sql-wasm.wasm');
  sqlJs ??= initSqlJs({ locateFile: () => wasm });
  return sqlJs;
}

function keyBytes(key: VaultKey): Buffer {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
  if (bytes.length < MIN_KEY_BYTES) throw new TracemendError('INVALID_INPUT', `the vault key is shorter than ${MIN_KEY_BYTES} bytes`);
  return bytes;
}

/** A purpose-bound AES-256 key: one per token key id, one for the key check. */
function deriveKey(operatorKey: Buffer, info: string): Buffer {
  return deriveSealingKey(operatorKey, HKDF_SALT, info);
}

/** The associated data of a record: everything stored beside the ciphertext, so no column can be swapped. */
function recordAad(row: { token: string; type: string; keyId: string; incidentId: string | null; createdAt: string }): string {
  return canonicalJson({ v: SCHEMA_VERSION, ...row });
}

function blob(value: unknown): Buffer {
  return value instanceof Uint8Array ? Buffer.from(value) : Buffer.alloc(0);
}

/**
 * Checks the key against the vault's key-check record, writing one into a new vault. A vault opened
 * with another key fails here with VAULT_KEY_INVALID, before any record is read or written.
 */
function checkKey(db: Database, operatorKey: Buffer, file: string, create: boolean): void {
  const key = deriveKey(operatorKey, 'key-check');
  const rows = db.exec("SELECT value FROM vault_meta WHERE name = 'key_check'");
  const stored = rows[0]?.values[0]?.[0];
  if (stored === undefined) {
    if (!create) throw new TracemendError('VAULT_CORRUPT', `${file} is not a token vault: it has no key-check record`);
    const sealed = seal(key, KEY_CHECK_TEXT, 'key-check');
    db.run("INSERT INTO vault_meta (name, value) VALUES ('key_check', ?), ('schema_version', ?)", [
      Buffer.concat([sealed.nonce, sealed.tag, sealed.ciphertext]),
      String(SCHEMA_VERSION),
    ]);
    return;
  }
  const bytes = blob(stored);
  const sealed = { nonce: bytes.subarray(0, NONCE_BYTES), tag: bytes.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES), ciphertext: bytes.subarray(NONCE_BYTES + TAG_BYTES) };
  if (unseal(key, sealed, 'key-check')?.toString('utf8') !== KEY_CHECK_TEXT) {
    throw new TracemendError('VAULT_KEY_INVALID', `the vault key does not open ${file}: TRACEMEND_VAULT_KEY is not the key this vault was created with`);
  }
}

async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Replaces `file` in one step: a reader or a crash sees the old file or the new one, never half of one. */
async function writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.write(bytes);
    await handle.datasync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temp, file);
}

function validEntry(entry: VaultEntry): VaultEntry {
  if (!(TOKEN_TYPES as readonly string[]).includes(entry.type)) throw new TracemendError('INVALID_INPUT', `vault entry has an unknown token type "${entry.type}"`);
  if (entry.token === '' || entry.keyId === '') throw new TracemendError('INVALID_INPUT', 'vault entry has an empty token or key id');
  return entry;
}

/**
 * Opens the vault at `file` for appending (created with mode 0600 on the first batch). Each batch
 * re-reads the file under a lock, appends its sealed rows in one transaction and replaces the file
 * atomically, so batches from one process are serialized and concurrent processes do not lose rows.
 */
export function createVaultWriter(options: { file: string; key: VaultKey; now?: () => Date }): VaultWriter {
  const { file } = options;
  const operatorKey = keyBytes(options.key);
  const now = options.now ?? (() => new Date());
  const recordKeys = new Map<string, Buffer>();
  const recordKey = (keyId: string): Buffer => {
    let key = recordKeys.get(keyId);
    if (key === undefined) recordKeys.set(keyId, (key = deriveKey(operatorKey, `record/${keyId}`)));
    return key;
  };
  let tail: Promise<unknown> = Promise.resolve();

  const write = async (entries: readonly VaultEntry[]): Promise<void> => {
    const batch = entries.map(validEntry);
    if (batch.length === 0) return;
    const SQL = await loadSqlJs();
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await withFileLock(file, 'the token vault', 'INTERNAL', async () => {
      const db = new SQL.Database(await readIfExists(file));
      try {
        try {
          db.exec(SCHEMA);
        } catch (error) {
          throw new TracemendError('VAULT_CORRUPT', `${file} is not a token vault: ${(error as Error).message}`, { cause: error });
        }
        checkKey(db, operatorKey, file, true);
        const createdAt = now().toISOString();
        const insert = db.prepare(
          'INSERT INTO token_mappings (token, token_type, key_id, incident_id, created_at, nonce, ciphertext, tag) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        );
        db.run('BEGIN');
        try {
          for (const entry of batch) {
            const row = { token: entry.token, type: entry.type, keyId: entry.keyId, incidentId: entry.incidentId ?? null, createdAt };
            const sealed = seal(recordKey(entry.keyId), entry.raw, recordAad(row));
            insert.run([row.token, row.type, row.keyId, row.incidentId, createdAt, sealed.nonce, sealed.ciphertext, sealed.tag]);
          }
          db.run('COMMIT');
        } finally {
          insert.free();
        }
        await writeAtomically(file, db.export());
      } finally {
        db.close();
      }
    });
  };

  return {
    file,
    record(entries) {
      const result = tail.then(() => write(entries));
      tail = result.catch(() => undefined);
      return result;
    },
  };
}

/**
 * An existing vault, opened and checked against the operator's key: INVALID_INPUT when there is none
 * (`missing` says what that means here), VAULT_CORRUPT when the file is no vault, VAULT_KEY_INVALID on
 * another key. The caller closes the database.
 */
async function openExistingVault(file: string, operatorKey: Buffer, missing: string): Promise<Database> {
  const bytes = await readIfExists(file);
  if (bytes === undefined) throw new TracemendError('INVALID_INPUT', `no token vault at ${file}: ${missing}`);
  const SQL = await loadSqlJs();
  let db: Database;
  try {
    db = new SQL.Database(bytes);
    db.exec('SELECT 1 FROM token_mappings LIMIT 1');
  } catch (error) {
    throw new TracemendError('VAULT_CORRUPT', `${file} is not a token vault: ${(error as Error).message}`, { cause: error });
  }
  try {
    checkKey(db, operatorKey, file, false);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** The raw value of one record, or VAULT_CORRUPT naming it when its seal does not verify. */
function openRecord(operatorKey: Buffer, id: unknown, row: Parameters<typeof recordAad>[0], sealed: { nonce: unknown; ciphertext: unknown; tag: unknown }): string {
  const raw = unseal(deriveKey(operatorKey, `record/${row.keyId}`), { nonce: blob(sealed.nonce), ciphertext: blob(sealed.ciphertext), tag: blob(sealed.tag) }, recordAad(row))?.toString('utf8');
  if (raw === undefined) throw new TracemendError('VAULT_CORRUPT', `vault record ${String(id)} for token ${row.token} fails its integrity check: it was altered after it was written`);
  return raw;
}

/**
 * Opens the vault at `file` for revealing. Fails with INVALID_INPUT when there is no vault there,
 * VAULT_KEY_INVALID when `key` is not the vault's key, and (on reveal) VAULT_CORRUPT when a record
 * of the token fails its integrity check.
 */
export async function openVaultReader(options: { file: string; key: VaultKey }): Promise<VaultReader> {
  const { file } = options;
  const operatorKey = keyBytes(options.key);
  const db = await openExistingVault(file, operatorKey, 'nothing was recorded (is TRACEMEND_VAULT_KEY set where the gate runs?)');

  const reveal = (token: string): RevealedValue[] => {
    const statement = db.prepare(
      'SELECT id, token_type, key_id, incident_id, created_at, nonce, ciphertext, tag FROM token_mappings WHERE token = ? ORDER BY id',
    );
    const byValue = new Map<string, RevealedValue>();
    try {
      statement.bind([token]);
      while (statement.step()) {
        const [id, type, keyId, incidentId, createdAt, nonce, ciphertext, tag] = statement.get();
        const row = { token, type: String(type), keyId: String(keyId), incidentId: incidentId === null ? null : String(incidentId), createdAt: String(createdAt) };
        const raw = openRecord(operatorKey, id, row, { nonce, ciphertext, tag });
        const key = `${row.type}\u0000${row.keyId}\u0000${raw}`;
        const seen = byValue.get(key);
        if (seen === undefined) {
          byValue.set(key, { token, type: row.type as TokenType, raw, keyId: row.keyId, incidentIds: row.incidentId === null ? [] : [row.incidentId], firstSeen: row.createdAt });
        } else if (row.incidentId !== null && !seen.incidentIds.includes(row.incidentId)) {
          seen.incidentIds.push(row.incidentId);
        }
      }
    } finally {
      statement.free();
    }
    return [...byValue.values()];
  };

  return { file, reveal, close: () => db.close() };
}

/** What `eraseFromVault` removed: how many records, and the tokens that can no longer be revealed. */
export interface VaultErasure {
  records: number;
  tokens: string[];
}

/**
 * Erases a data subject's records from the vault on request: every record whose raw value is one of
 * `values` (compared trimmed and without case, so "Mara@Corp.se" erases "mara@corp.se") is deleted, so its token can no longer be
 * revealed. The vault is append-only for the gate; this is the one deliberate removal, made by the
 * operator with the vault key, under the writers' lock, and the file is replaced atomically. Fails
 * like the reader on a missing vault, a wrong key, or a record that fails its integrity check.
 */
export async function eraseFromVault(options: { file: string; key: VaultKey; values: readonly string[] }): Promise<VaultErasure> {
  const { file } = options;
  const operatorKey = keyBytes(options.key);
  const wanted = new Set(options.values.map((value) => value.trim().toLowerCase()));
  return withFileLock(file, 'the token vault', 'INTERNAL', async () => {
    const db = await openExistingVault(file, operatorKey, 'nothing was recorded, so there is nothing to erase');
    try {
      const erased: number[] = [];
      const tokens = new Set<string>();
      const statement = db.prepare('SELECT id, token, token_type, key_id, incident_id, created_at, nonce, ciphertext, tag FROM token_mappings ORDER BY id');
      try {
        while (statement.step()) {
          const [id, token, type, keyId, incidentId, createdAt, nonce, ciphertext, tag] = statement.get();
          const row = { token: String(token), type: String(type), keyId: String(keyId), incidentId: incidentId === null ? null : String(incidentId), createdAt: String(createdAt) };
          const raw = openRecord(operatorKey, id, row, { nonce, ciphertext, tag });
          if (!wanted.has(raw.trim().toLowerCase())) continue;
          erased.push(Number(id));
          tokens.add(row.token);
        }
      } finally {
        statement.free();
      }
      if (erased.length > 0) {
        db.run('BEGIN');
        db.run('DROP TRIGGER token_mappings_no_delete');
        db.run(`DELETE FROM token_mappings WHERE id IN (${erased.map(() => '?').join(', ')})`, erased);
        db.run('COMMIT');
        // Append-only again for every writer after this one.
        db.exec(SCHEMA);
        await writeAtomically(file, db.export());
      }
      return { records: erased.length, tokens: [...tokens].sort() };
    } finally {
      db.close();
    }
  });
}
