import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalizeErrorMessage, TracemendError, type RepairInput } from '@tracemend/contracts';
import { exampleGatedEnvelope, exampleLocalization, exampleMinimalRepro, exampleRepoTarget } from '@tracemend/contracts/examples';
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

/** The repair input the workflow builds for a crash: the gated production symptom and the minimal repro's signature of it. */
function inputFor(message: string, frames: RepairInput['symptom']['frames'] = []): RepairInput {
  return {
    incidentId: 'inc-repair-1',
    target: exampleRepoTarget,
    symptom: { ...exampleGatedEnvelope.envelope.symptom, message, frames },
    minimal: { ...exampleMinimalRepro, signature: { ...exampleMinimalRepro.signature, normalizedMessage: normalizeErrorMessage(message) } },
    localization: { ...exampleLocalization, suspects: exampleLocalization.suspects.map((suspect) => ({ ...suspect, line: 3 })) },
    round: 1,
    maxCandidates: 5,
    rejected: [],
  };
}

const input: RepairInput = {
  ...inputFor("Cannot read properties of undefined (reading 'push')"),
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

  it.each([
    ["Cannot set properties of undefined (setting 'marketing')", 'prefs.marketing = ["signup"];'],
    ["Cannot set property 'marketing' of undefined", 'prefs.marketing = ["signup"];'],
    ["Cannot read property 'push' of undefined", 'prefs.marketing.push("signup");'],
  ])('repairs from the message the runtime wrote, whose property the normalized signature masks: %s', async (message, line) => {
    await writeFile(join(checkout, SUSPECT_FILE), SOURCE.replace('prefs.marketing.push("signup");', line));
    expect(normalizeErrorMessage(message)).toContain("'<v>'");
    const result = await repairIn(checkout).repair(inputFor(message));
    expect(result.candidates.length).toBeGreaterThan(0);
    expect(result.candidates[0]?.editPlan.edits[0]?.file).toBe(SUSPECT_FILE);
    expect(result.candidates[0]?.editPlan.edits[0]?.after).toMatch(/prefs/);
  });

  it("takes V8's column from a production frame on the suspect line, repairing the access it points at", async () => {
    // Two reads of `.push` on one line: the column picks the second receiver.
    const crashLine = '  prefs.tags.push("a"); prefs.marketing.push("signup");';
    await writeFile(join(checkout, SUSPECT_FILE), SOURCE.replace('  prefs.marketing.push("signup");', crashLine));
    const column = crashLine.indexOf('push', crashLine.indexOf('marketing')) + 1;
    const frames = [{ file: `/srv/app/${SUSPECT_FILE}`, line: 3, column, function: 'createUser', inApp: true }];
    const result = await repairIn(checkout).repair(inputFor("Cannot read properties of undefined (reading 'push')", frames));
    const after = result.candidates.map((candidate) => candidate.editPlan.edits[0]?.after ?? '');
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((text) => !/prefs\.tags\?\.|\(prefs\.tags \?\?/.test(text))).toBe(true);
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
