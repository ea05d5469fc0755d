import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendAudit, auditHeadFile, canonicalJson, createAuditLog, GENESIS_HASH, macRecord, verifyAuditLog, type AuditEntry } from './audit';

const run = promisify(execFile);
const KEY = { id: 'k2026-11', secret: 'test-only-token-key-0123456789abcdef' };
const OTHER_KEY = { id: 'k2026-12', secret: 'another-test-token-key-fedcba9876543210' };

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'privacy-audit-'));
  file = join(dir, 'logs', 'gate.jsonl');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function entry(n: number): AuditEntry {
  return {
    incidentId: `inc-${n}`,
    service: 'users-api',
    contract: { id: 'users-api', version: 1 },
    outcome: 'released',
    tokenKeyId: 'k1',
    decisions: [{ path: 'entry.body.email', action: 'tokenize', sensitivity: 'internal', basis: 'contract' }],
    droppedUnknown: [`entry.body.extra${n}`],
    detectorHits: [{ detector: 'email', path: 'symptom.message', count: n + 1 }],
  };
}

async function writeFive(): Promise<string[]> {
  const log = createAuditLog({ file, key: KEY, now: () => new Date('2026-11-20T09:00:00Z') });
  for (let n = 0; n < 5; n++) await appendAudit(log, entry(n));
  return (await readFile(file, 'utf8')).trimEnd().split('\n');
}

const verify = (options: Partial<Parameters<typeof verifyAuditLog>[1]> = {}) => verifyAuditLog(file, { key: KEY, ...options });

describe('audit log', () => {
  it('chains records: sequence, key id, prevHash and a keyed MAC over the canonical record', async () => {
    const log = createAuditLog({ file, key: KEY, auditId: 'audit-users', now: () => new Date('2026-11-20T09:00:00Z') });
    const first = await appendAudit(log, entry(0));
    const second = await appendAudit(log, entry(1));
    expect(first).toEqual({ auditId: 'audit-users', sequence: 0, recordHash: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown });
    expect(second.sequence).toBe(1);
    const [a, b] = (await readFile(file, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(a).toMatchObject({ sequence: 0, keyId: KEY.id, prevHash: GENESIS_HASH, hash: first.recordHash, at: '2026-11-20T09:00:00.000Z', service: 'users-api' });
    expect(b).toMatchObject({ sequence: 1, prevHash: first.recordHash, hash: second.recordHash });
    expect(macRecord(a as never, KEY)).toBe(first.recordHash);
    // Not a plain hash: without the key the MAC cannot be recomputed.
    const { hash: _hash, ...rest } = a as Record<string, unknown>;
    expect(createHash('sha256').update(canonicalJson(rest)).digest('hex')).not.toBe(first.recordHash);
    expect(await verify()).toEqual({ ok: true, records: 2, head: { sequence: 1, hash: second.recordHash } });
    expect(JSON.parse(await readFile(auditHeadFile(file), 'utf8'))).toMatchObject({ sequence: 1, hash: second.recordHash, keyId: KEY.id });
  });

  it('keeps the log and its head readable by its owner only, in a folder only its owner can enter', async () => {
    await writeFive();
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(auditHeadFile(file))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'logs'))).mode & 0o777).toBe(0o700);
  });

  it('serializes concurrent appends into one unbroken chain', async () => {
    const log = createAuditLog({ file, key: KEY });
    const refs = await Promise.all(Array.from({ length: 20 }, (_, n) => log.append(entry(n))));
    expect(refs.map((ref) => ref.sequence)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(await verify()).toMatchObject({ ok: true, records: 20 });
  });

  it('keeps one chain when several processes append to one log at once', async () => {
    const writer = fileURLToPath(new URL('./testing/audit-writer.ts', import.meta.url));
    await Promise.all(
      [0, 1, 2].map((n) => run(process.execPath, ['--import', 'tsx', writer, file, JSON.stringify(KEY), String(n), '15'], { cwd: fileURLToPath(new URL('..', import.meta.url)) })),
    );
    const result = await verify();
    expect(result).toMatchObject({ ok: true, records: 45 });
    const incidents = (await readFile(file, 'utf8')).trimEnd().split('\n').map((line) => (JSON.parse(line) as { incidentId: string }).incidentId);
    expect(new Set(incidents).size).toBe(45);
  });

  it('continues an existing chain after reopening', async () => {
    await writeFive();
    const reopened = createAuditLog({ file, key: KEY });
    expect((await reopened.append(entry(5))).sequence).toBe(5);
    expect(await verify()).toMatchObject({ ok: true, records: 6 });
  });

  it('verifies records made under a previous key of the ring after a rotation', async () => {
    await writeFive();
    const rotated = createAuditLog({ file, key: { current: OTHER_KEY, previous: [KEY] } });
    await rotated.append(entry(5));
    expect(await verify({ key: { current: OTHER_KEY, previous: [KEY] } })).toMatchObject({ ok: true, records: 6 });
    expect(await verify({ key: OTHER_KEY })).toEqual({ ok: false, records: 0, brokenAt: { line: 1, sequence: 0, reason: 'unknown-key' } });
  });

  it('detects an edited record', async () => {
    const lines = await writeFive();
    lines[2] = lines[2]!.replace('entry.body.extra2', 'entry.body.other');
    await writeFile(file, `${lines.join('\n')}\n`);
    expect(await verify()).toEqual({ ok: false, records: 2, brokenAt: { line: 3, sequence: 2, reason: 'hash-mismatch' } });
  });

  it('detects an edit whose chain was recomputed without the key, whatever hash was used', async () => {
    const lines = await writeFive();
    // The attacker edits record 1 and re-chains every later record with a plain hash and then with a guessed key.
    for (const remac of [
      (record: Record<string, unknown>) => createHash('sha256').update(canonicalJson({ ...record, hash: undefined })).digest('hex'),
      (record: Record<string, unknown>) => macRecord(record as never, { id: KEY.id, secret: 'a-guessed-key-that-is-not-the-real-one' }),
    ]) {
      let prevHash = (JSON.parse(lines[0]!) as { hash: string }).hash;
      const forged = lines.map((line, index) => {
        if (index === 0) return line;
        const record = JSON.parse(line) as Record<string, unknown>;
        if (index === 1) record.droppedUnknown = [];
        record.prevHash = prevHash;
        record.hash = remac(record);
        prevHash = record.hash as string;
        return JSON.stringify(record);
      });
      await writeFile(file, `${forged.join('\n')}\n`);
      expect(await verify()).toEqual({ ok: false, records: 1, brokenAt: { line: 2, sequence: 1, reason: 'hash-mismatch' } });
    }
  });

  it('detects a dropped record', async () => {
    const lines = await writeFive();
    lines.splice(3, 1);
    await writeFile(file, `${lines.join('\n')}\n`);
    expect(await verify()).toEqual({ ok: false, records: 3, brokenAt: { line: 4, sequence: 4, reason: 'sequence-mismatch' } });
  });

  it('detects reordered records', async () => {
    const lines = await writeFive();
    [lines[1], lines[2]] = [lines[2]!, lines[1]!];
    await writeFile(file, `${lines.join('\n')}\n`);
    expect(await verify()).toEqual({ ok: false, records: 1, brokenAt: { line: 2, sequence: 2, reason: 'sequence-mismatch' } });
  });

  it('detects a truncated tail by the signed head beside the log, with no reference from the caller', async () => {
    const lines = await writeFive();
    await writeFile(file, `${lines.slice(0, 3).join('\n')}\n`);
    expect(await verify()).toEqual({ ok: false, records: 3, brokenAt: { line: 5, sequence: 4, reason: 'head-missing' } });
    // And when the head goes too, since a log with records is always signed.
    await rm(auditHeadFile(file));
    expect(await verify()).toEqual({ ok: false, records: 3, brokenAt: { line: 4, reason: 'head-missing' } });
  });

  it('detects a head rewritten to match a truncated log: it is signed', async () => {
    const lines = await writeFive();
    await writeFile(file, `${lines.slice(0, 3).join('\n')}\n`);
    const head = JSON.parse(await readFile(auditHeadFile(file), 'utf8')) as Record<string, unknown>;
    await writeFile(auditHeadFile(file), JSON.stringify({ ...head, sequence: 2, hash: (JSON.parse(lines[2]!) as { hash: string }).hash }));
    expect(await verify()).toEqual({ ok: false, records: 3, brokenAt: { line: 4, reason: 'head-forged' } });
  });

  it('detects a truncated tail against the head reference the pipeline holds', async () => {
    const log = createAuditLog({ file, key: KEY });
    await log.append(entry(0));
    const olderHead = await readFile(auditHeadFile(file), 'utf8');
    const head = await log.append(entry(1));
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    // Log and signed head both rolled back to an older copy of the two: only the outside reference knows.
    await writeFile(file, `${lines[0]}\n`);
    await writeFile(auditHeadFile(file), olderHead);
    expect(await verify()).toMatchObject({ ok: true, records: 1 });
    expect(await verify({ head })).toEqual({ ok: false, records: 1, brokenAt: { line: 2, sequence: 1, reason: 'head-missing' } });
  });

  it('accepts a signed head one record behind the log: a crash between a record and its head', async () => {
    const lines = await writeFive();
    const log = createAuditLog({ file, key: KEY });
    const head = await readFile(auditHeadFile(file), 'utf8');
    await log.append(entry(5));
    await writeFile(auditHeadFile(file), head);
    expect(await verify()).toMatchObject({ ok: true, records: lines.length + 1 });
  });

  it('reports an unparseable line and refuses to append onto a broken chain', async () => {
    const lines = await writeFive();
    lines[4] = '{"sequence": 4, "truncated';
    await writeFile(file, `${lines.join('\n')}\n`);
    expect(await verify()).toEqual({ ok: false, records: 4, brokenAt: { line: 5, reason: 'unparseable' } });
    await expect(createAuditLog({ file, key: KEY }).append(entry(9))).rejects.toMatchObject({ code: 'PRIVACY_BLOCKED' });
  });

  it('names a log an older version wrote without a key, and tells how to start a keyed one', async () => {
    const lines = await writeFive();
    const unkeyed = lines.map((line) => {
      const { keyId: _keyId, ...record } = JSON.parse(line) as Record<string, unknown>;
      return JSON.stringify(record);
    });
    await writeFile(file, `${unkeyed.join('\n')}\n`);
    expect(await verify()).toEqual({ ok: false, records: 0, brokenAt: { line: 1, reason: 'unkeyed' } });
    await expect(createAuditLog({ file, key: KEY }).append(entry(9))).rejects.toThrow(/written before records were MACed under a key; move .* aside/);
  });

  it('treats a missing file as an empty log', async () => {
    expect(await verifyAuditLog(join(dir, 'none.jsonl'), { key: KEY })).toEqual({ ok: true, records: 0 });
  });

  it('rejects an entry carrying fields outside the schema shape', async () => {
    const log = createAuditLog({ file, key: KEY });
    await expect(log.append({ ...entry(0), service: '' })).rejects.toThrow();
    expect((await log.append(entry(0))).sequence).toBe(0);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and omits undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[2,{"y":2,"z":1}]},"b":1}');
  });
});
