// Guards over the public entry: every exported schema has a cases table, every artifact a schemaVersion.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { activitiesCases } from './activities.cases';
import { catalogCases } from './catalog.cases';
import type { BadKind, CaseTable } from './contract-cases';
import { envelopeCases } from './envelope.cases';
import { gatedCases } from './gated.cases';
import { incidentCases } from './incident.cases';
import * as contracts from './index';
import { pipelineCases } from './pipeline.cases';
import { primitivesCases } from './primitives.cases';

const tables: CaseTable[] = [primitivesCases, envelopeCases, gatedCases, pipelineCases, incidentCases, activitiesCases, catalogCases];
const allCases: CaseTable = Object.assign({}, ...tables) as CaseTable;

const exportedSchemas = Object.entries(contracts as Record<string, unknown>).filter((entry): entry is [string, z.ZodType] => entry[1] instanceof z.ZodType);

/** The artifacts that cross a stage boundary on their own and so carry `schemaVersion`. */
const ARTIFACTS = [
  'RawAlertRef',
  'EnvelopeRef',
  'FailureEnvelope',
  'GatedEnvelope',
  'RepoTarget',
  'Reproduction',
  'MinimalRepro',
  'Localization',
  'Candidate',
  'CandidateSet',
  'RiskScore',
  'Verification',
  'PullRequestRecord',
  'RepairIncidentInput',
  'IncidentOutcome',
  'IncidentStatus',
];

function exported(name: string): z.ZodType {
  const schema = exportedSchemas.find(([exportName]) => exportName === name)?.[1];
  if (!schema) throw new Error(`${name} is not an exported schema`);
  return schema;
}

describe('cases tables', () => {
  it('find the exported schemas', () => {
    expect(exportedSchemas.length).toBeGreaterThanOrEqual(60);
  });

  it('do not define a schema twice', () => {
    const names = tables.flatMap((table) => Object.keys(table));
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([]);
  });

  it('cover every zod schema exported from src/index.ts', () => {
    const untested = exportedSchemas.map(([name]) => name).filter((name) => !(name in allCases));
    expect(untested, 'exported schemas without a cases table').toEqual([]);
  });

  it.each(Object.entries(allCases))('%s: table tests the exported schema itself', (name, cases) => {
    expect(cases.schema).toBe(exported(name));
  });

  it.each(Object.entries(allCases))('%s: has a good value and a missing, a wrong-type and a bound case', (_name, cases) => {
    expect(cases.good.length).toBeGreaterThan(0);
    const kinds = new Set(cases.bad.map((bad) => bad.kind));
    // Enums and literals have no size to exceed; a value outside them is their bound.
    const type = cases.schema.def.type;
    const limitKind: BadKind = type === 'enum' || type === 'literal' ? 'out-of-domain' : 'over-bound';
    expect([...kinds]).toEqual(expect.arrayContaining(['missing', 'wrong-type', limitKind]));
  });
});

describe('schemaVersion', () => {
  it('is carried by exactly the top-level artifacts', () => {
    const versioned = exportedSchemas
      .filter(([, schema]) => schema instanceof z.ZodObject && 'schemaVersion' in schema.shape)
      .map(([name]) => name);
    expect(versioned.sort()).toEqual([...ARTIFACTS].sort());
  });

  it('is carried by every activity output', () => {
    for (const [name, activity] of Object.entries(contracts.STAGE_ACTIVITIES)) {
      const output = exportedSchemas.find(([, schema]) => schema === activity.output)?.[0];
      expect(ARTIFACTS, name).toContain(output);
    }
  });

  it.each(ARTIFACTS)('%s: requires schemaVersion 1', (name) => {
    const schema = exported(name);
    expect(schema).toBeInstanceOf(z.ZodObject);
    const shape = (schema as z.ZodObject).shape;
    expect(shape.schemaVersion).toBe(contracts.SchemaVersion);
    const good = allCases[name]?.good[0] as Record<string, unknown>;
    expect(schema.safeParse(good).success).toBe(true);
    const { schemaVersion: _version, ...unversioned } = good;
    expect(schema.safeParse(unversioned).success).toBe(false);
    expect(schema.safeParse({ ...good, schemaVersion: 2 }).success).toBe(false);
    expect(schema.safeParse({ ...good, schemaVersion: '1' }).success).toBe(false);
  });
});
