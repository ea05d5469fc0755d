// Lines per second through the worker's logger with and without the egress guard on every line.
import { createLogLineGuard, createRawValueRegistry, rawValueHasher, type RawValueRegistry } from '@tracemend/privacy-gate';
import { BLOCKED_LINE_MESSAGE, bindIncidentContext, createLogger, type LineGuard, type Logger } from '@tracemend/telemetry';
import { seededRandom } from '@tracemend/privacy-gate/testing/corpus';

interface LogCall {
  fields: Record<string, unknown>;
  msg: string;
}

const STAGES = ['ingest', 'gate', 'triage', 'reproduce', 'minimize', 'localize', 'repair', 'verify', 'pr'];

/** Lines shaped like the worker's own: stage progress, counts, ids, hashes, paths and durations. */
function workerLines(count: number, leakEvery: number, seed: number): LogCall[] {
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[int(16)]).join('');
  const shapes: (() => LogCall)[] = [
    () => ({ fields: { stage: STAGES[int(STAGES.length)], durationMs: int(90_000), attempt: 1 + int(3) }, msg: 'stage finished' }),
    () => ({ fields: { contract: 'users-api@1', decisions: int(60), droppedUnknown: int(20), detectorHits: int(5), audit: int(1e4) }, msg: 'envelope gated' }),
    () => ({ fields: { containerId: hex(12), image: 'tracemend/sandbox-node:20.20.2', exitCode: int(2), ms: int(5000) }, msg: 'sandbox run finished' }),
    () => ({ fields: { candidate: `cand-${int(40)}`, file: `src/routes/users.ts`, line: int(400), score: random().toFixed(3) }, msg: 'verifying candidate' }),
    () => ({ fields: { traceId: hex(32), spanId: hex(16), fingerprint: hex(32), sha: hex(40) }, msg: 'reproduction matched the recorded signature' }),
    () => ({ fields: { workflowId: `incident-${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`, runs: int(200), cached: int(100) }, msg: 'ddmin round complete' }),
    () => ({ fields: { url: `http://127.0.0.1:${3000 + int(1000)}/repos/acme/users-api/pulls`, status: 201 }, msg: 'pull request opened' }),
  ];
  const leaks: (() => LogCall)[] = [
    () => ({ fields: { reply: `sent to jonas.berger${int(100)}@posteo.de` }, msg: 'downstream answered' }),
    () => ({ fields: { stage: 'repair' }, msg: `provider key sk_live_${hex(24)}` }),
    () => ({ fields: { note: 'customer Mara Lindqvist' }, msg: 'replay input' }),
  ];
  return Array.from({ length: count }, (_, i) => (leakEvery > 0 && i % leakEvery === leakEvery - 1 ? leaks[int(leaks.length)] : shapes[int(shapes.length)])!());
}

/** A destination that takes every line and keeps none (the bench measures the logger, not a disk); it counts replaced lines. */
function sink(): { write(line: string): void; bytes: number; blocked: number } {
  return {
    bytes: 0,
    blocked: 0,
    write(line: string) {
      this.bytes += line.length;
      if (line.includes(BLOCKED_LINE_MESSAGE)) this.blocked++;
    },
  };
}

function logger(guard: LineGuard | undefined, destination: ReturnType<typeof sink>): Logger {
  const base = createLogger({ name: 'worker', level: 'info', destination, ...(guard ? { lineGuard: guard } : {}) });
  return bindIncidentContext(base, { incidentId: 'inc-bench', workflowId: 'incident-bench', stage: 'verify' });
}

/** CPU seconds (user + system) spent writing `lines` `rounds` times, after one warm-up pass. */
function measure(log: Logger, lines: LogCall[], rounds: number): number {
  for (const line of lines) log.info(line.fields, line.msg);
  const started = process.cpuUsage();
  for (let round = 0; round < rounds; round++) for (const line of lines) log.info(line.fields, line.msg);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1e6;
}

/** A fixed bench key: the hashes are keyed as the worker's are. */
const hashRawValue = rawValueHasher({ id: 'bench', secret: 'bench-only-token-key-0123456789abcdef' });

function registryWith(hashes: number): RawValueRegistry {
  const registry = createRawValueRegistry({ hashOf: hashRawValue });
  const perIncident = 200;
  for (let incident = 0; incident * perIncident < hashes; incident++) {
    registry.add(
      `audit-${incident}`,
      Array.from({ length: Math.min(perIncident, hashes - incident * perIncident) }, (_, i) => hashRawValue(`raw value ${incident}-${i}`)),
    );
  }
  registry.add('audit-bench', [hashRawValue('Mara Lindqvist')]);
  return registry;
}

const count = 20_000;
const rounds = 5;
const mixes: [string, number][] = [
  ['clean lines', 0],
  ['1 in 100 lines leaks', 100],
];
const setups: [string, () => LineGuard | undefined][] = [
  ['no guard', () => undefined],
  ['guard, detectors only', () => createLogLineGuard()],
  ['guard, 1 incident (200 hashes)', () => createLogLineGuard({ knownRawValueHashes: registryWith(200) })],
  ['guard, 100 incidents (20,000 hashes)', () => createLogLineGuard({ knownRawValueHashes: registryWith(20_000) })],
];

const rows: string[][] = [];
for (const [mixName, leakEvery] of mixes) {
  const lines = workerLines(count, leakEvery, 20261204);
  let baseline = 0;
  for (const [setupName, makeGuard] of setups) {
    const destination = sink();
    const seconds = measure(logger(makeGuard(), destination), lines, rounds);
    const perSecond = (count * rounds) / seconds;
    if (setupName === 'no guard') baseline = perSecond;
    const written = count * (rounds + 1);
    rows.push([
      mixName,
      setupName,
      Math.round(perSecond).toLocaleString('en-US'),
      (1e6 / perSecond).toFixed(1),
      `${((100 * perSecond) / baseline).toFixed(0)}%`,
      `${(destination.blocked / (rounds + 1)).toFixed(0)} of ${count.toLocaleString('en-US')}`,
      (destination.bytes / written).toFixed(0),
    ]);
  }
}

const header = ['lines', 'logger', 'lines/s (one core)', 'µs/line', 'vs no guard', 'lines blocked', 'bytes/line'];
const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => (row[i] ?? '').length)));
const format = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
console.log(`${count.toLocaleString('en-US')} worker-shaped lines, ${rounds} passes each after a warm-up; CPU time of this process`);
console.log(format(header));
console.log(format(widths.map((width) => '-'.repeat(width))));
for (const row of rows) console.log(format(row));
