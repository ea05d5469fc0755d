import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TracemendError, type RepairInput } from '@tracemend/contracts';
import { exampleLocalization, exampleMinimalRepro, exampleRepoTarget } from '@tracemend/contracts/examples';
import { createLogger } from '@tracemend/telemetry';
import { createRepairActivities } from './activities';

const SUSPECT_FILE = 'src/handlers/create-user.ts';
const SOURCE = [
  'export function createUser(body) {',
  '  const prefs = body.preferences;',
  '  prefs.marketing.push("signup");',
  '  return prefs;',
  '}',
  '',
].join('\n');
const HOST_SECRET = 'tracemend-token-key: 0123456789abcdef\n';

let base: string;
let checkout: string;
let hostFile: string;

const input: RepairInput = {
  incidentId: 'inc-repair-1',
  target: exampleRepoTarget,
  minimal: { ...exampleMinimalRepro, signature: { ...exampleMinimalRepro.signature, normalizedMessage: "Cannot read properties of undefined (reading 'push')" } },
  localization: { ...exampleLocalization, suspects: exampleLocalization.suspects.map((suspect) => ({ ...suspect, line: 3 })) },
  round: 1,
  maxCandidates: 5,
  rejected: [],
};

function repairIn(dir: string) {
  return createRepairActivities({ checkoutOf: () => Promise.resolve(dir), logger: createLogger({ name: 'repair-test', level: 'silent' }) });
}

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'tracemend-repair-'));
  checkout = join(base, 'checkout');
  await mkdir(join(checkout, 'src', 'handlers'), { recursive: true });
  hostFile = join(base, 'token.key');
  await writeFile(hostFile, HOST_SECRET);
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('the repair stage over a sandbox-writable checkout', () => {
  it('reads a normal suspect file and proposes candidates from it', async () => {
    await writeFile(join(checkout, SUSPECT_FILE), SOURCE);
    const result = await repairIn(checkout).repair(input);
    expect(result.candidates.length).toBeGreaterThan(0);
    expect(result.candidates[0]?.editPlan.edits[0]?.file).toBe(SUSPECT_FILE);
  });

  it('refuses a suspect file that links to a host file, naming it, so the file never reaches a candidate or prompt', async () => {
    await symlink(hostFile, join(checkout, SUSPECT_FILE));
    const error: unknown = await repairIn(checkout)
      .repair(input)
      .then(
        () => undefined,
        (reason: unknown) => reason,
      );
    expect(error).toBeInstanceOf(TracemendError);
    expect((error as TracemendError).code).toBe('SANDBOX_ESCAPE');
    expect((error as TracemendError).message).toContain(SUSPECT_FILE);
    expect((error as TracemendError).message).not.toContain('tracemend-token-key');
  });
});
