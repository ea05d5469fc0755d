import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { TestRunner } from '@tracemend/contracts';
import { FIXTURE_CATALOG, fixtureServiceNames } from '@tracemend/fixture-kit';
import { describe, expect, it } from 'vitest';
import { dataContractPath, loadServiceCatalog, resolveTarget } from './triage';

/** The documented example catalog; loading it here keeps it valid as the schema changes. */
const EXAMPLE = fileURLToPath(new URL('../../../docs/examples/tracemend.config.yaml', import.meta.url));

describe('the example service catalog in docs/examples', () => {
  it('loads, resolves every service to a target and points at data contracts that exist', async () => {
    const loaded = await loadServiceCatalog(EXAMPLE);
    expect(Object.keys(loaded.catalog.services).sort()).toEqual([...fixtureServiceNames].sort());
    for (const service of fixtureServiceNames) {
      const test = loaded.catalog.services[service]?.test;
      // The example describes the fixture services as they are run and tested.
      expect(test).toEqual({ runner: FIXTURE_CATALOG[service].runner, command: FIXTURE_CATALOG[service].command });
      const target = resolveTarget(loaded, service, 'c0ffee'.padEnd(40, '0'), {
        runner: TestRunner.parse(FIXTURE_CATALOG[service].runner),
        command: FIXTURE_CATALOG[service].command,
      });
      expect(target.httpApp).toEqual(FIXTURE_CATALOG[service].httpApp);
      expect(target.baseBranch).toBe('main');
      expect(target.repository).toEqual({ owner: 'acme', name: service, cloneUrl: `https://github.com/acme/${service}.git` });
      await expect(access(dataContractPath(loaded, service))).resolves.toBeUndefined();
    }
  });
});
