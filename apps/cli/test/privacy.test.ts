import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exampleFailureEnvelope } from '@tracemend/contracts/examples';
import { fixtureCatalogYaml } from '@tracemend/fixture-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli';
import type { CliIo } from '../src/io';
import { runBin } from './bin';

const VAULT_KEY = 'operator-vault-key-for-cli-tests-0123456789';
/** Customers whose sign-ups failed: each becomes one envelope through the gate and one audit record. */
const CUSTOMERS = [
  { name: 'Mara Lindqvist', email: 'mara.lindqvist@example.com', ip: '81.224.17.5' },
  { name: 'Jonas Berg', email: 'jonas.berg@example.org', ip: '92.33.4.17' },
  { name: 'Aiko Tanaka', email: 'aiko.tanaka@example.net', ip: '126.75.2.9' },
];

let dir: string;
let env: NodeJS.ProcessEnv;
let auditLog: string;
let emailToken: string;

function capture(): CliIo & { stdout: string[]; stderr: string[]; text(): string } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (text) => stdout.push(text), err: (text) => stderr.push(text), text: () => [...stdout, ...stderr].join('\n') };
}

/** Gates an ungated users-api envelope carrying `customer` through the CLI's own `gate` stage. */
async function gate(customer: (typeof CUSTOMERS)[number], index: number): Promise<string> {
  const envelope = {
    ...exampleFailureEnvelope,
    entry: {
      ...exampleFailureEnvelope.entry,
      headers: { 'content-type': 'application/json', 'x-forwarded-for': customer.ip },
      body: { name: customer.name, email: customer.email, preferences: { newsletter: true } },
    },
  };
  const envelopeFile = join(dir, `envelope-${index}.json`);
  await writeFile(envelopeFile, JSON.stringify(envelope));
  const io = capture();
  expect(await runCli(['gate', envelopeFile], io, env), io.text()).toBe(0);
  return io.stdout.join('');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-privacy-cli-'));
  const catalog = join(dir, 'tracemend.config.yaml');
  await writeFile(catalog, fixtureCatalogYaml({ 'users-api': '/absent/users-api.git', leaderboard: '/absent/leaderboard.git', 'checkout-worker': '/absent/checkout-worker.git' }));
  env = { TRACEMEND_STATE_DIR: join(dir, 'state'), TRACEMEND_CONFIG: catalog, TRACEMEND_VAULT_KEY: VAULT_KEY };
  auditLog = join(dir, 'state', 'audit', 'privacy.jsonl');
  for (const [index, customer] of CUSTOMERS.entries()) {
    const gated = await gate(customer, index);
    for (const raw of Object.values(customer)) expect(gated).not.toContain(raw);
    if (index === 0) emailToken = (JSON.parse(gated) as { envelope: { entry: { body: { email: string } } } }).envelope.entry.body.email;
  }
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tracemend vault reveal', () => {
  it('prints the raw value behind a token the gate issued, with its type and incident', async () => {
    const io = capture();
    expect(await runCli(['vault', 'reveal', emailToken], io, env), io.text()).toBe(0);
    const out = io.stdout.join('\n');
    expect(out).toContain(`${emailToken} -> mara.lindqvist@example.com`);
    expect(out).toContain('type: email');
    expect(out).toContain('incidents: cli');

    const json = capture();
    expect(await runCli(['vault', 'reveal', emailToken, '--json', '--vault', join(dir, 'state', 'vault', 'tokens.sqlite')], json, env)).toBe(0);
    expect(JSON.parse(json.stdout.join(''))).toEqual([expect.objectContaining({ token: emailToken, raw: 'mara.lindqvist@example.com', type: 'email' })]);
    const bytes = await readFile(join(dir, 'state', 'vault', 'tokens.sqlite'));
    expect(bytes.includes(Buffer.from('mara.lindqvist@example.com'))).toBe(false);
  });

  it('exits 1 for a token the vault does not hold', async () => {
    const io = capture();
    expect(await runCli(['vault', 'reveal', 'u00000000@example.com'], io, env)).toBe(1);
    expect(io.stderr.join('')).toContain('no record of token u00000000@example.com');
  });

  it('exits 2 naming the problem: no key, the wrong key, no vault file, a bad command line', async () => {
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [['vault', 'reveal', emailToken], { ...env, TRACEMEND_VAULT_KEY: undefined }, /TRACEMEND_VAULT_KEY is not set/],
      [['vault', 'reveal', emailToken], { ...env, TRACEMEND_VAULT_KEY: 'a-different-operator-key-0123456789abcdef' }, /VAULT_KEY_INVALID: the vault key does not open/],
      [['vault', 'reveal', emailToken], { ...env, TRACEMEND_VAULT_KEY: 'short' }, /TRACEMEND_VAULT_KEY: must be at least 32 characters/],
      [['vault', 'reveal', emailToken, '--vault', join(dir, 'absent.sqlite')], env, /no token vault at .*absent\.sqlite/],
      [['vault', 'reveal'], env, /missing the token to reveal/],
      [['vault', 'show', emailToken], env, /unknown action "show"/],
      [['vault', 'reveal', emailToken, '--fast'], env, /unknown option --fast/],
    ];
    for (const [args, caseEnv, message] of cases) {
      const io = capture();
      expect(await runCli(args, io, caseEnv), args.join(' ')).toBe(2);
      expect(io.stderr.join('\n')).toMatch(message);
    }
  });

  it('runs as the tracemend executable with its exit codes', async () => {
    const found = await runBin(['vault', 'reveal', emailToken], env);
    expect(found.code, found.stderr).toBe(0);
    expect(found.stdout).toContain('mara.lindqvist@example.com');
    const wrongKey = await runBin(['vault', 'reveal', emailToken], { ...env, TRACEMEND_VAULT_KEY: 'a-different-operator-key-0123456789abcdef' });
    expect(wrongKey.code).toBe(2);
    expect(wrongKey.stderr).toContain('VAULT_KEY_INVALID');
    expect(wrongKey.stdout).not.toContain('mara.lindqvist@example.com');
  });
});

describe('tracemend audit verify', () => {
  /** A copy of the gate's audit log with `edit` applied to its lines. */
  async function tampered(name: string, edit: (lines: string[]) => string[]): Promise<string> {
    const lines = (await readFile(auditLog, 'utf8')).split('\n').filter((line) => line !== '');
    const file = join(dir, `${name}.jsonl`);
    await writeFile(file, `${edit(lines).join('\n')}\n`);
    // The signed head travels with the log it signs.
    await copyFile(`${auditLog}.head`, `${file}.head`);
    return file;
  }

  async function verify(args: string[]): Promise<{ code: number; out: string }> {
    const io = capture();
    const code = await runCli(['audit', 'verify', ...args], io, env);
    return { code, out: io.text() };
  }

  it('says ok with the record count for the log the gate wrote', async () => {
    expect(await verify([])).toEqual({ code: 0, out: `ok: ${CUSTOMERS.length} records in ${auditLog}` });
    const json = capture();
    expect(await runCli(['audit', 'verify', '--json', '--log', auditLog], json, env)).toBe(0);
    expect(JSON.parse(json.stdout.join(''))).toMatchObject({ ok: true, records: CUSTOMERS.length, file: auditLog });
  });

  it('names the record whose byte was edited', async () => {
    // One byte: the first letter of a decision path in the second record.
    const file = await tampered('edited', (lines) =>
      lines.map((line, index) => {
        const at = line.indexOf('newsletter');
        return index === 1 ? `${line.slice(0, at)}N${line.slice(at + 1)}` : line;
      }),
    );
    expect((await readFile(file)).length).toBe((await readFile(auditLog)).length);
    expect(await readFile(file, 'utf8')).toContain('Newsletter');
    const result = await verify(['--log', file]);
    expect(result.code).toBe(1);
    expect(result.out).toContain('broken: record 1 (line 2): it was edited: its content does not match its MAC (or the MAC was recomputed without the key) [hash-mismatch]');
  });

  it('names where a record was dropped', async () => {
    const result = await verify(['--log', await tampered('dropped', (lines) => lines.filter((_, index) => index !== 1))]);
    expect(result.code).toBe(1);
    expect(result.out).toContain('line 2, where record 1 belongs, holds record 2: a record before it was dropped, or records were reordered');
  });

  it('names where two records were swapped', async () => {
    const result = await verify(['--log', await tampered('swapped', ([first, second, ...rest]) => [second!, first!, ...rest])]);
    expect(result.code).toBe(1);
    expect(result.out).toContain('line 1, where record 0 belongs, holds record 1');
    expect(result.out).toContain('[sequence-mismatch]');
  });

  it('names a line that is not a record, and reports in JSON', async () => {
    const file = await tampered('garbled', (lines) => lines.map((line, index) => (index === 2 ? line.slice(0, 40) : line)));
    const result = await verify(['--log', file]);
    expect(result.code).toBe(1);
    expect(result.out).toContain('broken: record 2 (line 3): the line is not a valid audit record [unparseable]');
    const json = capture();
    expect(await runCli(['audit', 'verify', '--log', file, '--json'], json, env)).toBe(1);
    expect(JSON.parse(json.stdout.join(''))).toMatchObject({ ok: false, records: 2, brokenAt: { line: 3, reason: 'unparseable' } });
  });

  it('names a tail cut off by the signed head, and a log under a key it was not given', async () => {
    const cut = await verify(['--log', await tampered('cut', (lines) => lines.slice(0, -1))]);
    expect(cut.code).toBe(1);
    expect(cut.out).toContain('its tail was cut off [head-missing]');
    const io = capture();
    const otherKey = { ...env, TRACEMEND_TOKEN_KEY: 'another-token-key-of-at-least-32-bytes', TRACEMEND_TOKEN_KEY_ID: 'other' };
    expect(await runCli(['audit', 'verify', '--log', auditLog], io, otherKey)).toBe(1);
    expect(io.text()).toContain('[unknown-key]');
  });

  it('runs as the tracemend executable and exits 1 on a broken log', async () => {
    const copy = join(dir, 'copy.jsonl');
    await copyFile(auditLog, copy);
    await copyFile(`${auditLog}.head`, `${copy}.head`);
    const ok = await runBin(['audit', 'verify', '--log', copy], env);
    expect(ok.code, ok.stderr).toBe(0);
    const broken = await runBin(['audit', 'verify', '--log', await tampered('bin-dropped', (lines) => lines.slice(1))], env);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('line 1, where record 0 belongs, holds record 1');
  });

  it('exits 2 for a missing log or a bad command line', async () => {
    expect(await verify(['--log', join(dir, 'absent.jsonl')])).toMatchObject({ code: 2, out: expect.stringContaining('no audit log at') as string });
    expect(await verify(['--fast'])).toMatchObject({ code: 2, out: expect.stringContaining('unknown option --fast') as string });
    const io = capture();
    expect(await runCli(['audit', 'check'], io, env)).toBe(2);
    expect(io.stderr.join('')).toContain('unknown action "check"');
  });
});
