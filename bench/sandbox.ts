// Sandbox latency and throughput on the real Docker engine, side by side in one run:
//   cold    one `docker run` per candidate (create, start, replay one job, remove) through the driver,
//   exec    one `docker exec` of the replay harness into a warm, already running sandbox container,
//   resident one candidate judged by the resident harness (one stdin line in, one result line out),
// each with p50/p95 latency, plus incidents per minute for reproduce → minimize of the fixture incidents
// through the stage functions, two incidents at a time (the sandbox queue's concurrency on 2 cores).
// Usage: pnpm --filter @tracemend/bench sandbox [--service=leaderboard] [--cold=30] [--exec=100] [--resident=500] [--incidents=6]
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import type { FailureEnvelope, FailureSignature, GatedEnvelope, RepoTarget } from '@tracemend/contracts';
import { FIXTURE_CATALOG, fixtureAlertPaths, fixtureServiceNames, fixturesRoot, isFixtureServiceName, loadFixtureRepo, type FixtureServiceName } from '@tracemend/fixture-kit';
import { buildEnvelope, type OtlpLogs, type OtlpTraces } from '@tracemend/ingest';
import { createMinimizerActivities } from '@tracemend/minimizer';
import { createAuditLog, gateEnvelope, loadDataContract, type AuditLog } from '@tracemend/privacy-gate';
import {
  DEFAULT_RUN_LIMITS,
  DockerSandboxDriver,
  RESULT_MARKER,
  ResidentHarness,
  buildBaseImage,
  createSandboxActivities,
  createWorkspace,
  entryHandlersOf,
  failureSignature,
  harnessJobLine,
  harnessLaunch,
  harnessStarter,
  mismatchReason,
  prepareJsTree,
  replayJobFromEnvelope,
  sandboxImageTag,
  type PreparedJsTree,
  type PreparedTarget,
  type ReplayJob,
  type ReplayResult,
  type StartSpec,
} from '@tracemend/sandbox';
import { createLogger } from '@tracemend/telemetry';

const TARGET_RESIDENT_P50_MS = 20;
const TARGET_EXEC_P50_MS = 150;
const CONCURRENCY = 2;
const RUN_LABEL = { 'tracemend.incident': `bench-sandbox-${process.pid}` };

const logger = createLogger({ name: 'bench-sandbox', level: 'warn' });
const docker = new Docker();
const driver = new DockerSandboxDriver({ docker, logger });
const image = sandboxImageTag();

function option(name: string, fallback: number): number {
  const given = process.argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];
  const value = given === undefined ? fallback : Number(given);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${given}`);
  return value;
}

/** Nearest-rank percentile of a sample. */
function percentile(sample: readonly number[], share: number): number {
  const sorted = [...sample].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(share * sorted.length) - 1)] ?? Number.NaN;
}

/** The FailureEnvelope ingest builds from a fixture's committed alert, released through the real privacy gate. */
async function gatedFixture(service: FixtureServiceName, audit: AuditLog, key: { id: string; secret: Uint8Array }): Promise<GatedEnvelope> {
  const paths = fixtureAlertPaths(service);
  const receivedAt = new Date().toISOString();
  const envelope: FailureEnvelope = buildEnvelope({
    traces: { source: { alertId: randomBytes(32).toString('hex'), format: 'otlp-traces-json', receivedAt }, body: JSON.parse(await readFile(paths.traces, 'utf8')) as OtlpTraces },
    logs: [{ source: { alertId: randomBytes(32).toString('hex'), format: 'otlp-logs-json', receivedAt }, body: JSON.parse(await readFile(paths.logs, 'utf8')) as OtlpLogs }],
  });
  const contract = await loadDataContract(join(fixturesRoot, 'contracts', `${service}.yaml`));
  return gateEnvelope({ envelope, contract, key, audit });
}

/** The RepoTarget triage would resolve for a fixture served from a local git repository. */
function fixtureTarget(service: FixtureServiceName, cloneUrl: string, sha: string): RepoTarget {
  const entry = FIXTURE_CATALOG[service];
  return {
    schemaVersion: 1,
    service,
    repository: { owner: 'acme', name: service, cloneUrl },
    baseBranch: 'main',
    sha,
    test: { runner: entry.runner as RepoTarget['test']['runner'], command: entry.command },
    dataContract: join(fixturesRoot, 'contracts', `${service}.yaml`),
    ...(entry.httpApp ? { httpApp: entry.httpApp } : {}),
  };
}

/**
 * The container the resident harness runs in, as a spec: the same command, mounts and limits, so the
 * cold run and the warm exec replay a candidate exactly as the resident harness does. With a prepared
 * JavaScript tree the harness runs on plain `node`; without, through the tsx loader.
 */
async function harnessSpec(prepared: PreparedTarget, preparedJs?: PreparedJsTree): Promise<StartSpec> {
  const launch = await harnessLaunch({ depsDir: prepared.depsDir, preparedJs });
  return {
    image,
    workDir: prepared.repoDir,
    depsDir: prepared.depsDir,
    command: launch.command,
    env: {},
    ...DEFAULT_RUN_LIMITS,
    labels: RUN_LABEL,
    readOnlyMounts: launch.readOnlyMounts,
  };
}

/** The result line for `id` in harness output, or undefined. */
function resultIn(stdout: string, id: string): ReplayResult | undefined {
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(RESULT_MARKER)) continue;
    const message = JSON.parse(line.slice(RESULT_MARKER.length)) as { id?: string | null };
    if (message.id === id) return message as ReplayResult;
  }
  return undefined;
}

interface Measured {
  name: string;
  samples: number[];
  /** Candidates whose result showed the expected signature. */
  matching: number;
  target?: number;
}

/** One way of replaying a candidate; a row that replays nothing (`replays: false`) has no match column. */
interface Variant {
  name: string;
  once: (i: number) => Promise<ReplayResult | undefined>;
  replays?: boolean;
  target?: number;
}

/**
 * Samples the variants round-robin (first, second, ..., first, ...), so load from other work on a
 * shared machine falls on every row alike instead of on whichever ran while it lasted.
 */
async function measureInterleaved(variants: readonly Variant[], iterations: number, warmup: number, expected: FailureSignature): Promise<Measured[]> {
  for (let i = 0; i < warmup; i++) for (const variant of variants) await variant.once(-1 - i);
  const rows: Measured[] = variants.map((variant) => ({
    name: variant.name,
    samples: [],
    matching: variant.replays === false ? Number.NaN : 0,
    ...(variant.target === undefined ? {} : { target: variant.target }),
  }));
  for (let i = 0; i < iterations; i++) {
    for (const [index, variant] of variants.entries()) {
      const row = rows[index] as Measured;
      const started = performance.now();
      const result = await variant.once(i);
      row.samples.push(performance.now() - started);
      if (result !== undefined && mismatchReason(result, expected) === undefined) row.matching++;
    }
  }
  return rows;
}

async function measure(name: string, iterations: number, warmup: number, once: (i: number) => Promise<ReplayResult | undefined>, expected: FailureSignature): Promise<Measured> {
  const [row] = await measureInterleaved([{ name, once }], iterations, warmup, expected);
  return row as Measured;
}

/** One candidate in a fresh container: create, start, replay one job from stdin, remove. */
async function coldRun(spec: StartSpec, job: ReplayJob, i: number): Promise<ReplayResult | undefined> {
  const id = `cold-${i}`;
  const result = await driver.run({ ...spec, timeoutMs: 60_000, stdin: harnessJobLine({ ...job, id }) });
  return resultIn(result.stdout, id);
}

/** One candidate as a `docker exec` of the harness into the running container: a new Node process per candidate. */
async function execRun(container: Docker.Container, spec: StartSpec, job: ReplayJob, i: number): Promise<ReplayResult | undefined> {
  const id = `exec-${i}`;
  const exec = await container.exec({
    Cmd: [...spec.command],
    User: '10001:10001',
    WorkingDir: '/work',
    Env: [],
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
  });
  const stream = await exec.start({ hijack: true, stdin: true });
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  docker.modem.demuxStream(stream, stdout, new PassThrough().resume());
  const ended = new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
  stream.end(harnessJobLine({ ...job, id }));
  await ended;
  return resultIn(Buffer.concat(chunks).toString('utf8'), id);
}

/** What an exec costs before any replay work: `node -e 0` exec'd into the same warm container (no candidate, so no match column). */
async function execFloor(container: Docker.Container): Promise<undefined> {
  const exec = await container.exec({ Cmd: ['node', '-e', '0'], User: '10001:10001', WorkingDir: '/work', AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  await new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
    stream.resume();
  });
  return undefined;
}

async function latencies(prepared: PreparedTarget, gated: GatedEnvelope, target: RepoTarget, counts: { cold: number; exec: number; resident: number }): Promise<Measured[]> {
  const compileStarted = performance.now();
  const preparedJs = await prepareJsTree({ repoDir: prepared.repoDir });
  console.log(`prepared JavaScript tree: ${preparedJs.files} files, ${preparedJs.built ? 'compiled' : 'reused'} in ${(performance.now() - compileStarted).toFixed(0)} ms`);
  const specs = { tsx: await harnessSpec(prepared), js: await harnessSpec(prepared, preparedJs) };
  const job = replayJobFromEnvelope(gated.envelope, { id: 'candidate', handlers: entryHandlersOf(target) });
  const expected = failureSignature(gated.envelope.symptom);
  const rows: Measured[] = [];

  rows.push(
    ...(await measureInterleaved(
      [
        { name: 'cold docker run per candidate, tsx loader', once: (i) => coldRun(specs.tsx, job, i) },
        { name: 'cold docker run per candidate, prepared JS', once: (i) => coldRun(specs.js, job, i) },
      ],
      counts.cold,
      2,
      expected,
    )),
  );

  // A warm container: the hardened sandbox (with both the loader's and the prepared tree's mounts), idling until the candidates are exec'd into it.
  const readOnlyMounts = [...specs.tsx.readOnlyMounts ?? [], ...(specs.js.readOnlyMounts ?? []).filter((mount) => mount.target !== '/harness')];
  const warm = await driver.start({ ...specs.tsx, readOnlyMounts, command: ['node', '-e', 'setInterval(() => {}, 1 << 30)'], timeoutMs: 30 * 60 * 1000 });
  try {
    const container = docker.getContainer(warm.containerId);
    rows.push(
      ...(await measureInterleaved(
        [
          { name: 'exec into a warm container, tsx loader', once: (i) => execRun(container, specs.tsx, job, i) },
          { name: 'exec into a warm container, prepared JS', once: (i) => execRun(container, specs.js, job, i), target: TARGET_EXEC_P50_MS },
          { name: 'exec floor: `node -e 0`, no replay', once: () => execFloor(container), replays: false },
        ],
        counts.exec,
        3,
        expected,
      )),
    );
  } finally {
    await warm.kill();
  }

  for (const [name, tree] of [['tsx loader', undefined], ['prepared JS', preparedJs]] as const) {
    const harness = await ResidentHarness.start({ driver, image, repoDir: prepared.repoDir, depsDir: prepared.depsDir, ...(tree ? { preparedJs: tree } : {}), labels: RUN_LABEL, logger });
    try {
      rows.push({
        ...(await measure(`resident harness, one candidate, ${name}`, counts.resident, 10, (i) => harness.judge({ ...job, id: `resident-${i}` }), expected)),
        target: TARGET_RESIDENT_P50_MS,
      });
    } finally {
      await harness.close();
    }
  }
  return rows;
}

interface IncidentRun {
  service: FixtureServiceName;
  reproduceMs: number;
  minimizeMs: number;
  reproduced: boolean;
  testsRun: number;
}

/** N incidents (the fixtures in turn) through reproduce → minimize, CONCURRENCY at a time. */
async function throughput(
  incidents: number,
  inputs: Map<FixtureServiceName, { gated: GatedEnvelope; target: RepoTarget }>,
  workspace: ReturnType<typeof createWorkspace>,
): Promise<{ wallMs: number; runs: IncidentRun[] }> {
  const sandbox = createSandboxActivities({ driver, image, workspace, logger });
  const minimizer = createMinimizerActivities({ workspace, startHarness: harnessStarter({ driver, image, logger }), logger });
  const queue = Array.from({ length: incidents }, (_, i) => fixtureServiceNames[i % fixtureServiceNames.length] as FixtureServiceName);
  const runs: IncidentRun[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < queue.length) {
      const index = next++;
      const service = queue[index] as FixtureServiceName;
      const { gated, target } = inputs.get(service) ?? { gated: undefined, target: undefined };
      if (gated === undefined || target === undefined) throw new Error(`${service} was not prepared`);
      const incidentId = `bench-${process.pid}-${index}`;
      const started = performance.now();
      const reproduction = await sandbox.reproduce({ incidentId, gated, target });
      const reproduced = performance.now();
      if (!reproduction.reproduced) throw new Error(`${service} did not reproduce: ${reproduction.reason}`);
      const minimal = await minimizer.minimize({ incidentId, gated, target, reproduction });
      runs.push({ service, reproduceMs: reproduced - started, minimizeMs: performance.now() - reproduced, reproduced: reproduction.reproduced, testsRun: minimal.testsRun });
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { wallMs: performance.now() - started, runs };
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

async function main(): Promise<void> {
  const serviceArg = process.argv.find((arg) => arg.startsWith('--service='))?.split('=')[1] ?? 'leaderboard';
  if (!isFixtureServiceName(serviceArg)) throw new Error(`--service must be one of ${fixtureServiceNames.join(', ')}, got ${serviceArg}`);
  const counts = { cold: option('cold', 30), exec: option('exec', 100), resident: option('resident', 500) };
  const incidents = option('incidents', 6);

  await buildBaseImage();
  const scratch = await mkdtemp(join(tmpdir(), 'tracemend-bench-sandbox-'));
  // Checkouts and dependency installs persist between runs (keyed by commit and lockfile), as in a worker.
  const workspace = createWorkspace({ root: join(tmpdir(), 'tracemend-bench-sandbox-workspace'), logger });
  const key = { id: 'bench', secret: randomBytes(32) };
  const audit = createAuditLog({ file: join(scratch, 'audit.jsonl'), key, auditId: 'bench' });
  const inputs = new Map<FixtureServiceName, { gated: GatedEnvelope; target: RepoTarget }>();
  try {
    for (const service of fixtureServiceNames) {
      const repo = await loadFixtureRepo(service, join(scratch, service));
      const target = fixtureTarget(service, repo.dir, repo.sha);
      await workspace.prepare(target);
      inputs.set(service, { gated: await gatedFixture(service, audit, key), target });
    }
    const chosen = inputs.get(serviceArg);
    if (chosen === undefined) throw new Error(`${serviceArg} was not prepared`);
    const measured = await latencies(await workspace.prepare(chosen.target), chosen.gated, chosen.target, counts);
    const flow = await throughput(incidents, inputs, workspace);

    console.log(`\nSandbox latency per candidate (${serviceArg}, image ${image}, ${cpus().length} cores)\n`);
    table(
      ['mode', 'n', 'p50 ms', 'p95 ms', 'min ms', 'max ms', 'matching', 'target p50', 'meets'],
      measured.map((row) => {
        const p50 = percentile(row.samples, 0.5);
        return [
          row.name,
          String(row.samples.length),
          p50.toFixed(1),
          percentile(row.samples, 0.95).toFixed(1),
          Math.min(...row.samples).toFixed(1),
          Math.max(...row.samples).toFixed(1),
          Number.isNaN(row.matching) ? '-' : `${row.matching}/${row.samples.length}`,
          row.target === undefined ? '-' : `≤ ${row.target} ms`,
          row.target === undefined ? '-' : p50 <= row.target ? 'yes' : 'no',
        ];
      }),
    );

    const perMinute = flow.runs.length / (flow.wallMs / 60_000);
    console.log(`\nIncidents per minute, reproduce → minimize, ${CONCURRENCY} at a time on ${cpus().length} cores\n`);
    table(
      ['service', 'incidents', 'reproduce p50 ms', 'minimize p50 ms', 'ddmin candidates p50'],
      fixtureServiceNames.map((service) => {
        const runs = flow.runs.filter((run) => run.service === service);
        return [
          service,
          String(runs.length),
          runs.length ? percentile(runs.map((run) => run.reproduceMs), 0.5).toFixed(0) : '-',
          runs.length ? percentile(runs.map((run) => run.minimizeMs), 0.5).toFixed(0) : '-',
          runs.length ? String(percentile(runs.map((run) => run.testsRun), 0.5)) : '-',
        ];
      }),
    );
    console.log(`\n${flow.runs.length} incidents in ${(flow.wallMs / 1000).toFixed(1)} s: ${perMinute.toFixed(1)} incidents per minute`);
  } finally {
    await driver.reapOrphans({ olderThanMs: 0, labels: RUN_LABEL });
    await rm(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
