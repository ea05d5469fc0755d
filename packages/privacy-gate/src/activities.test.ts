import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@tracemend/telemetry';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { usersApiCase } from '../test/fixture-envelopes';
import { createPrivacyGateActivities } from './activities';
import { createAuditLog, verifyAuditLog } from './audit';

const TOKEN_KEY = { id: 'k-test', secret: 'test-only-token-key-0123456789abcdef' };

const contracts = fileURLToPath(new URL('../../../fixtures/contracts/', import.meta.url));
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-gate-activity-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the gate activity', () => {
  it('reads the stored envelope, applies the service contract, audits and keeps the raw-value hashes', async () => {
    const fixture = usersApiCase();
    const saved = new Map<string, string[]>();
    const requested: string[] = [];
    const audit = createAuditLog({ file: join(dir, 'audit.jsonl'), key: TOKEN_KEY, auditId: 'audit-activity' });
    const { gate } = createPrivacyGateActivities({
      loadEnvelope: (id) => {
        requested.push(id);
        return Promise.resolve(fixture.envelope);
      },
      contractFile: (service) => Promise.resolve(join(contracts, `${service}.yaml`)),
      key: TOKEN_KEY,
      audit,
      saveRawValueHashes: (hash, hashes) => {
        saved.set(hash, hashes);
        return Promise.resolve();
      },
      logger: createLogger({ name: 'gate-test', level: 'silent' }),
    });
    const envelopeId = 'f'.repeat(64);
    const gated = await gate({
      incidentId: 'inc-9',
      envelope: { schemaVersion: 1, envelopeId, fingerprint: fixture.envelope.identity.fingerprint, service: 'users-api', errorType: 'TypeError', version: 'v' },
    });

    expect(requested).toEqual([envelopeId]);
    expect(gated.privacy.contract.id).toBe('users-api');
    const text = JSON.stringify(gated);
    for (const raw of fixture.raw) expect(text).not.toContain(raw);
    expect(saved.get(gated.privacy.audit.recordHash)?.length).toBeGreaterThan(0);
    expect((await verifyAuditLog(join(dir, 'audit.jsonl'), { key: TOKEN_KEY })).ok).toBe(true);
  });

  it('fails with DATA_CONTRACT_MISSING when the service has no contract file', async () => {
    const { gate } = createPrivacyGateActivities({
      loadEnvelope: () => Promise.resolve(usersApiCase().envelope),
      contractFile: () => Promise.resolve(join(dir, 'absent.yaml')),
      key: TOKEN_KEY,
      audit: createAuditLog({ file: join(dir, 'audit.jsonl'), key: TOKEN_KEY }),
      saveRawValueHashes: () => Promise.resolve(),
      logger: createLogger({ name: 'gate-test', level: 'silent' }),
    });
    await expect(
      gate({ incidentId: 'i', envelope: { schemaVersion: 1, envelopeId: 'a'.repeat(64), fingerprint: 'abcdef12', service: 'users-api', errorType: 'TypeError', version: 'v' } }),
    ).rejects.toMatchObject({ code: 'DATA_CONTRACT_MISSING' });
  });
});
