import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendAudit, canonicalJson, createAuditLog, GENESIS_HASH, hashRecord, verifyAuditLog, type AuditEntry } from './audit';

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
  const log = createAuditLog({ file, now: () => new Date('2026-11-20T09:00:00Z') });
  for (let n = 0; n < 5; n++) await appendAudit(log, entry(n));
  return (await readFile(file, 'utf8')).trimEnd().split('\n');
}

describe('audit log', () => {
  it('chains records: sequence, prevHash and a hash over the canonical record', async () => {
    const log = createAuditLog({ file, auditId: 'audit-users', now: () => new Date('2026-11-20T09:00:00Z') });
    const first = await appendAudit(log, entry(0));
    const second = await appendAudit(log, entry(1));
    expect(first).toEqual({ auditId: 'audit-users', sequence: 0, recordHash: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown });
    expect(second.sequence).toBe(1);
    const [a, b] = (await readFile(file, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(a).toMatchObject({ sequence: 0, prevHash: GENESIS_HASH, hash: first.recordHash, at: '2026-11-20T09:00:00.000Z', service: 'users-api' });
    expect(b).toMatchObject({ sequence: 1, prevHash: first.recordHash, hash: second.recordHash });
    expect(hashRecord(a as never)).toBe(first.recordHash);
    expect(await verifyAuditLog(file)).toEqual({ ok: true, records: 2, head: { sequence: 1, hash: second.recordHash } });
  });

  it('serializes concurrent appends into one unbroken chain', async () => {
    const log = createAuditLog({ file });
    const refs = await Promise.all(Array.from({ length: 20 }, (_, n) => log.append(entry(n))));
    expect(refs.map((ref) => ref.sequence)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(await verifyAuditLog(file)).toMatchObject({ ok: true, records: 20 });
  });

  it('continues an existing chain after reopening', async () => {
    await writeFive();
    const reopened = createAuditLog({ file });
    expect((await reopened.append(entry(5))).sequence).toBe(5);
    expect(await verifyAuditLog(file)).toMatchObject({ ok: true, records: 6 });
  });

  it('detects an edited record', async () => {
    const lines = await writeFive();
    lines[2] = lines[2]!.replace('entry.body.extra2', 'entry.body.other');
    await writeFile(file, `${lines.join('\n')}\n`);
    expect(await verifyAuditLog(file)).toEqual({ ok: false, records: 2, brokenAt: { line: 3, sequence: 2, reason: 'hash-mismatch' } });
  });

  it('detects an edited record whose hash was recomputed, at the next link', async () => {
    const lines = await writeFive();
    const record = JSON.parse(lines[1]!) as Record<string, unknown>;
    record.droppedUnknown = [];
    record.hash = hashRecord(record as never);
    lines[1] = JSON.stringify(record);
    await writeFile(file, `${lines.join('\n')}\n`);
    expect(await verifyAuditLog(file)).toEqual({ ok: false, records: 2, brokenAt: { line: 3, sequence: 2, reason: 'prev-hash-mismatch' } });
  });

  it('detects a dropped record', async () => {
    const lines = await writeFive();
    lines.splice(3, 1);
    await writeFile(file, `${lines.join('\n')}\n`);
    expect(await verifyAuditLog(file)).toEqual({ ok: false, records: 3, brokenAt: { line: 4, sequence: 4, reason: 'sequence-mismatch' } });
  });

  it('detects reordered records', async () => {
    const lines = await writeFive();
    [lines[1], lines[2]] = [lines[2]!, lines[1]!];
    await writeFile(file, `${lines.join('\n')}\n`);
    expect(await verifyAuditLog(file)).toEqual({ ok: false, records: 1, brokenAt: { line: 2, sequence: 2, reason: 'sequence-mismatch' } });
  });

  it('detects a truncated tail against the head reference the pipeline holds', async () => {
    const log = createAuditLog({ file });
    let head = await log.append(entry(0));
    head = await log.append(entry(1));
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    await writeFile(file, `${lines[0]}\n`);
    expect(await verifyAuditLog(file, { head })).toEqual({ ok: false, records: 1, brokenAt: { line: 2, sequence: 1, reason: 'head-missing' } });
  });

  it('reports an unparseable line and refuses to append onto a broken chain', async () => {
    const lines = await writeFive();
    lines[4] = '{"sequence": 4, "truncated';
    await writeFile(file, `${lines.join('\n')}\n`);
    expect(await verifyAuditLog(file)).toEqual({ ok: false, records: 4, brokenAt: { line: 5, reason: 'unparseable' } });
    await expect(createAuditLog({ file }).append(entry(9))).rejects.toMatchObject({ code: 'PRIVACY_BLOCKED' });
  });

  it('treats a missing file as an empty log', async () => {
    expect(await verifyAuditLog(join(dir, 'none.jsonl'))).toEqual({ ok: true, records: 0 });
  });

  it('rejects an entry carrying fields outside the schema shape', async () => {
    const log = createAuditLog({ file });
    await expect(log.append({ ...entry(0), service: '' })).rejects.toThrow();
    expect((await log.append(entry(0))).sequence).toBe(0);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and omits undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[2,{"y":2,"z":1}]},"b":1}');
  });
});
