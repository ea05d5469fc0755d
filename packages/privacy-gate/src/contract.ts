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
    path: z.string().min(1).max(1_024),
    action: PrivacyAction,
    sensitivity: Sensitivity,
    type: z.enum(TOKEN_TYPES).optional(),
    note: z.string().max(1_024).optional(),
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
    service: Identifier,
    version: z.number().int().positive(),
    fields: z.array(DataContractField).max(1_024),
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
