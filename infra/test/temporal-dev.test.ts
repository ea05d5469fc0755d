import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SEARCH_ATTRIBUTES } from '@tracemend/contracts';
import { freePort, temporalCliPath } from '../src';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { infraDir, lines, run } from './run';

const script = join(infraDir, 'temporal-dev.sh');
const expectedAttributes = Object.values(SEARCH_ATTRIBUTES).map(({ name, type }) => `${name}=${type}`);

describe('temporal-dev.sh search attribute list', () => {
  it('equals SEARCH_ATTRIBUTES from the contracts', async () => {
    const result = await run('bash', [script, 'search-attributes']);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual(expectedAttributes);
  });

  it('rejects an unknown command with usage and exit 2', async () => {
    const result = await run('bash', [script, 'restart']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('usage:');
  });
});

describe('temporal-dev.sh against a real dev server', () => {
  let stateDir = '';
  let env: NodeJS.ProcessEnv = {};
  let port = 0;
  let uiPort = 0;

  const temporalDev = (command: string) => run('bash', [script, command], { env, timeoutMs: 120_000 });

  async function customAttributes(): Promise<Record<string, string>> {
    const listed = await run(temporalCliPath(), ['operator', 'search-attribute', 'list', '--address', `127.0.0.1:${port}`, '--namespace', 'default', '-o', 'json']);
    expect(listed.code).toBe(0);
    return (JSON.parse(listed.stdout) as { customAttributes: Record<string, string> }).customAttributes;
  }

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'temporal-dev-'));
    port = await freePort();
    do uiPort = await freePort();
    while (uiPort === port);
    env = { ...process.env, TRACEMEND_STATE_DIR: stateDir, TRACEMEND_TEMPORAL_PORT: String(port), TRACEMEND_TEMPORAL_UI_PORT: String(uiPort) };
  });

  afterAll(async () => {
    await temporalDev('stop');
    await rm(stateDir, { recursive: true, force: true });
  });

  it('starts, reports, registers the search attributes, stops and restarts on the same database', { timeout: 300_000 }, async () => {
    const start = await temporalDev('start');
    expect(start.stderr).toBe('');
    expect(start.code).toBe(0);
    expect(start.stdout).toMatch(new RegExp(`^\\[done\\] temporal dev server: started \\(pid \\d+\\) on 127\\.0\\.0\\.1:${port}, namespace default`));
    expect(lines(start.stdout).at(-1)).toBe(`Temporal UI: http://127.0.0.1:${uiPort}`);

    const again = await temporalDev('start');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^\[skip\] temporal dev server: already running \(pid \d+\)/);

    // Another checkout (another state folder) on the same address uses the running server and owns nothing.
    const other = await mkdtemp(join(tmpdir(), 'temporal-dev-other-'));
    try {
      const otherEnv = { ...env, TRACEMEND_STATE_DIR: other };
      const shared = await run('bash', [script, 'start'], { env: otherEnv, timeoutMs: 120_000 });
      expect(shared.stderr).toBe('');
      expect(shared.code).toBe(0);
      expect(lines(shared.stdout)[0]).toBe(`[skip] temporal dev server: 127.0.0.1:${port} already answers, a server this checkout did not start`);
      expect((await run('bash', [script, 'stop'], { env: otherEnv })).stdout.trim()).toBe('[skip] temporal dev server: not running');
      expect((await temporalDev('status')).code).toBe(0);
    } finally {
      await rm(other, { recursive: true, force: true });
    }

    const status = await temporalDev('status');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`running (pid`);
    expect(status.stdout).toContain(`UI http://127.0.0.1:${uiPort}`);

    const attributes = await customAttributes();
    for (const { name, type } of Object.values(SEARCH_ATTRIBUTES)) {
      expect(attributes[name]).toBe(`INDEXED_VALUE_TYPE_${type.toUpperCase()}`);
    }

    const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
    expect(ui.status).toBe(200);

    const stop = await temporalDev('stop');
    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(/^\[done\] temporal dev server: stopped \(pid \d+\)$/m);

    const stopped = await temporalDev('status');
    expect(stopped.code).toBe(3);
    expect(stopped.stdout.trim()).toBe('stopped');

    // The database now holds the attributes: a second start on it must come up the same way.
    const restart = await temporalDev('start');
    expect(restart.stderr).toBe('');
    expect(restart.code).toBe(0);
    expect(Object.keys(await customAttributes())).toEqual(expect.arrayContaining(Object.values(SEARCH_ATTRIBUTES).map((a) => a.name)));
    expect((await temporalDev('stop')).code).toBe(0);
    expect((await temporalDev('status')).code).toBe(3);
  });
});
