// Real Alertmanager and a real OpenTelemetry Collector sending to the gateway on loopback. They are
// programs, not npm packages, so CI does not run them. The Alertmanager test runs when its binary is
// installed (`apt-get install prometheus-alertmanager`, or TRACEMEND_ALERTMANAGER_BIN) and is skipped,
// saying why, when it is not. The Collector tests build test/collector with Go, which takes minutes of
// CPU the first time, so they run only when asked: `pnpm --filter @tracemend/gateway compat` (the
// switch TRACEMEND_COMPAT_COLLECTOR=1), or with TRACEMEND_OTELCOL_BIN naming a built collector.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ORDERS_APP_ROOT, captureOrdersFailure, fixtureAlertPaths, runInstrumentedOrdersService } from '@tracemend/fixture-kit';
import { buildEnvelope, isTraceExport, parseAlert, type OtlpTraces } from '@tracemend/ingest';
import { createLogger } from '@tracemend/telemetry';
import { eventually } from '@tracemend/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayOnLoopback, type GatewayOnLoopback } from './gateway-on-loopback';
import { buildCollector } from './otel-collector';

const TOKEN = 'binaries_token_0123456789';

/** The first of the candidates found on PATH (or the explicit path), else undefined. */
function binary(explicit: string | undefined, ...names: string[]): string | undefined {
  for (const candidate of explicit ? [explicit] : names) {
    if (spawnSync(candidate, ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0) return candidate;
  }
  return undefined;
}

const alertmanagerBin = binary(process.env.TRACEMEND_ALERTMANAGER_BIN, 'prometheus-alertmanager', 'alertmanager');
const otelcolWanted = process.env.TRACEMEND_COMPAT_COLLECTOR === '1' || Boolean(process.env.TRACEMEND_OTELCOL_BIN);
if (!alertmanagerBin) process.stdout.write('skipping the Alertmanager test: no prometheus-alertmanager or alertmanager binary (apt-get install prometheus-alertmanager, or set TRACEMEND_ALERTMANAGER_BIN)\n');
if (!otelcolWanted) {
  process.stdout.write(
    'skipping the Collector tests: they build an OpenTelemetry Collector with Go (minutes of CPU the first time); run `pnpm --filter @tracemend/gateway compat` (sets TRACEMEND_COMPAT_COLLECTOR=1), or set TRACEMEND_OTELCOL_BIN to a collector with the otlp receiver, batch processor and otlphttp exporter\n',
  );
}

let stack: GatewayOnLoopback;
let dir: string;
const children: ChildProcess[] = [];
const logLines: Record<string, unknown>[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A started program and the end of what it wrote to stderr. */
interface Started {
  child: ChildProcess;
  stderr(): string;
}

function start(command: string, args: string[]): Started {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  child.once('exit', (code) => {
    if (code !== null && code !== 0) process.stderr.write(`${command} exited with ${code}: ${stderr}\n`);
  });
  children.push(child);
  return { child, stderr: () => stderr };
}

async function stop({ child }: Started): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function ready(url: string): Promise<void> {
  await eventually(async () => ((await fetch(url).then((response) => response.ok).catch(() => false)) ? true : undefined), `${url} to answer`);
}

beforeAll(async () => {
  if (!alertmanagerBin && !otelcolWanted) return;
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  stack = await startGatewayOnLoopback({ name: 'binaries', token: TOKEN, appRoots: [ORDERS_APP_ROOT], logger: createLogger({ name: 'gateway', level: 'info', destination }) });
  dir = await mkdtemp(join(tmpdir(), 'gateway-binaries-'));
});

afterAll(async () => {
  for (const child of children) child.kill('SIGTERM');
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!alertmanagerBin)('prometheus Alertmanager', () => {
  it('delivers a firing and then a resolved notification that the gateway records on the incident', async () => {
    const traces = await readFile(fixtureAlertPaths('users-api').traces);
    const trace = await fetch(`${stack.gateway.url}/v1/alerts`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: traces });
    const incident = (await trace.json()) as { incidentId: string; workflowId: string };
    stack.workflowIds.add(incident.workflowId);
    const traceId = (JSON.parse(traces.toString('utf8')) as { resourceSpans: { scopeSpans: { spans: { traceId: string }[] }[] }[] }).resourceSpans[0]?.scopeSpans[0]?.spans[0]?.traceId ?? '';

    const port = await freePort();
    const config = join(dir, 'alertmanager.yml');
    await writeFile(
      config,
      [
        'route:',
        '  receiver: tracemend',
        '  group_by: [alertname]',
        '  group_wait: 1s',
        '  group_interval: 1s',
        '  repeat_interval: 1h',
        'receivers:',
        '  - name: tracemend',
        '    webhook_configs:',
        `      - url: ${stack.gateway.url}/v1/alerts`,
        '        send_resolved: true',
        '        http_config:',
        '          authorization:',
        '            type: Bearer',
        `            credentials: ${TOKEN}`,
        '',
      ].join('\n'),
    );
    // No cluster listener: nothing but loopback traffic.
    start(alertmanagerBin!, [`--config.file=${config}`, `--storage.path=${join(dir, 'am-data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn']);
    const api = `http://127.0.0.1:${port}`;
    await ready(`${api}/-/ready`);
    const alert = (endsAt?: string) => [
      { labels: { alertname: 'UsersApiErrors', service: 'users-api' }, annotations: { trace_id: traceId }, startsAt: new Date(Date.now() - 60_000).toISOString(), ...(endsAt ? { endsAt } : {}) },
    ];
    const send = async (body: unknown) => expect((await fetch(`${api}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).status).toBe(200);

    await send(alert());
    const events = async () => (await stack.store.alertEvents({ incidentId: incident.incidentId })).map((event) => event.kind);
    await eventually(async () => ((await events()).includes('attached') ? true : undefined), 'the firing notification to attach', 30_000);
    await send(alert(new Date().toISOString()));
    await eventually(async () => ((await events()).includes('resolved') ? true : undefined), 'the resolved notification to be recorded', 30_000);
    const webhooks = logLines.filter((line) => line.msg === 'request' && line.format === 'alertmanager');
    expect(webhooks.every((line) => line.status === 202)).toBe(true);
  }, 90_000);
});


/** The collector to run: TRACEMEND_OTELCOL_BIN when set, else ours, built (or taken from the cache). */
async function collectorBinary(): Promise<string> {
  const explicit = process.env.TRACEMEND_OTELCOL_BIN;
  if (explicit) {
    if (!binary(explicit)) throw new Error(`TRACEMEND_OTELCOL_BIN=${explicit} does not run \`--version\`; point it at an OpenTelemetry Collector binary, or unset it to build test/collector`);
    return explicit;
  }
  const collector = await buildCollector();
  process.stdout.write(collector.built ? `built the OpenTelemetry Collector in ${(collector.buildMs / 1000).toFixed(1)} s: ${collector.path}\n` : `using the cached OpenTelemetry Collector ${collector.path}\n`);
  return collector.path;
}

describe.skipIf(!otelcolWanted)('OpenTelemetry Collector: otlp receiver, batch processor, otlphttp exporter', () => {
  let collector: string;
  let expectedFingerprint: string;

  beforeAll(async () => {
    collector = await collectorBinary();
    // What the SDK's direct export of the same failure comes to: forwarding through the Collector must not change it.
    const direct = await captureOrdersFailure();
    const traces = JSON.parse(direct.json.traces.toString('utf8')) as OtlpTraces;
    expectedFingerprint = buildEnvelope({ traces: { source: { alertId: 'd'.repeat(64), format: 'otlp-traces-json', receivedAt: new Date().toISOString() }, body: traces }, appRoots: [ORDERS_APP_ROOT] }).identity.fingerprint;
  }, 45 * 60_000);

  it.each([
    { encoding: 'proto', format: 'protobuf' },
    { encoding: 'json', format: 'json' },
  ] as const)('forwards the SDK trace and logs with `encoding: $encoding` and gzip: the trace starts the incident, the logs are stored with it', async ({ encoding, format }) => {
    const port = await freePort();
    const config = join(dir, `collector-${encoding}.yaml`);
    // `otlp_http` is the otlphttp exporter's current name; `otlphttp` is kept as its alias.
    await writeFile(
      config,
      [
        'receivers:',
        '  otlp:',
        '    protocols:',
        `      http: { endpoint: "127.0.0.1:${port}" }`,
        'processors:',
        '  batch: { timeout: 200ms }',
        'exporters:',
        '  otlp_http:',
        `    endpoint: ${stack.gateway.url}`,
        `    encoding: ${encoding}`,
        '    compression: gzip',
        '    headers:',
        `      Authorization: "Bearer ${TOKEN}"`,
        'service:',
        '  telemetry:',
        '    metrics: { level: none }',
        '  pipelines:',
        '    traces: { receivers: [otlp], processors: [batch], exporters: [otlp_http] }',
        '    logs: { receivers: [otlp], processors: [batch], exporters: [otlp_http] }',
        '',
      ].join('\n'),
    );
    const running = start(collector, [`--config=${config}`]);
    const endpoint = `http://127.0.0.1:${port}`;
    // A GET is answered 405 by a listening receiver and sends nothing down the pipeline.
    await eventually(async () => ((await fetch(`${endpoint}/v1/traces`).then(() => true).catch(() => false)) ? true : undefined), `the collector to listen (${running.stderr()})`, 60_000);

    const before = logLines.length;
    await runInstrumentedOrdersService(
      [
        { signal: 'traces', encoding: 'protobuf' },
        { signal: 'logs', encoding: 'protobuf' },
      ],
      { env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint } },
    );
    const sent = () => logLines.slice(before).filter((line) => line.msg === 'request' && String(line.route).startsWith('/v1/'));
    const forwarded = await eventually(
      () => {
        const traces = sent().find((line) => line.route === '/v1/traces' && typeof line.incidentId === 'string');
        const logs = sent().find((line) => line.route === '/v1/logs' && typeof line.alertId === 'string');
        return Promise.resolve(traces && logs ? { traces, logs } : undefined);
      },
      'the collector to forward the trace and the logs',
      30_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; the gateway saw ${JSON.stringify(sent())}; the collector wrote: ${running.stderr()}`, { cause: error });
    });
    const { traces, logs } = forwarded;
    stack.workflowIds.add(String(traces.workflowId));
    await stop(running);

    expect(traces).toMatchObject({ status: 200, format: `otlp-traces-${format}`, incidentId: expectedFingerprint, attach: expect.stringMatching(/^(started|attached)$/) as unknown });
    expect(logs).toMatchObject({ status: 200, format: `otlp-logs-${format}` });
    // gzip on the wire: the inflated size is what was read.
    expect(Number(traces.receivedBytes)).toBeLessThan(Number(traces.sizeBytes));
    expect(sent().map((line) => line.status)).toEqual(sent().map(() => 200));

    // The stored exports read as the ingest stage reads them: the logs are kept under the failing trace and join its envelope.
    const read = async (alertId: unknown) => {
      const { ref, bytes } = await stack.store.getAlert(String(alertId));
      return { source: { alertId: ref.alertId, format: ref.format, receivedAt: ref.receivedAt }, alert: parseAlert(bytes, ref.format) };
    };
    const trace = await read(traces.alertId);
    const log = await read(logs.alertId);
    if (!isTraceExport(trace.alert) || (log.alert.format !== 'otlp-logs-json' && log.alert.format !== 'otlp-logs-protobuf')) {
      throw new Error(`expected a stored trace and log export, got ${trace.alert.format} and ${log.alert.format}`);
    }
    const envelope = buildEnvelope({ traces: { source: trace.source, body: trace.alert.body }, logs: [{ source: log.source, body: log.alert.body }], appRoots: [ORDERS_APP_ROOT] });
    expect(envelope.identity.fingerprint).toBe(expectedFingerprint);
    const traceId = envelope.identity.traceId ?? '';
    expect((await stack.store.alertsForTrace(traceId)).map((ref) => ref.alertId)).toEqual(expect.arrayContaining([traces.alertId, logs.alertId]));
    expect(envelope.logs).toContainEqual(expect.objectContaining({ severity: 'error', traceId, body: expect.stringContaining('placing the order failed') as unknown }));
  }, 180_000);
});
