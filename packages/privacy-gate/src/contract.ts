import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { formatIssues, Identifier, PrivacyAction, Sensitivity, TracemendError } from '@tracemend/contracts';
import { parse as parseYaml } from 'yaml';
import { checkPattern, formatPattern, normalizePattern, parsePattern, type PatternSegment } from './paths';
import { TOKEN_TYPES } from './tokenize';

/** One labelled field path of a data contract. */
export const DataContractField = z
  .object({
    path: z
      .string()
      .min(1)
      .max(1_024)
      .meta({ description: 'Field path under a data-bearing part of the envelope; `*` matches one segment, `**` any depth.' }),
    action: PrivacyAction.meta({ description: 'What the gate does with the value: allow, drop, hash (keyed), tokenize (format-preserving) or redact.' }),
    sensitivity: Sensitivity.meta({ description: 'How sensitive the value is; a contract that allows a secret field is refused.' }),
    type: z.enum(TOKEN_TYPES).optional().meta({ description: 'Token format; only with action tokenize (default text).' }),
    note: z.string().max(1_024).optional().meta({ description: 'Free text for reviewers: why the field is labelled so.' }),
  })
  .strict()
  .superRefine((field, context) => {
    let pattern: PatternSegment[];
    try {
      pattern = parsePattern(field.path);
    } catch (error) {
      context.addIssue({ code: 'custom', path: ['path'], message: `${field.path}: ${(error as Error).message}` });
      return;
    }
    const problem = checkPattern(pattern);
    if (problem !== undefined) context.addIssue({ code: 'custom', path: ['path'], message: `${field.path}: ${problem}` });
    if (field.type !== undefined && field.action !== 'tokenize') {
      context.addIssue({ code: 'custom', path: ['type'], message: `${field.path}: type only applies to action tokenize` });
    }
  });
export type DataContractField = z.infer<typeof DataContractField>;

/** A service's data contract: which envelope fields the pipeline may see, and in what form. */
export const DataContract = z
  .object({
    service: Identifier.meta({ description: 'The service this contract covers; must equal the envelope identity.service.' }),
    version: z
      .number()
      .int()
      .positive()
      .meta({ description: 'Revision of this contract; raise it on every change. Recorded in each gated envelope and audit record.' }),
    fields: z.array(DataContractField).max(1_024).meta({ description: 'Labelled field paths; any data-bearing leaf no path matches is dropped (default deny).' }),
  })
  .strict()
  .superRefine((contract, context) => {
    const seen = new Map<string, number>();
    contract.fields.forEach((field, index) => {
      let key: string;
      try {
        key = formatPattern(normalizePattern(parsePattern(field.path)));
      } catch {
        return;
      }
      const first = seen.get(key);
      if (first !== undefined) {
        context.addIssue({ code: 'custom', path: ['fields', index, 'path'], message: `${field.path} repeats fields[${first}]` });
      } else seen.set(key, index);
    });
  });
export type DataContract = z.infer<typeof DataContract>;

/** The version of the contract file format (not of a contract); it names the published JSON Schema file. */
export const DATA_CONTRACT_FORMAT_VERSION = 1;
/** Where the JSON Schema of the current format is published, relative to the repository root. */
export const DATA_CONTRACT_SCHEMA_FILE = `docs/schemas/data-contract.v${DATA_CONTRACT_FORMAT_VERSION}.schema.json`;

/**
 * The JSON Schema of data contract files (draft 2020-12), generated from `DataContract` so the two
 * cannot disagree; `pnpm --filter @tracemend/privacy-gate schema` writes it to DATA_CONTRACT_SCHEMA_FILE,
 * and a test fails when the committed file is stale. It
 * checks structure and vocabulary for editors and CI; path syntax, the data-bearing roots and
 * repeated paths are checked only when the gate loads a contract.
 */
export function dataContractJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(DataContract, {
    target: 'draft-2020-12',
    io: 'input',
    override: ({ zodSchema, jsonSchema }) => {
      // A refinement the generator cannot see: `type` only goes with action tokenize.
      if (zodSchema === DataContractField) {
        jsonSchema.dependentSchemas = { type: { properties: { action: { const: 'tokenize' } } } };
      }
    },
  });
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: `urn:tracemend:schema:data-contract:v${DATA_CONTRACT_FORMAT_VERSION}`,
    title: 'tracemend data contract',
    description: 'Which fields of a service\'s failure envelopes the pipeline may see, and in what form. See docs/data-contracts.md.',
    ...rest,
  };
}

/** Parses a data contract from YAML text; `source` names it in errors. Throws INVALID_INPUT naming every problem. */
export function parseDataContract(text: string, source = 'data contract'): DataContract {
  let document: unknown;
  try {
    document = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    throw new TracemendError('INVALID_INPUT', `${source} is not valid YAML: ${(error as Error).message}`, { cause: error });
  }
  const result = DataContract.safeParse(document);
  if (!result.success) {
    throw new TracemendError('INVALID_INPUT', `${source} is invalid: ${formatIssues(result.error.issues)}`, {
      cause: result.error,
    });
  }
  return result.data;
}

/** Reads and parses a data contract file; a missing file is DATA_CONTRACT_MISSING. */
export async function loadDataContract(file: string): Promise<DataContract> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new TracemendError('DATA_CONTRACT_MISSING', `no data contract at ${file}`, { cause: error });
    }
    throw error;
  }
  return parseDataContract(text, file);
}

/** Loads `<directory>/<service>.yaml` and checks it names that service. */
export async function loadDataContractForService(directory: string, service: string): Promise<DataContract> {
  if (!/^[A-Za-z0-9._-]+$/.test(service) || service.startsWith('.')) {
    throw new TracemendError('INVALID_INPUT', `service name ${JSON.stringify(service)} cannot name a contract file`);
  }
  const contract = await loadDataContract(join(directory, `${service}.yaml`));
  if (contract.service !== service) {
    throw new TracemendError('DATA_CONTRACT_MISSING', `${service}.yaml declares service ${contract.service}, not ${service}`);
  }
  return contract;
}

/** A contract field with its path parsed, ready for matching. */
export interface CompiledField {
  field: DataContractField;
  pattern: PatternSegment[];
  order: number;
}

/** Parses every field path once (header names lowercased). */
export function compileContract(contract: DataContract): CompiledField[] {
  return contract.fields.map((field, order) => ({ field, pattern: normalizePattern(parsePattern(field.path)), order }));
}
