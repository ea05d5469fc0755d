import { incidentPaths, listIncidentIds, loadIncident } from '@tracemend/corpus';
import { describe, expect, it } from 'vitest';
import { decideCatalogEntry } from '../src/init';
import { inspectRepository } from '../src/inspect';

/**
 * The fields init must agree on with a hand-written catalog block: the runner (where the block names
 * one), the entry a replay drives, an HTTP factory's arguments.
 */
interface Onboarding {
  runner: string;
  kind: 'httpApp' | 'functionHandler' | 'messageHandler' | 'none';
  module: string;
  export: string;
  args: string;
}

type ModuleExport = { module: string; export: string };

function onboardingOf(entry: { test?: { runner?: string } | undefined; httpApp?: ModuleExport & { args?: ModuleExport }; functionHandler?: { module: string; export: string }; messageHandler?: { module: string; export: string } }): Onboarding {
  const kind = entry.httpApp ? 'httpApp' : entry.functionHandler ? 'functionHandler' : entry.messageHandler ? 'messageHandler' : 'none';
  const block = entry.httpApp ?? entry.functionHandler ?? entry.messageHandler;
  const args = entry.httpApp?.args;
  return { runner: entry.test?.runner ?? '', kind, module: block?.module ?? '', export: block?.export ?? '', args: args ? `${args.module}#${args.export}` : '' };
}

describe('tracemend init over the corpus', () => {
  it('finds the entry (kind, module, export) and the HTTP factory arguments of every hand-written catalog block, and the runner where one names it', async () => {
    const ids = await listIncidentIds();
    expect(ids.length).toBe(18);
    const agreed: string[] = [];
    const disagreements: { id: string; handWritten: Onboarding; init: Onboarding }[] = [];
    for (const id of ids) {
      const incident = await loadIncident(id);
      const result = await decideCatalogEntry(await inspectRepository(incidentPaths(id).service));
      const handWritten = onboardingOf(incident.catalog);
      // A block that leaves the runner to triage has none to compare.
      const found = { ...onboardingOf(result.entry), ...(handWritten.runner === '' ? { runner: '' } : {}) };
      if (JSON.stringify(found) === JSON.stringify(handWritten)) agreed.push(id);
      else disagreements.push({ id, handWritten, init: found });
    }
    // Listed, not hidden: a disagreement names the incident and both answers.
    expect(disagreements).toEqual([]);
    expect(agreed).toEqual(ids);
  });
});
