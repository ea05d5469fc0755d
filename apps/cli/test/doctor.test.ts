import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@tracemend/infra';
import type {} from '@tracemend/testing/temporal-global-setup';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../src/cli';
import { doctorPassed, formatDoctor, runDoctor, type CheckResult } from '../src/doctor';
import { loadCliConfig, type CliConfig } from '../src/env';
import type { CliIo } from '../src/io';
import { findWorkspaceRoot } from '@tracemend/infra';

const root = findWorkspaceRoot();
const docker = new Docker();
const probeImage = `tracemend-test/doctor-probe:${process.pid}`;

function captureIo(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (text) => stdout.push(text), err: (text) => stderr.push(text) };
}

function check(results: CheckResult[], name: string): CheckResult {
  const result = results.find((r) => r.name === name);
  if (!result) throw new Error(`no check named ${name} in ${results.map((r) => r.name).join(', ')}`);
  return result;
}

/** A loopback HTTP server answering `status` to every request and recording the auth headers. */
async function answering(status: (headers: Record<string, string | string[] | undefined>) => number): Promise<{ url: string; server: Server; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((request, response) => {
    paths.push(request.url ?? '');
    response.writeHead(status(request.headers), { 'content-type': 'application/json' });
    response.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, paths };
}

/** Builds a one-file image offline (tar piped into `docker import`): doctor only inspects it. */
async function importProbeImage(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'doctor-image-'));
  await writeFile(join(dir, 'probe'), 'doctor probe\n');
  await new Promise<void>((resolve, reject) => {
    const tar = spawn('tar', ['-C', dir, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const load = spawn('docker', ['import', '--change', 'LABEL tracemend.content-hash=0123456789abcdef0123', '-', probeImage], {
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    tar.stdout.pipe(load.stdin);
    load.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`docker import exited ${code}`))));
  });
  await rm(dir, { recursive: true });
}

let config: CliConfig;

beforeAll(async () => {
  await importProbeImage();
  config = { ...loadCliConfig({}), temporalAddress: inject('temporalAddress'), sandboxImage: probeImage };
});

afterAll(async () => {
  await docker.getImage(probeImage).remove({ force: true });
});

describe('tracemend doctor', () => {
  it('is green on this machine: Node, pnpm, temporal CLI, Temporal with its search attributes, Docker, the image', async () => {
    const results = await runDoctor({ config, root, docker });
    expect(results.map((r) => r.name)).toEqual([
      'node',
      'pnpm',
      'temporal CLI',
      'temporal server',
      'search attributes',
      'worker',
      'docker engine',
      'sandbox image',
      'github target',
      'llm provider',
    ]);
    for (const name of ['node', 'pnpm', 'temporal CLI', 'temporal server', 'search attributes', 'docker engine', 'sandbox image']) {
      expect(check(results, name), name).toMatchObject({ status: 'ok', required: true });
    }
    expect(check(results, 'search attributes').detail).toContain('TracemendOutcome');
    expect(check(results, 'sandbox image').detail).toContain('(0123456789ab)');
    expect(check(results, 'pnpm').detail).toMatch(/^\d+\.\d+\.\d+$/);
    // Nobody runs a worker in this test file: an optional warning, not a failure.
    expect(check(results, 'worker')).toMatchObject({ status: 'warn', required: false });
    expect(check(results, 'llm provider')).toMatchObject({ status: 'ok', detail: expect.stringContaining('templates only') as string });
    // No GitHub target in this config: pull requests would fail, which doctor says without failing.
    expect(check(results, 'github target')).toMatchObject({ status: 'warn', required: false, fix: expect.stringContaining('TRACEMEND_GITHUB_API_URL') as string });
    expect(doctorPassed(results)).toBe(true);
  });

  it('fails with a fix hint when Temporal is not reachable, and the command exits 1', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const results = await runDoctor({ config: { ...config, temporalAddress: address }, root, docker, timeoutMs: 2_000 });
    const temporal = check(results, 'temporal server');
    expect(temporal).toMatchObject({ status: 'fail', required: true });
    expect(temporal.detail).toContain(address);
    expect(temporal.fix).toContain('bash infra/temporal-dev.sh start');
    expect(doctorPassed(results)).toBe(false);

    const io = captureIo();
    const code = await runCli(['doctor'], io, { TRACEMEND_TEMPORAL_ADDRESS: address, TRACEMEND_SANDBOX_IMAGE: probeImage });
    expect(code).toBe(1);
    expect(io.stdout.join('\n')).toMatch(/^FAIL {2}temporal server +127\.0\.0\.1:\d+ unreachable: .* \(fix: start it with/m);
  });

  it('fails when the Docker engine does not answer or the sandbox image is missing', async () => {
    const unreachable = await runDoctor({ config, root, docker: new Docker({ socketPath: join(tmpdir(), 'no-such-docker.sock') }), timeoutMs: 2_000 });
    expect(check(unreachable, 'docker engine')).toMatchObject({ status: 'fail', required: true, fix: expect.stringContaining('bootstrap') as string });

    const missing = await runDoctor({ config: { ...config, sandboxImage: 'tracemend-test/absent:0' }, root, docker });
    expect(check(missing, 'docker engine').status).toBe('ok');
    expect(check(missing, 'sandbox image')).toMatchObject({ status: 'fail', detail: expect.stringContaining('tracemend-test/absent:0 missing') as string });
    expect(doctorPassed(missing)).toBe(false);

    // A DOCKER_HOST that is no engine address fails before anything is sent.
    const invalid = await runDoctor({ config: { ...config, dockerHost: 'docker.sock' }, root, docker, timeoutMs: 2_000 });
    expect(check(invalid, 'docker engine')).toMatchObject({ status: 'fail', detail: expect.stringContaining('"docker.sock" is not an engine address') as string });
  });

  it('says which mount mode the sandbox uses on the configured engine', async () => {
    const here = await runDoctor({ config, root, docker });
    expect(check(here, 'docker engine').detail).toContain('mounts: bind (the engine runs on this machine)');
    // The address names another machine; the client doctor talks to is still the local engine, so nothing leaves this host.
    const shared = process.env.TRACEMEND_DOCKER_SHARED_FS;
    try {
      delete process.env.TRACEMEND_DOCKER_SHARED_FS;
      const remote = await runDoctor({ config: { ...config, dockerHost: 'tcp://build-host.example.com:2376' }, root, docker });
      expect(check(remote, 'docker engine')).toMatchObject({ status: 'ok', detail: expect.stringContaining('mounts: volumes (build-host.example.com does not share') as string });
      process.env.TRACEMEND_DOCKER_SHARED_FS = '1';
      const mounted = await runDoctor({ config: { ...config, dockerHost: 'tcp://build-host.example.com:2376' }, root, docker });
      expect(check(mounted, 'docker engine').detail).toContain('mounts: bind (TRACEMEND_DOCKER_SHARED_FS=1: build-host.example.com mounts the state folder');
    } finally {
      if (shared === undefined) delete process.env.TRACEMEND_DOCKER_SHARED_FS;
      else process.env.TRACEMEND_DOCKER_SHARED_FS = shared;
    }
  });

  it('probes a configured GitHub target with its token', async () => {
    const github = await answering((headers) => (headers.authorization === 'Bearer good' ? 200 : 401));
    try {
      const good = await runDoctor({ config: { ...config, github: { apiUrl: github.url, token: 'good' } }, root, docker });
      expect(check(good, 'github target')).toMatchObject({ status: 'ok', detail: `${github.url} (token accepted)` });
      const bad = await runDoctor({ config: { ...config, github: { apiUrl: github.url, token: 'bad' } }, root, docker });
      expect(check(bad, 'github target')).toMatchObject({ status: 'fail', detail: `${github.url} answered 401` });
      expect(github.paths).toContain('/user');
    } finally {
      github.server.close();
    }
  });

  it('warns, without failing, when the LLM provider does not accept the key: repair still has templates', async () => {
    const llm = await answering((headers) => (headers.authorization === 'Bearer sk-good' ? 200 : 401));
    try {
      const good = await runDoctor({ config: { ...config, llm: { provider: 'openai-compatible', baseUrl: llm.url, apiKey: 'sk-good' } }, root, docker });
      expect(check(good, 'llm provider')).toMatchObject({ status: 'warn', required: false, detail: expect.stringContaining('answers, but repair does not use a model yet') as string });
      const bad = await runDoctor({ config: { ...config, llm: { provider: 'openai-compatible', baseUrl: llm.url, apiKey: 'sk-bad' } }, root, docker });
      expect(check(bad, 'llm provider')).toMatchObject({ status: 'warn', required: false, detail: expect.stringContaining('answered 401') as string });
      expect(doctorPassed(bad)).toBe(true);
      expect(llm.paths).toEqual(['/models', '/models']);
    } finally {
      llm.server.close();
    }
  });

  it('prints JSON with --json and one line per check otherwise', async () => {
    const io = captureIo();
    const code = await runCli(['doctor', '--json'], io, { TRACEMEND_TEMPORAL_ADDRESS: inject('temporalAddress'), TRACEMEND_SANDBOX_IMAGE: probeImage });
    expect(code).toBe(0);
    const report = JSON.parse(io.stdout.join('')) as { passed: boolean; checks: CheckResult[] };
    expect(report.passed).toBe(true);
    expect(report.checks).toHaveLength(10);
    expect(formatDoctor(report.checks).split('\n')).toHaveLength(10);
  });

  it('rejects unknown commands and options with the usage text', async () => {
    const io = captureIo();
    expect(await runCli(['doctr'], io, {})).toBe(2);
    expect(io.stderr.join('')).toContain('unknown command "doctr"');
    expect(await runCli(['doctor', '--jsn'], io, {})).toBe(2);
    expect(io.stderr.join('')).toContain('unknown option --jsn');
    expect(await runCli(['doctor'], io, { TRACEMEND_LLM_PROVIDER: 'gpt' })).toBe(2);
    expect(io.stderr.join('')).toContain('TRACEMEND_LLM_PROVIDER');
  });
});
