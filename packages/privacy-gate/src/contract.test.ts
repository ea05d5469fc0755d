import { readdir, readFile } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  DATA_CONTRACT_SCHEMA_FILE,
  DataContract,
  dataContractJsonSchema,
  loadDataContract,
  loadDataContractForService,
  parseDataContract,
} from './contract';

const CONTRACTS = new URL('../../../fixtures/contracts/', import.meta.url).pathname;

const EXAMPLE = `
service: users-api
version: 3
fields:
  - path: entry.body.email
    action: tokenize
    type: email
    sensitivity: internal
  - path: entry.headers.authorization
    action: drop
    sensitivity: secret
  - path: 'spans.*.attributes["http.route"]'
    action: allow
    sensitivity: public
`;

describe('parseDataContract', () => {
  it('parses a contract', () => {
    expect(parseDataContract(EXAMPLE)).toEqual({
      service: 'users-api',
      version: 3,
      fields: [
        { path: 'entry.body.email', action: 'tokenize', type: 'email', sensitivity: 'internal' },
        { path: 'entry.headers.authorization', action: 'drop', sensitivity: 'secret' },
        { path: 'spans.*.attributes["http.route"]', action: 'allow', sensitivity: 'public' },
      ],
    });
  });

  it.each([
    ['invalid YAML', 'service: [', /not valid YAML/],
    ['a missing version', 'service: a\nfields: []', /version/],
    ['an unknown action', 'service: a\nversion: 1\nfields:\n  - { path: entry.body.x, action: keep, sensitivity: public }', /action/],
    ['an unknown key', 'service: a\nversion: 1\nfields:\n  - { path: entry.body.x, action: allow, sensitivity: public, mode: x }', /mode/],
    ['a path outside the data', 'service: a\nversion: 1\nfields:\n  - { path: symptom.message, action: allow, sensitivity: public }', /outside the data-bearing parts/],
    ['a malformed path', 'service: a\nversion: 1\nfields:\n  - { path: "entry.body.a b", action: allow, sensitivity: public }', /must be quoted/],
    ['an unquoted dotted attribute', 'service: a\nversion: 1\nfields:\n  - { path: spans.*.attributes.http.route, action: allow, sensitivity: public }', /attributes\["http.route"\]/],
    ['a type without tokenize', 'service: a\nversion: 1\nfields:\n  - { path: entry.body.x, action: allow, type: email, sensitivity: public }', /type only applies/],
    [
      'a repeated path',
      'service: a\nversion: 1\nfields:\n  - { path: entry.headers.X-Id, action: allow, sensitivity: public }\n  - { path: entry.headers.x-id, action: drop, sensitivity: public }',
      /repeats fields\[0\]/,
    ],
  ])('rejects %s with INVALID_INPUT', (_name, text, message) => {
    expect(() => parseDataContract(text, 'test.yaml')).toThrow(message);
    try {
      parseDataContract(text, 'test.yaml');
    } catch (error) {
      expect(error).toMatchObject({ code: 'INVALID_INPUT' });
    }
  });
});

describe('loading contract files', () => {
  it.each(['users-api', 'leaderboard', 'checkout-worker'])('loads the %s fixture contract', async (service) => {
    const contract = await loadDataContractForService(CONTRACTS, service);
    expect(contract.service).toBe(service);
    expect(contract.fields.length).toBeGreaterThan(10);
    expect(contract.fields.filter((field) => field.sensitivity === 'secret' && field.action === 'allow')).toEqual([]);
  });

  it('reports a missing contract as DATA_CONTRACT_MISSING', async () => {
    await expect(loadDataContract(`${CONTRACTS}no-such-service.yaml`)).rejects.toMatchObject({ code: 'DATA_CONTRACT_MISSING' });
    await expect(loadDataContractForService(CONTRACTS, 'billing')).rejects.toMatchObject({ code: 'DATA_CONTRACT_MISSING' });
  });

  it('refuses a service name that is not a plain file name', async () => {
    await expect(loadDataContractForService(CONTRACTS, '../secrets')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('the published JSON Schema', () => {
  const published = new URL(`../../../${DATA_CONTRACT_SCHEMA_FILE}`, import.meta.url);
  const validate = new Ajv2020({ strict: true, allErrors: true }).compile(dataContractJsonSchema());

  it('is the one generated from the zod schema (regenerate: pnpm --filter @tracemend/privacy-gate schema)', async () => {
    const committed = JSON.parse(await readFile(published, 'utf8')) as unknown;
    expect(committed).toEqual(dataContractJsonSchema());
  });

  it('accepts every fixture contract', async () => {
    const files = (await readdir(CONTRACTS)).filter((file) => file.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const file of files) {
      const document = parseYaml(await readFile(`${CONTRACTS}${file}`, 'utf8')) as unknown;
      expect(validate(document), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  const field = (extra: Record<string, unknown>) => ({ path: 'entry.body.x', action: 'tokenize', sensitivity: 'internal', ...extra });
  it.each([
    ['a minimal contract', { service: 'a', version: 1, fields: [] }],
    ['every action and token type', { service: 'a', version: 7, fields: [field({ type: 'date', note: 'n' }), field({ path: 'entry.body.y', action: 'redact' })] }],
    ['a missing version', { service: 'a', fields: [] }],
    ['version 0', { service: 'a', version: 0, fields: [] }],
    ['a fractional version', { service: 'a', version: 1.5, fields: [] }],
    ['an empty service', { service: '', version: 1, fields: [] }],
    ['an unknown top-level key', { service: 'a', version: 1, fields: [], owner: 'x' }],
    ['an unknown action', { service: 'a', version: 1, fields: [field({ action: 'keep' })] }],
    ['an unknown sensitivity', { service: 'a', version: 1, fields: [field({ sensitivity: 'pii' })] }],
    ['an unknown token type', { service: 'a', version: 1, fields: [field({ type: 'iban' })] }],
    ['a type without tokenize', { service: 'a', version: 1, fields: [field({ action: 'hash', type: 'email' })] }],
    ['an unknown field key', { service: 'a', version: 1, fields: [field({ mode: 'x' })] }],
    ['a field without path', { service: 'a', version: 1, fields: [{ action: 'drop', sensitivity: 'secret' }] }],
  ])('agrees with the zod schema on %s', (_name, document) => {
    expect(validate(document)).toBe(DataContract.safeParse(document).success);
  });
});
