import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvidenceStore } from '@tracemend/ingest';
import { createVaultWriter, privacyStateFiles } from '@tracemend/privacy-gate';
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

describe('tracemend evidence erase', () => {
  it("erases a subject's raw alerts named in a values file, and prints counts, never a value", async () => {
    const state = join(dir, 'erase-state');
    const store = createEvidenceStore(join(state, 'evidence'));
    const subject = await store.putAlert({ bytes: Buffer.from('{"enduser.id":"mara.lindqvist@corp-mail.se"}'), format: 'otlp-traces-json' });
    const other = await store.putAlert({ bytes: Buffer.from('{"enduser.id":"jonas.berg@example.org"}'), format: 'otlp-traces-json' });
    const values = join(dir, 'subject.txt');
    await writeFile(values, 'mara.lindqvist@corp-mail.se\n+46701234567\n\n');
    const env = { ...process.env, TRACEMEND_STATE_DIR: state };

    const io = capture();
    expect(await runCli(['evidence', 'erase', '--values', values], io, env), io.text()).toBe(0);
    expect(io.text()).toMatch(/^erased the data holding any of 2 values: 1 raw alert and 0 envelopes from .*evidence \(\d+ bytes\); the vault was not searched: set TRACEMEND_VAULT_KEY to erase the subject's tokens from .*tokens\.sqlite too$/);
    expect(io.text()).not.toContain('mara');
    await expect(store.getAlert(subject.alertId)).rejects.toThrow(/not in the evidence store/);
    expect((await store.getAlert(other.alertId)).bytes.toString()).toContain('jonas.berg');

    // With the vault key, the subject's tokens go from the vault too.
    const vaultKey = 'operator-vault-key-for-cli-tests-0123456789';
    await createVaultWriter({ file: privacyStateFiles(state).vault, key: vaultKey }).record([
      { token: 'u1a2b3c4d@example.com', type: 'email', raw: 'mara.lindqvist@corp-mail.se', keyId: 'k1', incidentId: 'inc-1' },
      { token: 'u9f8e7d6c@example.com', type: 'email', raw: 'jonas.berg@example.org', keyId: 'k1', incidentId: 'inc-2' },
    ]);
    const withVault = capture();
    await writeFile(values, 'mara.lindqvist@corp-mail.se\n');
    expect(await runCli(['evidence', 'erase', '--values', values, '--json'], withVault, { ...env, TRACEMEND_VAULT_KEY: vaultKey }), withVault.text()).toBe(0);
    expect(JSON.parse(withVault.text())).toMatchObject({ alerts: 0, vault: { records: 1, tokens: ['u1a2b3c4d@example.com'] } });

    const missing = capture();
    expect(await runCli(['evidence', 'erase'], missing, env)).toBe(2);
    expect(missing.text()).toMatch(/say whose evidence to erase with --values <file\|->/);
    const short = capture();
    await writeFile(values, 'ab\n');
    expect(await runCli(['evidence', 'erase', '--values', values], short, env)).toBe(2);
    expect(short.text()).toMatch(/at least 4 characters/);
  });
});
