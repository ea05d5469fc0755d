import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { incidentPaths, listIncidentIds } from '@tracemend/corpus';
import { dataContractPath, loadServiceCatalog } from '@tracemend/ingest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli';
import { envelopeForDryRun } from '../src/gate-dry-run';
import type { CliIo } from '../src/io';
import { runStage } from '../src/stage';

let dir: string;

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (text) => stdout.push(text), err: (text) => stderr.push(text) };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-onboarding-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('onboarding a service with init and gate --suggest', () => {
  it('takes every corpus service from its folder and one alert to a catalog entry and a contract the gate releases with', async () => {
    const catalog = join(dir, 'tracemend.config.yaml');
    await mkdir(join(dir, 'contracts'));
    const ids = await listIncidentIds();
    for (const id of ids) {
      const paths = incidentPaths(id);
      const envelope = await envelopeForDryRun(await readFile(paths.traces, 'utf8'));
      const service = envelope.identity.service;

      const init = capture();
      expect(await runCli(['init', paths.service, '--write', catalog], init, {}), id).toBe(0);
      // The name init takes from package.json is the one the service reports in its telemetry.
      expect(init.stdout[0], id).toMatch(new RegExp(`^added service ${service} in `));

      const suggest = capture();
      expect(await runStage('gate', ['--suggest', paths.traces], suggest, {}), id).toBe(0);
      const contractFile = dataContractPath(await loadServiceCatalog(catalog), service);
      expect(contractFile, id).toBe(join(dir, 'contracts', `${service}.yaml`));
      await writeFile(contractFile, suggest.stdout.join('\n'));

      const dryRun = capture();
      expect(await runStage('gate', ['--dry-run', paths.traces, '--config', catalog], dryRun, {}), id).toBe(0);
      expect(dryRun.stdout[0]?.split('\n')[0], id).toBe(`dry run: data contract ${service} v1 on an envelope from ${service}; the gate would release the envelope`);
      expect(dryRun.stdout[0], id).toMatch(/\n\d+ decisions, 0 fields dropped by default deny, /);
    }
    const loaded = await loadServiceCatalog(catalog);
    expect(Object.keys(loaded.catalog.services).length).toBe(ids.length);
  });
});
