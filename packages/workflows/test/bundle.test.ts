import { rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const workflowsPath = fileURLToPath(new URL('../src/index.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

// One ESLint for every probe: its type-aware rules build the TypeScript program once, not per probe,
// and each probe gets a file of its own, so a probe that outlives its test's time never removes the next one's.
let eslint: ESLint | undefined;
let probes = 0;

async function lintProbe(directory: string, source: string): Promise<string[]> {
  const probe = fileURLToPath(new URL(`${directory}/lint-probe-${process.pid}-${++probes}.ts`, new URL('../../../', import.meta.url)));
  await writeFile(probe, source);
  try {
    eslint ??= new ESLint({ cwd: repoRoot });
    const [result] = await eslint.lintFiles([probe]);
    return (result?.messages ?? []).map((message) => `${message.ruleId ?? 'parse'} at line ${message.line}: ${message.message}`);
  } finally {
    await rm(probe, { force: true });
  }
}

// Type-aware lint of a workspace takes minutes on a busy machine.
const LINT_TIMEOUT_MS = 300_000;

describe('workflow code', () => {
  it('bundles for the Temporal workflow sandbox', async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } });
    expect(code.length).toBeGreaterThan(10_000);
    expect(code).toContain('repairIncident');
  });

  it('fails lint when a workflow file imports a Node builtin, a logger or an I/O client', async () => {
    const messages = await lintProbe(
      'packages/workflows/src',
      [
        "import { readFileSync } from 'node:fs';",
        "import pino from 'pino';",
        "import { Octokit } from '@octokit/rest';",
        'export const probe = [readFileSync, pino, Octokit];',
        '',
      ].join('\n'),
    );
    const restricted = messages.filter((message) => message.startsWith('@typescript-eslint/no-restricted-imports'));
    for (const line of [1, 2, 3]) {
      expect(restricted.some((message) => message.includes(`at line ${line}:`) && message.includes('deterministic sandbox'))).toBe(true);
    }
  }, LINT_TIMEOUT_MS);

  it('lints clean when a workflow file imports only the workflow SDK and contracts', async () => {
    const messages = await lintProbe(
      'packages/workflows/src',
      ["import { sleep } from '@temporalio/workflow';", "import { STAGES } from '@tracemend/contracts';", 'export const probe = [sleep, STAGES];', ''].join('\n'),
    );
    expect(messages).toEqual([]);
  }, LINT_TIMEOUT_MS);

  it('leaves other packages free to import Node builtins', async () => {
    const messages = await lintProbe('packages/telemetry/src', ["import { readFileSync } from 'node:fs';", 'export const probe = readFileSync;', ''].join('\n'));
    expect(messages).toEqual([]);
  }, LINT_TIMEOUT_MS);
});
