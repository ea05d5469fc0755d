import { chmod, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { infraDir, lines, run } from './run';

const bootstrap = join(infraDir, 'bootstrap.sh');
const summary = /^bootstrap: (nothing changed|\d+ steps? changed) \(\d+\.\d s\)$/;
const infraSteps = ['node', 'pnpm', 'dependencies', 'temporal cli', 'docker engine', 'chromium', 'sandbox image', 'temporal dev server'];

const repoRoot = join(infraDir, '..');

/**
 * What the bootstrap's steps produce, read from the machine rather than from its output: the
 * dependency stamp and the install's own record, the temporal CLI link, the engine's sandbox image,
 * the chromium binary and the Temporal dev server's process. A run that "skips" but touches any of
 * them changed something.
 */
async function machineState(): Promise<Record<string, string>> {
  const images = await run('docker', ['images', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
  const chromium = await run('bash', ['-c', 'command -v chromium']);
  const modules = join(repoRoot, 'node_modules', '.modules.yaml');
  return {
    dependencies: await readFile(join(repoRoot, '.tracemend', 'state', 'dependencies.sha256'), 'utf8'),
    modules: `${(await stat(modules)).mtimeMs} ${await readFile(modules, 'utf8')}`,
    temporal: await readlink(join(repoRoot, '.tracemend', 'bin', 'temporal')),
    images: lines(images.stdout).filter((line) => line.startsWith('tracemend/')).sort().join('\n'),
    chromium: `${chromium.stdout.trim()} ${(await stat(chromium.stdout.trim())).mtimeMs}`,
    // No pid file when the address is served by a Temporal server another checkout started.
    temporalServer: await readFile(join(process.env.TRACEMEND_STATE_DIR ?? join(repoRoot, '.tracemend'), 'run', 'temporal.pid'), 'utf8').catch(() => 'not started here'),
  };
}

function stepName(line: string): string {
  return line.replace(/^\[(done|skip)\] /, '').split(':')[0] ?? '';
}

describe('bootstrap.sh', () => {
  it('reaches a state where a second run changes nothing and only skips', { timeout: 900_000 }, async () => {
    // Run from an unrelated directory: the script must find the repository by itself.
    const first = await run('bash', [bootstrap], { cwd: tmpdir(), timeoutMs: 840_000 });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const firstLines = lines(first.stdout);
    expect(firstLines.at(-1)).toMatch(summary);
    for (const line of firstLines.slice(0, -1)) expect(line).toMatch(/^\[(done|skip)\] [a-z ]+: \S/);

    const before = await machineState();
    const second = await run('bash', [bootstrap], { cwd: tmpdir(), timeoutMs: 60_000 });
    expect(await machineState()).toEqual(before);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    const secondLines = lines(second.stdout);
    expect(secondLines.at(-1)).toMatch(/^bootstrap: nothing changed \(\d+\.\d s\)$/);
    const steps = secondLines.slice(0, -1);
    for (const line of steps) expect(line).toMatch(/^\[skip\] /);
    expect(steps.map(stepName)).toEqual(expect.arrayContaining(infraSteps.filter((s) => s !== 'sandbox image')));
    expect(steps.some((line) => line.startsWith('[skip] sandbox image'))).toBe(true);
    expect(steps[0]).toMatch(/^\[skip\] node: v\d+\.\d+\.\d+ satisfies >=20\.3$/);
  });

  it('stops at the first step when node is older than engines.node', async () => {
    // A `node` that reports 18.0.0 and otherwise behaves like the real one.
    const bin = await mkdtemp(join(tmpdir(), 'bootstrap-old-node-'));
    try {
      await writeFile(join(bin, 'old-version.cjs'), 'Object.defineProperty(process.versions, "node", { value: "18.0.0" });\n');
      await writeFile(join(bin, 'node'), `#!/bin/sh\n[ "$1" = --version ] && { echo v18.0.0; exit 0; }\nexec "${process.execPath}" -r "${join(bin, 'old-version.cjs')}" "$@"\n`);
      await chmod(join(bin, 'node'), 0o755);
      const result = await run('bash', [bootstrap], { env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` } });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('bootstrap: node v18.0.0 does not satisfy engines.node ">=20.3"');
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });
});
