import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { changeAt, issuesOf, rejectionOf, renderPath, type Path } from './contract-cases';
import * as examples from './examples';
import * as contracts from './index';
import { GitSha } from './primitives';

/** The schema each example instantiates: its export name without `example`, or named here. */
const SCHEMA_OF: Record<string, string> = { exampleSignature: 'FailureSignature' };

function schemaOf(exampleName: string): z.ZodType {
  const name = SCHEMA_OF[exampleName] ?? exampleName.replace(/^example/, '');
  const schema: unknown = (contracts as Record<string, unknown>)[name];
  if (!(schema instanceof z.ZodType)) throw new Error(`${exampleName}: no exported schema ${name}`);
  return schema;
}

const allExamples = Object.entries(examples);

interface StringLeaf {
  path: Path;
  value: string;
  schema: z.ZodType;
  max: number | null;
}

/** Every string in `value` with the string schema that governs it; JSON payloads are bounded by bytes instead. */
function stringLeaves(schema: z.ZodType, value: unknown, path: Path = []): StringLeaf[] {
  const def = schema.def;
  switch (def.type) {
    case 'string':
      return typeof value === 'string' ? [{ path, value, schema, max: (schema as z.ZodString).maxLength }] : [];
    case 'optional':
      return value === undefined ? [] : stringLeaves((schema as z.ZodOptional).unwrap() as z.ZodType, value, path);
    case 'object': {
      const shape = (schema as z.ZodObject).shape as Record<string, z.ZodType>;
      const record = value as Record<string, unknown>;
      return Object.entries(shape).flatMap(([key, field]) => (key in record ? stringLeaves(field, record[key], [...path, key]) : []));
    }
    case 'array':
      return (value as unknown[]).flatMap((item, i) => stringLeaves((schema as z.ZodArray).element as z.ZodType, item, [...path, i]));
    case 'record':
      return Object.entries(value as Record<string, unknown>).flatMap(([key, item]) =>
        stringLeaves((schema as z.ZodRecord).valueType as z.ZodType, item, [...path, key]),
      );
    case 'union': {
      const option = ((schema as z.ZodUnion).options as z.ZodType[]).find((candidate) => candidate.safeParse(value).success);
      if (!option) throw new Error(`no union option accepts the value at ${renderPath(path)}`);
      return stringLeaves(option, value, path);
    }
    default:
      return [];
  }
}

describe('examples', () => {
  it('has one example per top-level artifact', () => {
    const covered = new Set(allExamples.map(([name]) => schemaOf(name)));
    const artifacts = Object.entries(contracts).filter(
      ([, schema]) => schema instanceof z.ZodObject && 'schemaVersion' in (schema as z.ZodObject).shape,
    );
    expect(artifacts.length).toBe(16);
    expect(artifacts.filter(([, schema]) => !covered.has(schema as z.ZodType)).map(([name]) => name)).toEqual([]);
  });

  it.each(allExamples)('%s parses unchanged through its contract', (name, example) => {
    expect(contracts.parseContract(schemaOf(name), example, name)).toEqual(example);
  });
});

describe('string bounds, over every string in every example', () => {
  const leaves = allExamples.flatMap(([name, example]) =>
    stringLeaves(schemaOf(name), example).map((leaf) => ({ name, example, ...leaf, where: renderPath(leaf.path) })),
  );

  it('finds the strings', () => {
    expect(leaves.length).toBeGreaterThan(200);
  });

  it('bounds every string (a full git SHA by its fixed-length pattern)', () => {
    const unbounded = leaves.filter((leaf) => leaf.max === null && leaf.schema !== GitSha).map((leaf) => `${leaf.name}: ${leaf.where}`);
    expect(unbounded).toEqual([]);
  });

  it('rejects each string one character over its bound, naming its path', () => {
    const bounded = leaves.filter((leaf): leaf is typeof leaf & { max: number } => leaf.max !== null);
    for (const leaf of bounded) {
      // Padding with a lowercase hex letter keeps ids, URLs and names otherwise well-formed.
      const tooLong = leaf.value + 'a'.repeat(leaf.max + 1 - leaf.value.length);
      const error = rejectionOf(schemaOf(leaf.name), changeAt(leaf.example, leaf.path, tooLong), leaf.name);
      const atLeaf = issuesOf(error).filter((issue) => renderPath(issue.path) === leaf.where);
      expect(atLeaf.map((issue) => issue.code), `${leaf.name}: ${leaf.where}`).toContain('too_big');
      expect(error.message).toContain(`${leaf.where}: Too big: expected string to have <=${leaf.max} characters`);
    }
  });
});
