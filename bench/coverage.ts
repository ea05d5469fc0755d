// Converting one replay's V8 coverage into repository lines: replays each fixture alert once with
// coverage in the Docker sandbox, then times the conversion on the host.
// Usage: pnpm --filter @tracemend/bench coverage [--rounds=50]
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RepoTarget } from '@tracemend/contracts';
import { FIXTURE_CATALOG, fixtureAlertPaths, fixtureServiceNames, fixturesRoot, loadFixtureRepo, type FixtureServiceName } from '@tracemend/fixture-kit';
import { buildEnvelope, type OtlpLogs, type OtlpTraces } from '@tracemend/ingest';
import { DockerSandboxDriver, ResidentHarness, buildBaseImage, createWorkspace, entryHandlersOf, lineCoverageOf, replayJobFromEnvelope, sandboxImageTag, type ScriptCoverage } from '@tracemend/sandbox';
import { createLogger } from '@tracemend/telemetry';

const logger = createLogger({ name: 'bench-coverage', level: 'warn' });
const rounds = Number(process.argv.find((arg) => arg.startsWith('--rounds='))?.split('=')[1] ?? 50);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds expects a positive integer, e.g. --rounds=50; got ${rounds}`);

/** Executed repository lines (`file:line`) of one run. */
async function executedLines(scripts: readonly ScriptCoverage[]): Promise<Set<string>> {
  const lines = new Set<string>();
  for (const script of scripts) {
    const converted = await lineCoverageOf(script);
    for (const [line, count] of converted?.lines ?? []) if (count > 0) lines.add(`${converted?.file}:${line}`);
  }
  return lines;
}

/** One failing replay of a fixture's recorded alert, with coverage, after a warm-up job. */
async function coveredRun(service: FixtureServiceName, scratch: string, workspace: ReturnType<typeof createWorkspace>): Promise<ScriptCoverage[]> {
  const repo = await loadFixtureRepo(service, join(scratch, service));
  const entry = FIXTURE_CATALOG[service];
  const target: RepoTarget = {
    schemaVersion: 1,
    service,
    repository: { owner: 'acme', name: service, cloneUrl: repo.dir },
    baseBranch: 'main',
    sha: repo.sha,
    test: { runner: entry.runner as RepoTarget['test']['runner'], command: entry.command },
    dataContract: join(fixturesRoot, 'contracts', `${service}.yaml`),
    ...(entry.httpApp ? { httpApp: entry.httpApp } : {}),
  };
  const prepared = await workspace.prepare(target);
  const paths = fixtureAlertPaths(service);
  const receivedAt = new Date().toISOString();
  const envelope = buildEnvelope({
    traces: { source: { alertId: 'a'.repeat(64), format: 'otlp-traces-json', receivedAt }, body: JSON.parse(await readFile(paths.traces, 'utf8')) as OtlpTraces },
    logs: [{ source: { alertId: 'b'.repeat(64), format: 'otlp-logs-json', receivedAt }, body: JSON.parse(await readFile(paths.logs, 'utf8')) as OtlpLogs }],
  });
  const driver = new DockerSandboxDriver({ logger });
  const harness = await ResidentHarness.start({ driver, image: sandboxImageTag(), repoDir: prepared.repoDir, depsDir: prepared.depsDir, labels: { 'tracemend.bench': 'coverage' }, logger });
  try {
    const job = replayJobFromEnvelope(envelope, { id: 'covered', coverage: true, handlers: entryHandlersOf(target) });
    await harness.judge({ ...job, id: 'warm-up' });
    const result = await harness.judge(job);
    if (result.outcome === 'harness-error') throw new Error(`${service}: ${result.message}`);
    return result.coverage ?? [];
  } finally {
    await harness.close();
  }
}

function median(sample: readonly number[]): number {
  const sorted = [...sample].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Median wall time and heap growth (before any collection) of one conversion, over `rounds`. */
async function measure(scripts: readonly ScriptCoverage[]): Promise<{ ms: number; mb: number; lines: number }> {
  let lines = (await executedLines(scripts)).size;
  const times: number[] = [];
  const heap: number[] = [];
  for (let round = 0; round < rounds; round++) {
    globalThis.gc?.();
    const before = process.memoryUsage().heapUsed;
    const started = performance.now();
    lines = (await executedLines(scripts)).size;
    times.push(performance.now() - started);
    heap.push((process.memoryUsage().heapUsed - before) / 2 ** 20);
  }
  return { ms: median(times), mb: median(heap), lines };
}

async function main(): Promise<void> {
  await buildBaseImage();
  const scratch = await mkdtemp(join(tmpdir(), 'tracemend-bench-coverage-'));
  const workspace = createWorkspace({ root: join(tmpdir(), 'tracemend-bench-sandbox-workspace'), logger });
  const rows: string[][] = [];
  try {
    for (const service of fixtureServiceNames) {
      const scripts = await coveredRun(service, scratch, workspace);
      const kb = Buffer.byteLength(JSON.stringify(scripts)) / 1024;
      const { ms, mb, lines } = await measure(scripts);
      rows.push([service, String(scripts.length), kb.toFixed(0), ms.toFixed(2), mb.toFixed(2), String(lines)]);
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const header = ['service', 'scripts', 'coverage KiB', 'median ms', 'heap MB', 'executed lines'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const line = (cells: readonly string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  process.stdout.write(`\nCoverage conversion of one failing replay per fixture (${rounds} rounds, node ${process.version}${globalThis.gc ? ', gc before each round' : ''})\n\n`);
  process.stdout.write(`${[line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n')}\n`);
}

await main();
