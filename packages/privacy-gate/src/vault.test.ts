import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import initSqlJs from 'sql.js';
import { createLogger } from '@tracemend/telemetry';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { usersApiCase } from '../test/fixture-envelopes';
import { createPrivacyGateActivities } from './activities';
import { createAuditLog } from './audit';
import { loadDataContract } from './contract';
import { gateEnvelopeDetailed } from './gate';
import { createVaultWriter, eraseFromVault, openVaultReader, type VaultEntry } from './vault';

const KEY = 'operator-vault-key-for-tests-0123456789';
const OTHER_KEY = 'another-operator-key-for-tests-98765432';
const TOKEN_KEY = { id: 'k-test', secret: 'test-only-token-key-0123456789abcdef' };
const contracts = fileURLToPath(new URL('../../../fixtures/contracts/', import.meta.url));

const EMAIL: VaultEntry = { token: 'u1a2b3c4d@example.com', type: 'email', raw: 'mara.lindqvist@corp-mail.se', keyId: 'k1', incidentId: 'inc-1' };
const PHONE: VaultEntry = { token: '+12125550142', type: 'phone', raw: '+46701234567', keyId: 'k1', incidentId: 'inc-1' };

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-vault-'));
  file = join(dir, 'vault', 'tokens.sqlite');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Opens the vault file with plain sql.js, as anyone holding a copy of it could. */
async function rawDatabase(path: string) {
  const SQL = await initSqlJs({ locateFile: () => createRequire(import.meta.url).resolve('sql.js/dist/sql-wasm.wasm') });
  return new SQL.Database(await readFile(path));
}

describe('the token vault', () => {
  it('keeps a mapping in a SQLite file that a new reader opens from disk and reveals', async () => {
    await createVaultWriter({ file, key: KEY }).record([EMAIL, PHONE]);
    await createVaultWriter({ file, key: KEY }).record([{ ...EMAIL, incidentId: 'inc-2' }]);

    const bytes = await readFile(file);
    expect(bytes.subarray(0, 16).toString('latin1')).toBe('SQLite format 3\u0000');
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const reader = await openVaultReader({ file, key: KEY });
    try {
      expect(reader.reveal(EMAIL.token)).toEqual([
        { token: EMAIL.token, type: 'email', raw: EMAIL.raw, keyId: 'k1', incidentIds: ['inc-1', 'inc-2'], firstSeen: expect.any(String) as string },
      ]);
      expect(reader.reveal(PHONE.token).map((value) => value.raw)).toEqual([PHONE.raw]);
      expect(reader.reveal('u00000000@example.com')).toEqual([]);
    } finally {
      reader.close();
    }
  });

  it('holds ciphertext only: the file bytes never contain a raw value, and rows carry nonce and tag', async () => {
    const entries = [EMAIL, PHONE, { token: 'Name 3f9a1c', type: 'name' as const, raw: 'Mara Lindqvist', keyId: 'k1' }];
    await createVaultWriter({ file, key: KEY }).record(entries);

    const bytes = await readFile(file);
    expect(bytes.includes(Buffer.from(EMAIL.token, 'utf8'))).toBe(true);
    for (const entry of entries) {
      expect(bytes.includes(Buffer.from(entry.raw, 'utf8')), entry.raw).toBe(false);
      expect(bytes.includes(Buffer.from(entry.raw, 'utf16le')), entry.raw).toBe(false);
    }
    const db = await rawDatabase(file);
    const [result] = db.exec('SELECT token, token_type, key_id, incident_id, length(nonce), length(tag), length(ciphertext) FROM token_mappings ORDER BY id');
    db.close();
    expect(result?.values).toEqual([
      [EMAIL.token, 'email', 'k1', 'inc-1', 12, 16, Buffer.byteLength(EMAIL.raw)],
      [PHONE.token, 'phone', 'k1', 'inc-1', 12, 16, Buffer.byteLength(PHONE.raw)],
      ['Name 3f9a1c', 'name', 'k1', null, 12, 16, Buffer.byteLength('Mara Lindqvist')],
    ]);
  });

  it('refuses another key with VAULT_KEY_INVALID, for reading and for appending', async () => {
    await createVaultWriter({ file, key: KEY }).record([EMAIL]);
    const before = await readFile(file);

    await expect(openVaultReader({ file, key: OTHER_KEY })).rejects.toMatchObject({ code: 'VAULT_KEY_INVALID', message: expect.stringContaining('TRACEMEND_VAULT_KEY') as string });
    await expect(createVaultWriter({ file, key: OTHER_KEY }).record([PHONE])).rejects.toMatchObject({ code: 'VAULT_KEY_INVALID' });
    expect((await readFile(file)).equals(before)).toBe(true);
    expect(() => createVaultWriter({ file, key: 'short' })).toThrow(/shorter than 32 bytes/);
  });

  it('refuses a record whose ciphertext was altered on disk with VAULT_CORRUPT', async () => {
    await createVaultWriter({ file, key: KEY }).record([EMAIL, PHONE]);
    const db = await rawDatabase(file);
    const ciphertext = Buffer.from(db.exec('SELECT ciphertext FROM token_mappings WHERE token = ?', [EMAIL.token])[0]?.values[0]?.[0] as Uint8Array);
    db.close();
    const bytes = await readFile(file);
    const at = bytes.indexOf(ciphertext);
    expect(at).toBeGreaterThan(0);
    bytes[at + 3] = (bytes[at + 3] ?? 0) ^ 0x01;
    await writeFile(file, bytes);

    const reader = await openVaultReader({ file, key: KEY });
    expect(() => reader.reveal(EMAIL.token)).toThrow(expect.objectContaining({ code: 'VAULT_CORRUPT', message: expect.stringContaining(EMAIL.token) as string }) as Error);
    expect(reader.reveal(PHONE.token).map((value) => value.raw)).toEqual([PHONE.raw]);
    reader.close();
  });

  it('binds the columns beside the ciphertext: a row moved to another token or incident fails its check', async () => {
    await createVaultWriter({ file, key: KEY }).record([EMAIL, PHONE]);
    const db = await rawDatabase(file);
    // The triggers keep the gate's side append-only; someone with the file can drop them, but not forge a row.
    expect(() => db.run("UPDATE token_mappings SET incident_id = 'inc-x'")).toThrow(/append-only/);
    expect(() => db.run('DELETE FROM token_mappings')).toThrow(/append-only/);
    db.run('DROP TRIGGER token_mappings_no_update');
    db.run("UPDATE token_mappings SET token = 'u99999999@example.com' WHERE token = ?", [EMAIL.token]);
    db.run("UPDATE token_mappings SET incident_id = 'inc-other' WHERE token = ?", [PHONE.token]);
    await writeFile(file, db.export());
    db.close();

    const reader = await openVaultReader({ file, key: KEY });
    expect(() => reader.reveal('u99999999@example.com')).toThrow(/fails its integrity check/);
    expect(() => reader.reveal(PHONE.token)).toThrow(/fails its integrity check/);
    reader.close();
  });

  it('serializes concurrent batches: every row of 40 unawaited batches from two writers lands', async () => {
    const first = createVaultWriter({ file, key: KEY });
    const second = createVaultWriter({ file, key: KEY });
    const batches = Array.from({ length: 40 }, (_, index) =>
      (index % 2 === 0 ? first : second).record([
        { token: `tok_${String(index).padStart(12, '0')}`, type: 'text', raw: `raw value ${index}`, keyId: 'k1', incidentId: `inc-${index}` },
      ]),
    );
    await Promise.all(batches);

    const reader = await openVaultReader({ file, key: KEY });
    for (let index = 0; index < 40; index++) {
      expect(reader.reveal(`tok_${String(index).padStart(12, '0')}`).map((value) => value.raw)).toEqual([`raw value ${index}`]);
    }
    reader.close();
    expect((await readdir(join(dir, 'vault'))).sort()).toEqual(['tokens.sqlite']);
  });

  it('names a missing vault and a file that is not one', async () => {
    await expect(openVaultReader({ file, key: KEY })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('no token vault at') as string });
    await writeFile(join(dir, 'not-a-vault'), 'hello, this file holds no database at all');
    await expect(openVaultReader({ file: join(dir, 'not-a-vault'), key: KEY })).rejects.toMatchObject({ code: 'VAULT_CORRUPT' });
    await expect(createVaultWriter({ file: join(dir, 'not-a-vault'), key: KEY }).record([EMAIL])).rejects.toMatchObject({ code: 'VAULT_CORRUPT' });
  });
});

describe('the gate and its vault', () => {
  it('reports only tokens the released envelope carries, each with the raw value it replaced', async () => {
    const fixture = usersApiCase();
    const contract = await loadDataContract(join(contracts, 'users-api.yaml'));
    const audit = createAuditLog({ file: join(dir, 'audit.jsonl'), key: TOKEN_KEY });
    const { gated, tokenized } = await gateEnvelopeDetailed({ envelope: fixture.envelope, contract, key: TOKEN_KEY, audit, incidentId: 'inc-7' });
    const released = JSON.stringify(gated.envelope);
    expect(tokenized.length).toBeGreaterThan(0);
    for (const mapping of tokenized) {
      expect(released).toContain(mapping.token);
      expect(released).not.toContain(mapping.raw);
    }
    expect(tokenized).toEqual(expect.arrayContaining([
      expect.objectContaining({ type: 'email', raw: 'mara.lindqvist@corp-mail.se' }),
      expect.objectContaining({ type: 'name', raw: 'Mara Lindqvist' }),
      expect.objectContaining({ type: 'ip', raw: '81.224.17.5' }),
    ]));
  });

  it('the activity records what it tokenized when a vault is configured, and keeps nothing when not', async () => {
    const fixture = usersApiCase();
    const deps = {
      loadEnvelope: () => Promise.resolve(fixture.envelope),
      contractFile: (service: string) => Promise.resolve(join(contracts, `${service}.yaml`)),
      key: TOKEN_KEY,
      audit: createAuditLog({ file: join(dir, 'audit.jsonl'), key: TOKEN_KEY }),
      saveRawValueHashes: () => Promise.resolve(),
      logger: createLogger({ name: 'vault-test', level: 'silent' }),
    };
    const input = {
      incidentId: 'inc-9',
      envelope: { schemaVersion: 1 as const, envelopeId: 'f'.repeat(64), fingerprint: fixture.envelope.identity.fingerprint, service: 'users-api', errorType: 'TypeError', version: 'v' },
    };
    await createPrivacyGateActivities(deps).gate(input);
    expect((await readdir(dir)).sort()).toEqual(['audit.jsonl', 'audit.jsonl.head']);

    const gated = await createPrivacyGateActivities({ ...deps, vault: createVaultWriter({ file, key: KEY }) }).gate(input);
    const email = (gated.envelope.entry as unknown as { body: { email: string } }).body.email;
    const reader = await openVaultReader({ file, key: KEY });
    expect(reader.reveal(email)).toEqual([expect.objectContaining({ raw: 'mara.lindqvist@corp-mail.se', type: 'email', keyId: 'k-test', incidentIds: ['inc-9'] })]);
    reader.close();
    const bytes = await readFile(file);
    for (const raw of fixture.raw) expect(bytes.includes(Buffer.from(raw, 'utf8')), raw).toBe(false);
  });
});

describe('erasing a data subject from the vault', () => {
  it("deletes every record of the subject's values, keeps the others, and leaves the vault append-only", async () => {
    const writer = createVaultWriter({ file, key: KEY });
    await writer.record([EMAIL, PHONE, { ...EMAIL, incidentId: 'inc-2' }]);
    const other: VaultEntry = { token: 'u9f8e7d6c@example.com', type: 'email', raw: 'jonas.berg@example.org', keyId: 'k1', incidentId: 'inc-3' };
    await writer.record([other]);

    // An email erases whatever its case; the phone is erased as written.
    expect(await eraseFromVault({ file, key: KEY, values: ['Mara.Lindqvist@corp-mail.se', '+46701234567'] })).toEqual({ records: 3, tokens: [PHONE.token, EMAIL.token].sort() });
    const reader = await openVaultReader({ file, key: KEY });
    try {
      expect(reader.reveal(EMAIL.token)).toEqual([]);
      expect(reader.reveal(PHONE.token)).toEqual([]);
      expect(reader.reveal(other.token).map((value) => value.raw)).toEqual(['jonas.berg@example.org']);
    } finally {
      reader.close();
    }
    const db = await rawDatabase(file);
    try {
      expect(() => db.run('DELETE FROM token_mappings')).toThrow(/append-only/);
    } finally {
      db.close();
    }
    await writer.record([EMAIL]);
    expect(await eraseFromVault({ file, key: KEY, values: ['nobody@example.org'] })).toEqual({ records: 0, tokens: [] });
    await expect(eraseFromVault({ file, key: OTHER_KEY, values: ['mara.lindqvist@corp-mail.se'] })).rejects.toThrow(/does not open/);
    await expect(eraseFromVault({ file: join(dir, 'absent.sqlite'), key: KEY, values: ['x@y.zz'] })).rejects.toThrow(/nothing to erase/);
  });
});
