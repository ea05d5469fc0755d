import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvidenceStore } from '@tracemend/ingest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli';
import type { CliIo } from '../src/io';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-evidence-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function capture(): CliIo & { text(): string } {
  const lines: string[] = [];
  return { out: (text) => lines.push(text), err: (text) => lines.push(text), text: () => lines.join('\n') };
}

describe('tracemend evidence purge', () => {
  it('deletes the raw alerts older than the retention from the state folder and says what went', async () => {
    const store = createEvidenceStore(join(dir, 'evidence'));
    const old = await store.putAlert({ bytes: Buffer.from('{"from":"march"}'), format: 'otlp-traces-json', receivedAt: '2026-03-01T00:00:00.000Z', serviceHint: 'orders-api' });
    const recent = await store.putAlert({ bytes: Buffer.from('{"from":"today"}'), format: 'otlp-traces-json', serviceHint: 'orders-api' });
    const env = { ...process.env, TRACEMEND_STATE_DIR: dir };

    const io = capture();
    expect(await runCli(['evidence', 'purge', '--older-than', '30d'], io, env), io.text()).toBe(0);
    expect(io.text()).toMatch(/^purged from .*evidence, everything from before \S+: 1 raw alert, 0 envelopes, 0 raw-value hash files, 0 alert event logs, 0 pending alerts \(\d+ bytes\)$/);
    await expect(store.getAlert(old.alertId)).rejects.toThrow(/not in the evidence store/);
    expect((await store.alertsForService('orders-api')).map((ref) => ref.alertId)).toEqual([recent.alertId]);

    const json = capture();
    expect(await runCli(['evidence', 'purge', '--older-than', '30d', '--json'], json, env)).toBe(0);
    expect(JSON.parse(json.text())).toMatchObject({ evidence: join(dir, 'evidence'), alerts: 0 });
  });

  it('refuses to guess a retention', async () => {
    const env = { ...process.env, TRACEMEND_STATE_DIR: dir };
    for (const [args, reason] of [
      [['evidence', 'purge'], /say how old evidence must be to go, e\.g\. --older-than 30d/],
      [['evidence', 'purge', '--older-than', '30'], /--older-than takes a whole number of days such as 30d, got "30"/],
      [['evidence', 'drop'], /unknown action "drop"/],
    ] as const) {
      const io = capture();
      expect(await runCli([...args], io, env)).toBe(2);
      expect(io.text()).toMatch(reason);
      expect(io.text()).toContain('usage: tracemend evidence purge --older-than <days>d');
    }
  });
});
