import { chmod, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
});
