import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ServiceCatalog } from '@tracemend/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../src/cli';
import { normalizeServiceName, repositoryOfRemote, withoutCredentials } from '../src/init';
import type { CliIo } from '../src/io';

let root: string;

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (text) => stdout.push(text), err: (text) => stderr.push(text) };
}

async function repo(name: string, files: Record<string, string>, origin?: string): Promise<string> {
  const dir = join(root, name);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  if (origin !== undefined) {
    execFileSync('git', ['init', '-q', dir]);
    execFileSync('git', ['-C', dir, 'remote', 'add', 'origin', origin]);
  }
  return dir;
}

const ORDERS = {
  'package.json': JSON.stringify({ name: '@acme/Orders_API', scripts: { test: 'vitest run' }, devDependencies: { vitest: '^4.1.0' }, engines: { node: '>=20' } }),
  'package-lock.json': '{}',
  'src/app.js': "import express from 'express';\n\nexport function createApp(deps) {\n  const app = express();\n  app.get('/orders', (req, res) => res.json(deps.orders));\n  return app;\n}\n",
  'src/handler.js': 'export async function handler(event, context) {\n  return { statusCode: 204 };\n}\n',
  'test/helpers.js': 'export function createTestDeps() {\n  return { orders: [] };\n}\n',
  'test/app.test.js': "import { createApp } from '../src/app.js';\nimport { createTestDeps } from './helpers.js';\n\ncreateApp(createTestDeps());\n",
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tracemend-init-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('tracemend init', () => {
  it('prints a valid catalog with the repository from origin, the best entry and the others in comments', async () => {
    const dir = await repo('orders', ORDERS, 'git@github.com:acme/orders-api.git');
    const io = capture();
    expect(await runCli(['init', dir], io, {})).toBe(0);
    const text = io.stdout.join('\n');
    const catalog = ServiceCatalog.parse(parse(text));
    expect(catalog.services['orders_api']).toEqual({
      repository: { owner: 'acme', name: 'orders-api', cloneUrl: 'git@github.com:acme/orders-api.git' },
      baseBranch: 'main',
      test: { runner: 'vitest', command: ['npm', 'test'] },
      dataContract: 'contracts/orders_api.yaml',
      httpApp: { module: 'src/app.js', export: 'createApp', args: { module: 'test/helpers.js', export: 'createTestDeps' } },
    });
    const lines = text.split('\n');
    expect(lines).toContain('  # service name from package.json name "@acme/Orders_API"');
    expect(lines).toContain('  # package manager: npm (package-lock.json in the repository root)');
    expect(lines).toContain('  # Node asked for: >=20 (engines.node in package.json; range >=20.0.0)');
    expect(lines).toContain('    # runner and command as triage reads them from the repository: package.json scripts.test runs "vitest run"; suite: npm test');
    expect(lines).toContain('    # src/app.js:3: exported function createApp builds an app with express');
    expect(lines).toContain('    # test/app.test.js:4: called as createApp(createTestDeps(…)) here');
    expect(lines).toContain('    # other candidates, not written:');
    expect(lines).toContainEqual(expect.stringMatching(/^ {4}# {3}function src\/handler\.js export handler \(auto\), score \d+: src\/handler\.js:1: Lambda-style handler handler\(event, context\)$/));
    expect(lines).toContainEqual(expect.stringContaining('# TODO: write the data contract from a sample alert: tracemend gate --suggest <alert> --service orders_api'));
    expect(text).not.toMatch(/TODO: .*repository|owner: TODO/);
  });

  it('marks what it cannot decide: no origin, no entry, no test runner', async () => {
    const dir = await repo('no-runner', { 'package.json': JSON.stringify({ name: 'ledger', scripts: { start: 'node src/util.js' } }), 'src/util.js': 'export const add = (a, b) => a + b;\n' });
    const io = capture();
    expect(await runCli(['init', dir, '--json'], io, {})).toBe(0);
    const output = JSON.parse(io.stdout.join('\n')) as { service: string; entry: unknown; todos: string[] };
    expect(output.service).toBe('ledger');
    expect(output.todos).toEqual([
      expect.stringMatching(/^repository: the folder is (?:not a git repository|inside the git repository .*): set owner, name and cloneUrl$/),
      'test.runner: no test runner found: set vitest, jest, mocha, node:test or ava and test.command',
      'dataContract: write contracts/ledger.yaml (relative to the catalog file)',
      'entry: no HTTP app factory, Lambda handler or queue consumer found: set httpApp, functionHandler or messageHandler {module, export}',
    ]);
    const yaml = capture();
    expect(await runCli(['init', dir], yaml, {})).toBe(0);
    expect(yaml.stdout.join('\n')).toMatch(/# TODO: no test runner found in this repository: package\.json's test script names none/);
  });

  it('adds the entry to a catalog file, keeping other services and comments, and replaces it only with --force', async () => {
    const dir = await repo('orders-write', ORDERS, 'https://github.com/acme/orders-api.git');
    const file = join(root, 'tracemend.config.yaml');
    const existing = [
      'version: 1',
      'services:',
      '  # the billing job, onboarded by hand',
      '  billing:',
      '    repository: { owner: acme, name: billing, cloneUrl: "https://github.com/acme/billing.git" }',
      '    test: { runner: jest, command: [npx, jest] }',
      '    dataContract: contracts/billing.yaml',
      '',
    ].join('\n');
    await writeFile(file, existing);
    const io = capture();
    expect(await runCli(['init', dir, '--service', 'orders', '--write', file], io, {})).toBe(0);
    expect(io.stdout[0]).toBe(`added service orders in ${file}; still to do:\n  - dataContract: write contracts/orders.yaml (relative to the catalog file)`);
    const written = await readFile(file, 'utf8');
    expect(written).toContain('  # the billing job, onboarded by hand\n  billing:\n');
    const catalog = ServiceCatalog.parse(parse(written));
    expect(catalog.services['billing']).toEqual(ServiceCatalog.parse(parse(existing)).services['billing']);
    expect(Object.keys(catalog.services)).toEqual(['billing', 'orders']);
    expect(catalog.services['orders']?.repository).toEqual({ owner: 'acme', name: 'orders-api', cloneUrl: 'https://github.com/acme/orders-api.git' });

    const again = capture();
    expect(await runCli(['init', dir, '--service', 'orders', '--write', file], again, {})).toBe(1);
    expect(again.stderr[0]).toBe(`tracemend init: service orders is already in ${file}: pass --force to replace it, or --service to add it under another name`);
    expect(await readFile(file, 'utf8')).toBe(written);

    await writeFile(join(dir, 'src/app.js'), ORDERS['src/app.js'].replace(/createApp/g, 'buildApp'));
    await writeFile(join(dir, 'test/app.test.js'), ORDERS['test/app.test.js'].replace(/createApp/g, 'buildApp'));
    const forced = capture();
    expect(await runCli(['init', dir, '--service', 'orders', '--write', file, '--force'], forced, {})).toBe(0);
    expect(forced.stdout[0]).toMatch(/^replaced service orders in /);
    const replaced = ServiceCatalog.parse(parse(await readFile(file, 'utf8')));
    expect(Object.keys(replaced.services)).toEqual(['billing', 'orders']);
    expect(replaced.services['orders']?.httpApp?.export).toBe('buildApp');
  });

  it('names what is wrong with its arguments', async () => {
    const bad = capture();
    expect(await runCli(['init', '--service', 'Orders API'], bad, {})).toBe(2);
    expect(bad.stderr[0]).toBe('tracemend init: --service Orders API is not a catalog service name (lowercase letters, digits, . _ -); for example orders-api');
    const force = capture();
    expect(await runCli(['init', '--force'], force, {})).toBe(2);
    expect(force.stderr[0]).toMatch(/^tracemend init: --force applies only with --write; usage: tracemend init \[dir\]/);
    const missing = capture();
    expect(await runCli(['init', join(root, 'absent')], missing, {})).toBe(1);
    expect(missing.stderr[0]).toBe(`tracemend init: ${join(root, 'absent')} is not a folder: pass the repository's folder (default: the current one)`);
    const help = capture();
    expect(await runCli(['init', '--help'], help, {})).toBe(0);
    expect(help.stdout[0]).toMatch(/^usage: tracemend init \[dir\] \[--service <name>\] \[--write <catalog file>\] \[--force\] \[--json\]\n/);
  });

  it('normalizes package names and reads clone URLs', () => {
    expect(normalizeServiceName('@acme/Orders API')).toBe('orders-api');
    expect(normalizeServiceName('--Weird__Name--')).toBe('weird__name');
    expect(repositoryOfRemote('https://github.com/acme/orders-api.git')).toEqual({ owner: 'acme', name: 'orders-api' });
    expect(repositoryOfRemote('ssh://git@git.example.com:2222/team/sub/orders')).toEqual({ owner: 'sub', name: 'orders' });
    expect(repositoryOfRemote('git@github.com:acme/orders-api.git')).toEqual({ owner: 'acme', name: 'orders-api' });
    expect(repositoryOfRemote('/srv/git/orders.git')).toBeUndefined();
    expect(withoutCredentials('https://ci:ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/acme/orders.git')).toEqual({ url: 'https://github.com/acme/orders.git', stripped: true });
    expect(withoutCredentials('ssh://git@github.com/acme/orders.git')).toEqual({ url: 'ssh://git@github.com/acme/orders.git', stripped: false });
  });
});
