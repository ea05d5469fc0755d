import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exampleGatedEnvelope } from '@tracemend/contracts/examples';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTriageActivities, loadServiceCatalog, resolveTarget } from './triage';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-catalog-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const CATALOG = `version: 1
services:
  users-api:
    repository: { owner: acme, name: users-api, cloneUrl: "https://github.com/acme/users-api.git" }
    test: { runner: vitest, command: [npx, vitest, run] }
    dataContract: contracts/users-api.yaml
    httpApp: { module: src/app.ts, export: createApp }
`;

async function catalogFile(text: string, name = 'tracemend.config.yaml'): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

describe('triage', () => {
  it('resolves a gated envelope to its repository, commit, test command and contract', async () => {
    const file = await catalogFile(CATALOG);
    const target = await createTriageActivities({ catalogFile: file }).triage({ incidentId: 'i', gated: exampleGatedEnvelope });
    expect(target).toEqual({
      schemaVersion: 1,
      service: 'users-api',
      repository: { owner: 'acme', name: 'users-api', cloneUrl: 'https://github.com/acme/users-api.git' },
      baseBranch: 'main',
      sha: exampleGatedEnvelope.envelope.identity.version,
      test: { runner: 'vitest', command: ['npx', 'vitest', 'run'] },
      dataContract: join(dir, 'contracts/users-api.yaml'),
      httpApp: { module: 'src/app.ts', export: 'createApp' },
    });
  });

  it('names the unknown service, the bad version and the bad catalog field', async () => {
    const loaded = await loadServiceCatalog(await catalogFile(CATALOG));
    expect(() => resolveTarget(loaded, 'billing', 'a'.repeat(40))).toThrow(/service billing is not in the catalog .* \(known: users-api\)/);
    expect(() => resolveTarget(loaded, 'users-api', '1.4.2')).toThrow(/"1.4.2", not a full commit SHA/);
    await expect(loadServiceCatalog(await catalogFile(CATALOG.replace('runner: vitest', 'runner: ava'), 'bad.yaml'))).rejects.toThrow(
      /services\.users-api\.test\.runner/,
    );
    await expect(loadServiceCatalog(await catalogFile('version: 1\nservices: [', 'broken.yaml'))).rejects.toThrow(/not valid YAML/);
    await expect(loadServiceCatalog(join(dir, 'absent.yaml'))).rejects.toThrow(/cannot read the service catalog/);
  });
});
