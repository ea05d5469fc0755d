import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureAlertPaths, fixtureCatalogYaml } from '@tracemend/fixture-kit';
import { buildEnvelope, type OtlpLogs, type OtlpTraces } from '@tracemend/ingest';
import type { GatePreview } from '@tracemend/privacy-gate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../src/io';
import { runStage } from '../src/stage';

const USERS_API_CONTRACT = new URL('../../../fixtures/contracts/users-api.yaml', import.meta.url).pathname;
/** The personal values and secrets the users-api alert carries. */
const RAW_VALUES = ['Mara Lindqvist', 'mara.lindqvist@example.com', '+46701234567', 'sk_live_51NfT8qL2bX9vK3mQ7pR4sW6yZ0aC5dE8', 'AcmeShop-iOS'];

let dir: string;
let env: NodeJS.ProcessEnv;
let alert: string;
let envelope: string;

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (text) => stdout.push(text), err: (text) => stderr.push(text) };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-gate-dry-run-'));
  const catalog = join(dir, 'tracemend.config.yaml');
  await writeFile(catalog, fixtureCatalogYaml({ 'users-api': '/absent/users-api.git', leaderboard: '/absent/leaderboard.git', 'checkout-worker': '/absent/checkout-worker.git' }));
  env = { TRACEMEND_STATE_DIR: join(dir, 'state'), TRACEMEND_CONFIG: catalog };
  const paths = fixtureAlertPaths('users-api');
  alert = await readFile(paths.traces, 'utf8');
  const receivedAt = '2026-11-20T12:00:00.000Z';
  envelope = JSON.stringify(
    buildEnvelope({
      traces: { source: { alertId: 'a'.repeat(64), format: 'otlp-traces-json', receivedAt }, body: JSON.parse(alert) as OtlpTraces },
      logs: [{ source: { alertId: 'b'.repeat(64), format: 'otlp-logs-json', receivedAt }, body: JSON.parse(await readFile(paths.logs, 'utf8')) as OtlpLogs }],
    }),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function stateWritten(): Promise<boolean> {
  return access(join(dir, 'state')).then(
    () => true,
    () => false,
  );
}

describe('tracemend gate --dry-run', () => {
  it('prints a decision table for a raw alert under a contract file, with no value, and writes nothing', async () => {
    const io = capture();
    expect(await runStage('gate', ['--dry-run', '--contract', USERS_API_CONTRACT, '-'], io, env, () => Promise.resolve(alert))).toBe(0);
    const text = io.stdout.join('\n');
    const lines = text.split('\n');
    expect(lines[0]).toBe('dry run: data contract users-api v1 on an envelope from users-api; the gate would release the envelope');
    expect(lines).toContainEqual(expect.stringMatching(/^PATH\s+ACTION\s+SENSITIVITY\s+TYPE\s+RULE\s+HITS$/));
    expect(lines).toContainEqual(expect.stringMatching(/^entry\.body\.email\s+tokenize\s+internal\s+email\s+entry\.body\.email$/));
    expect(lines).toContainEqual(expect.stringMatching(/^entry\.headers\.authorization\s+drop\s+secret\s+entry\.headers\.authorization$/));
    expect(lines).toContainEqual(expect.stringMatching(/^entry\.headers\.user-agent\s+drop\s+internal\s+entry\.headers\.user-agent$/));
    for (const raw of RAW_VALUES) expect(text).not.toContain(raw);
    expect(await stateWritten()).toBe(false);
  });

  it('--json gives the preview of an envelope, with the contract taken from the service catalog', async () => {
    const io = capture();
    expect(await runStage('gate', ['--dry-run', '--json'], io, env, () => Promise.resolve(envelope))).toBe(0);
    const preview = JSON.parse(io.stdout.join('')) as GatePreview & { dryRun: boolean };
    expect(preview).toMatchObject({ dryRun: true, service: 'users-api', contract: { id: 'users-api', version: 1 }, outcome: 'released' });
    expect(preview.decisions).toContainEqual({ path: 'entry.body.phone', action: 'tokenize', sensitivity: 'internal', basis: 'contract', pattern: 'entry.body.phone', type: 'phone' });
    expect(preview.decisions.filter((decision) => decision.basis === 'default-deny').map((decision) => decision.path).sort()).toEqual(preview.droppedUnknown);
    expect(preview.decisions.some((decision) => decision.path.startsWith('logs.'))).toBe(true);
    for (const raw of RAW_VALUES) expect(JSON.stringify(preview)).not.toContain(raw);
    expect(await stateWritten()).toBe(false);
  });

  it('lists every leaf as default deny under an empty contract and shows detector hits with counts', async () => {
    const contract = join(dir, 'empty.yaml');
    await writeFile(contract, 'service: users-api\nversion: 4\nfields:\n  - { path: logs.*.body, action: allow, sensitivity: internal }\n');
    // A log line that names a customer twice and leaks a key: allowed by the contract, caught by the detectors.
    const withLeak = JSON.parse(envelope) as { logs: { body: string }[] };
    const [first] = withLeak.logs;
    if (first === undefined) throw new Error('the fixture envelope has no log record');
    first.body = 'retry for ann.berg@corp-mail.se (was ann.berg@corp-mail.se) with sk_live_51NfT8qL2bX9vK3mQ7pR4sW6yZ0aC5dE8';
    const io = capture();
    expect(await runStage('gate', ['--dry-run', '--contract', contract], io, env, () => Promise.resolve(JSON.stringify(withLeak)))).toBe(0);
    const text = io.stdout.join('\n');
    expect(text).toContain('data contract users-api v4');
    expect(text).toMatch(/^entry\.body\.email\s+drop\s+secret\s+default deny$/m);
    expect(text).toMatch(/^logs\.\*\.body\s+allow\s+internal\s+logs\.\*\.body$/m);
    expect(text).toMatch(/^logs\.\*\.body\s+tokenize\s+internal\s+detector email\s+2$/m);
    expect(text).toMatch(/^logs\.\*\.body\s+redact\s+secret\s+detector stripe-key\s+1$/m);
    for (const raw of [...RAW_VALUES, 'ann.berg@corp-mail.se']) expect(text).not.toContain(raw);
  });

  it('exits 1 naming the reason when the gate would refuse the contract', async () => {
    const contract = join(dir, 'allows-secret.yaml');
    await writeFile(contract, 'service: users-api\nversion: 2\nfields:\n  - { path: entry.headers.authorization, action: allow, sensitivity: secret }\n');
    const io = capture();
    expect(await runStage('gate', ['--dry-run', '--contract', contract], io, env, () => Promise.resolve(envelope))).toBe(1);
    expect(io.stdout.join('')).toContain('the gate would refuse the envelope: data contract users-api v2 allows secret fields: entry.headers.authorization');
    expect(await stateWritten()).toBe(false);
  });

  it('names bad options and bad input', async () => {
    const io = capture();
    expect(await runStage('gate', ['--json'], io, env, () => Promise.resolve(envelope))).toBe(2);
    expect(await runStage('gate', ['--dry-run', '--contract'], io, env, () => Promise.resolve(envelope))).toBe(2);
    expect(await runStage('triage', ['--dry-run'], io, env, () => Promise.resolve(envelope))).toBe(2);
    expect(io.stderr).toEqual([
      'tracemend gate: --json applies only with --dry-run or --suggest',
      'tracemend gate: --contract needs a file',
      'tracemend triage: unknown option --dry-run',
    ]);
    await expect(runStage('gate', ['--dry-run'], capture(), env, () => Promise.resolve('{"hello":'))).rejects.toMatchObject({
      code: 'UNSUPPORTED_ALERT_FORMAT',
      message: expect.stringContaining('the input is not JSON: ') as unknown,
    });
    await expect(runStage('gate', ['--dry-run'], capture(), env, () => Promise.resolve('{"hello":"world"}'))).rejects.toThrow(/neither a FailureEnvelope/);
    const other = join(dir, 'leaderboard.yaml');
    await writeFile(other, 'service: leaderboard\nversion: 1\nfields: []\n');
    await expect(runStage('gate', ['--dry-run', '--contract', other], capture(), env, () => Promise.resolve(envelope))).rejects.toMatchObject({
      code: 'DATA_CONTRACT_MISSING',
    });
  });
});
