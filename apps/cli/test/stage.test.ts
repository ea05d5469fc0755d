import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureAlertPaths, fixtureCatalogYaml } from '@tracemend/fixture-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../src/io';
import { runStage } from '../src/stage';

let dir: string;
let env: NodeJS.ProcessEnv;

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (text) => stdout.push(text), err: (text) => stderr.push(text) };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-stage-cli-'));
  const catalog = join(dir, 'tracemend.config.yaml');
  await writeFile(catalog, fixtureCatalogYaml({ 'users-api': '/absent/users-api.git', leaderboard: '/absent/leaderboard.git', 'checkout-worker': '/absent/checkout-worker.git' }));
  env = { TRACEMEND_STATE_DIR: join(dir, 'state'), TRACEMEND_CONFIG: catalog };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tracemend <stage>', () => {
  it('chains ingest, gate and triage over contract JSON', async () => {
    const ingest = capture();
    expect(await runStage('ingest', [fixtureAlertPaths('users-api').traces], ingest, env)).toBe(0);
    const envelope = ingest.stdout.join('');
    expect(JSON.parse(envelope)).toMatchObject({ identity: { service: 'users-api' }, symptom: { errorType: 'TypeError' } });

    const gate = capture();
    expect(await runStage('gate', ['-'], gate, env, () => Promise.resolve(envelope))).toBe(0);
    const gated = gate.stdout.join('');
    expect(gated).not.toContain('mara.lindqvist@example.com');
    expect(JSON.parse(gated)).toMatchObject({ privacy: { contract: { id: 'users-api' } } });

    const triage = capture();
    const input = JSON.stringify({ incidentId: 'cli', gated: JSON.parse(gated) as unknown });
    expect(await runStage('triage', ['-'], triage, env, () => Promise.resolve(input))).toBe(0);
    expect(JSON.parse(triage.stdout.join(''))).toMatchObject({ service: 'users-api', repository: { cloneUrl: '/absent/users-api.git' } });
    expect(await readFile(fixtureAlertPaths('users-api').traces, 'utf8')).toContain('mara.lindqvist@example.com');
  });

  it('names a bad input and an unknown option', async () => {
    const io = capture();
    expect(await runStage('repair', ['--fast'], io, env)).toBe(2);
    expect(io.stderr.join('')).toContain('unknown option --fast');
    await expect(runStage('triage', ['-'], capture(), env, () => Promise.resolve('{"incidentId":"x"}'))).rejects.toThrow(/triage input is invalid: gated/);
  });
});
