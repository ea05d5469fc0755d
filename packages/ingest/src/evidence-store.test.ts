import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exampleFailureEnvelope } from '@tracemend/contracts/examples';
import { afterEach, describe, expect, it } from 'vitest';
import { createEvidenceStore } from './evidence-store';

let root: string | undefined;
afterEach(async () => {
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

/** Every path under `dir` (itself included) with its permission bits. */
async function modes(dir: string): Promise<Map<string, { mode: number; folder: boolean }>> {
  const found = new Map<string, { mode: number; folder: boolean }>();
  const own = await stat(dir);
  found.set('.', { mode: own.mode & 0o777, folder: true });
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    found.set(path.slice(dir.length + 1), { mode: (await stat(path)).mode & 0o777, folder: entry.isDirectory() });
  }
  return found;
}

describe('the evidence store on disk', () => {
  it('keeps every raw alert, envelope, index and event readable by its owner only, in folders only the owner can enter', async () => {
    root = await mkdtemp(join(tmpdir(), 'evidence-modes-'));
    const dir = join(root, 'evidence');
    // An earlier version left the store's own folder open to everyone.
    await mkdir(dir, { mode: 0o755 });
    await chmod(dir, 0o755);
    const store = createEvidenceStore(dir);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const ref = await store.putAlert({ bytes: Buffer.from('{"resourceSpans":[]}'), format: 'otlp-traces-json', serviceHint: 'orders-api', traceIds: [traceId] });
    await store.appendAlertEvent({ at: new Date().toISOString(), alertId: ref.alertId, alert: 0, kind: 'attached', incidentId: 'ab12cd34ef' });
    await store.putRawValueHashes('ab12cd34ef', ['00ff']);
    await store.putPending({ id: 'a1b2c3d4', alertId: ref.alertId, alert: 0, receivedAt: new Date().toISOString(), until: new Date(Date.now() + 60_000).toISOString(), traceId });

    const found = await modes(dir);
    expect([...found.values()].filter((entry) => !entry.folder)).not.toHaveLength(0);
    for (const [path, { mode, folder }] of found) expect(mode.toString(8), path).toBe(folder ? '700' : '600');
  });

  it('purges what is older than the retention, index entries included, and keeps the rest', async () => {
    root = await mkdtemp(join(tmpdir(), 'evidence-purge-'));
    const dir = join(root, 'evidence');
    const store = createEvidenceStore(dir);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const old = await store.putAlert({ bytes: Buffer.from('{"old":true}'), format: 'otlp-traces-json', receivedAt: '2026-09-01T00:00:00.000Z', serviceHint: 'orders-api', traceIds: [traceId] });
    const recent = await store.putAlert({ bytes: Buffer.from('{"recent":true}'), format: 'otlp-traces-json', receivedAt: '2026-12-01T00:00:00.000Z', serviceHint: 'orders-api' });
    await store.putRawValueHashes('ab12cd34ef', ['00ff']);
    await store.putRawValueHashes('cd34ef56ab', ['11ee']);
    await store.appendAlertEvent({ at: '2026-09-01T00:00:01.000Z', alertId: old.alertId, alert: 0, kind: 'attached', incidentId: 'ab12cd34ef' });
    await store.putPending({ id: 'a1b2c3d4', alertId: old.alertId, alert: 0, receivedAt: '2026-09-01T00:00:00.000Z', until: '2026-09-01T00:10:00.000Z' });
    // Files last written in September, as they would be on a store that has run since then.
    const september = new Date('2026-09-02T00:00:00.000Z');
    for (const path of [join(dir, 'egress', 'ab12cd34ef.json'), join(dir, 'alert-events', `alert-${old.alertId}.jsonl`), join(dir, 'alert-events', 'incident-ab12cd34ef.jsonl')]) {
      await utimes(path, september, september);
    }

    const report = await store.purge(new Date('2026-11-01T00:00:00.000Z'));
    expect(report).toMatchObject({ alerts: 1, envelopes: 0, rawValueHashes: 1, alertEventLogs: 2, pending: 1 });
    expect(report.bytes).toBeGreaterThan(0);
    await expect(store.getAlert(old.alertId)).rejects.toThrow(/not in the evidence store/);
    expect(await store.alertsForTrace(traceId)).toEqual([]);
    expect((await store.alertsForService('orders-api')).map((ref) => ref.alertId)).toEqual([recent.alertId]);
    expect((await store.getAlert(recent.alertId)).bytes.toString()).toBe('{"recent":true}');
    expect(await store.getRawValueHashes('ab12cd34ef')).toEqual([]);
    expect(await store.getRawValueHashes('cd34ef56ab')).toEqual(['11ee']);
    expect(await store.listPending()).toEqual([]);
    expect(await readdir(join(dir, 'by-trace'))).toEqual([]);
    await expect(store.purge(new Date('not a date'))).rejects.toThrow(/valid date/);
    // A purge reads no sealed file, so it makes no evidence key beside a folder it was pointed at.
    const elsewhere = join(root, 'elsewhere');
    await createEvidenceStore(join(elsewhere, 'evidence')).purge(new Date());
    expect(await readdir(elsewhere)).toEqual(['evidence']);
  });

  it('seals raw alerts and envelopes, so no file holds them in plain text, and opens them only under the same key', async () => {
    root = await mkdtemp(join(tmpdir(), 'evidence-sealed-'));
    const dir = join(root, 'evidence');
    const raw = '{"resourceSpans":[{"attributes":{"enduser.id":"mara.lindqvist@corp-mail.se"}}]}';
    // The gateway and the worker of one machine: two stores over one folder share the local key.
    const gateway = createEvidenceStore(dir);
    const worker = createEvidenceStore(dir);
    const ref = await gateway.putAlert({ bytes: Buffer.from(raw), format: 'otlp-traces-json' });
    const envelope = await gateway.putEnvelope(exampleFailureEnvelope);
    expect((await worker.getAlert(ref.alertId)).bytes.toString()).toBe(raw);
    expect(await worker.getEnvelope(envelope.envelopeId)).toEqual(exampleFailureEnvelope);

    const keyFile = join(root, 'keys', 'evidence-key');
    expect(((await stat(keyFile)).mode & 0o777).toString(8)).toBe('600');
    for (const [folder, name] of [['alerts', `${ref.alertId}.body`], ['envelopes', `${envelope.envelopeId}.json`]] as const) {
      const stored = await readFile(join(dir, folder, name));
      expect(stored.subarray(0, 22).toString()).toBe('tracemend-evidence-v1\n');
      expect(stored.toString('latin1')).not.toContain('mara.lindqvist');
      expect(stored.toString('latin1')).not.toContain(exampleFailureEnvelope.identity.service);
    }

    // Another key opens nothing, and says which setting to look at.
    const other = createEvidenceStore(dir, { key: 'another-evidence-key-0123456789abcdef' });
    await expect(other.getAlert(ref.alertId)).rejects.toThrow(/does not open under this evidence key: .*TRACEMEND_EVIDENCE_KEY/);
    // A file swapped under another name does not open either.
    await writeFile(join(dir, 'envelopes', 'ab12cd34ef.json'), await readFile(join(dir, 'alerts', `${ref.alertId}.body`)));
    await expect(worker.getEnvelope('ab12cd34ef')).rejects.toThrow(/does not open/);
    // A plain alert an earlier version wrote still reads.
    await writeFile(join(dir, 'alerts', `${'c'.repeat(64)}.body`), '{"plain":true}');
    await writeFile(join(dir, 'alerts', `${'c'.repeat(64)}.ref.json`), JSON.stringify({ ...ref, alertId: 'c'.repeat(64) }));
    expect((await worker.getAlert('c'.repeat(64))).bytes.toString()).toBe('{"plain":true}');
    expect(() => createEvidenceStore(dir, { key: 'short' })).not.toThrow();
    await expect(createEvidenceStore(dir, { key: 'short' }).getAlert(ref.alertId)).rejects.toThrow(/at least 32 bytes/);
  });

  it("erases a data subject's raw alerts and envelopes, whether the value is written plainly or escaped, and nothing else", async () => {
    root = await mkdtemp(join(tmpdir(), 'evidence-erase-'));
    const store = createEvidenceStore(join(root, 'evidence'));
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const plain = await store.putAlert({ bytes: Buffer.from('{"enduser.id":"mara.lindqvist@corp-mail.se"}'), format: 'otlp-traces-json', serviceHint: 'orders-api', traceIds: [traceId] });
    // JSON writers may escape non-ASCII: "Sofía" as "Sof\u00eda".
    const escaped = await store.putAlert({ bytes: Buffer.from('{"note":"call Sof\\u00eda Garc\\u00eda"}'), format: 'otlp-logs-json' });
    const other = await store.putAlert({ bytes: Buffer.from('{"enduser.id":"jonas.berg@example.org"}'), format: 'otlp-traces-json', serviceHint: 'orders-api' });
    const subject = { ...exampleFailureEnvelope, entry: { ...exampleFailureEnvelope.entry, body: { email: 'mara.lindqvist@corp-mail.se' } } } as typeof exampleFailureEnvelope;
    const envelope = await store.putEnvelope(subject);
    const untouched = await store.putEnvelope(exampleFailureEnvelope);

    const report = await store.erase(['mara.lindqvist@corp-mail.se', 'Sofía García']);
    expect(report).toMatchObject({ alerts: 2, envelopes: 1 });
    await expect(store.getAlert(plain.alertId)).rejects.toThrow(/not in the evidence store/);
    await expect(store.getAlert(escaped.alertId)).rejects.toThrow(/not in the evidence store/);
    await expect(store.getEnvelope(envelope.envelopeId)).rejects.toThrow(/not in the evidence store/);
    expect((await store.getAlert(other.alertId)).bytes.toString()).toContain('jonas.berg');
    expect(await store.getEnvelope(untouched.envelopeId)).toEqual(exampleFailureEnvelope);
    expect(await store.alertsForTrace(traceId)).toEqual([]);
    expect((await store.alertsForService('orders-api')).map((ref) => ref.alertId)).toEqual([other.alertId]);
    await expect(store.erase(['abc'])).rejects.toThrow(/at least 4 characters/);
    await expect(store.erase([])).rejects.toThrow(/needs the subject's values/);
  });
});
