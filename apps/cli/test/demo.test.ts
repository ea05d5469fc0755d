// `tracemend demo` as the README's first command runs it, in its own process: it brings up the GitHub
// emulator, the worker and the gateway, turns the three recorded alerts into pull requests and
// leaves the stack running until `tracemend demo --stop`. It uses a Temporal server of its own (the
// demo starts the project's dev server only for the default address) and free ports.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureServiceNames } from '@tracemend/fixture-kit';
import { freePort } from '@tracemend/infra';
import { startTemporalDevServer, type TemporalDevServer } from '@tracemend/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopBackground } from '../src/background';
import { runBin, type BinResult } from './bin';

let temporal: TemporalDevServer;
let dir: string;
let state: string;
let env: NodeJS.ProcessEnv;
let gatewayPort: number;
let githubPort: number;
let demo: BinResult;

async function answers(url: string): Promise<boolean> {
  return fetch(url).then(
    () => true,
    () => false,
  );
}

beforeAll(async () => {
  temporal = await startTemporalDevServer();
  dir = await mkdtemp(join(tmpdir(), 'tracemend-cli-demo-'));
  state = join(dir, 'state');
  gatewayPort = await freePort();
  githubPort = await freePort();
  env = {
    TRACEMEND_TEMPORAL_ADDRESS: temporal.address,
    TRACEMEND_STATE_DIR: state,
    TRACEMEND_DEMO_GATEWAY_PORT: String(gatewayPort),
    TRACEMEND_DEMO_GITHUB_PORT: String(githubPort),
  };
  demo = await runBin(['demo'], env);
}, 600_000);

afterAll(async () => {
  // Whatever a failed assertion left running.
  for (const name of ['gateway', 'worker', 'github-emulator']) await stopBackground(state, name);
  await temporal?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('tracemend demo', () => {
  it('turns the three recorded alerts into pull requests, with doctor all ok', () => {
    expect(demo.code, demo.stderr + demo.stdout.slice(-4_000)).toBe(0);
    expect(demo.stdout).toContain(`using the server at ${temporal.address}`);
    const doctor = demo.stdout.split('== doctor\n')[1]?.split('\n\n')[0]?.split('\n') ?? [];
    expect(doctor.length).toBeGreaterThanOrEqual(9);
    expect(doctor.filter((line) => !line.startsWith('ok '))).toEqual([]);
    for (const service of fixtureServiceNames) {
      expect(demo.stdout).toMatch(new RegExp(`^${service}: pr-opened in \\d+ s`, 'm'));
      expect(demo.stdout).toContain(`pull request: http://127.0.0.1:${githubPort}/acme/${service}/pull/1 (branch tracemend/${service}/`);
    }
    expect(demo.stdout).toContain('`npx tracemend demo --stop` ends it');
  });

  it('leaves the emulator serving the pull requests, one per service', async () => {
    for (const service of fixtureServiceNames) {
      const response = await fetch(`http://127.0.0.1:${githubPort}/api/v3/repos/acme/${service}/pulls?state=open`, {
        headers: { authorization: 'token tracemend-demo-github-token' },
      });
      expect(response.status).toBe(200);
      const pulls = (await response.json()) as { number: number; head: { ref: string } }[];
      expect(pulls.map((pull) => pull.number)).toEqual([1]);
      expect(pulls[0]?.head.ref).toMatch(new RegExp(`^tracemend/${service}/[0-9a-f]{8}-`));
    }
  });

  it('refuses an unknown argument with its usage', async () => {
    const wrong = await runBin(['demo', '--stpo'], env);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr.trim()).toBe('tracemend demo: unexpected arguments --stpo; usage: tracemend demo [--stop]');
  });

  it('--stop ends the gateway, the worker and the emulator, and leaves a server it did not start alone', async () => {
    expect(await answers(`http://127.0.0.1:${gatewayPort}/healthz`)).toBe(true);
    const stop = await runBin(['demo', '--stop'], env);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout.trim().split('\n')).toEqual([
      'gateway: stopped',
      'worker: stopped',
      'github-emulator: stopped',
      `temporal: left alone, the demo did not start the server at ${temporal.address}`,
    ]);
    expect(await answers(`http://127.0.0.1:${gatewayPort}/healthz`)).toBe(false);
    expect(await answers(`http://127.0.0.1:${githubPort}/api/v3`)).toBe(false);
    const again = await runBin(['demo', '--stop'], env);
    expect(again.stdout).toContain('gateway: not running');
  });
});
