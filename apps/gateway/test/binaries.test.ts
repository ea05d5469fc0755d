// Real Alertmanager and a real OpenTelemetry Collector sending to the gateway on loopback. They are
// binaries, not npm packages, so CI does not have them: each test is skipped, saying why, when its
// binary is absent. Install them with `apt-get install prometheus-alertmanager` and the collector
// builder (see the README), or point TRACEMEND_ALERTMANAGER_BIN / TRACEMEND_OTELCOL_BIN at them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fixtureAlertPaths, runInstrumentedOrdersService } from '@tracemend/fixture-kit';
import { createLogger } from '@tracemend/telemetry';
import { eventually } from '@tracemend/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayOnLoopback, type GatewayOnLoopback } from './gateway-on-loopback';

const TOKEN = 'binaries_token_0123456789';

/** The first of the candidates found on PATH (or the explicit path), else undefined. */
function binary(explicit: string | undefined, ...names: string[]): string | undefined {
  for (const candidate of explicit ? [explicit] : names) {
    if (spawnSync(candidate, ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0) return candidate;
  }
  return undefined;
}

const alertmanagerBin = binary(process.env.TRACEMEND_ALERTMANAGER_BIN, 'prometheus-alertmanager', 'alertmanager');
const otelcolBin = binary(process.env.TRACEMEND_OTELCOL_BIN, 'otelcorecol', 'otelcol', 'otelcol-contrib');
if (!alertmanagerBin) process.stdout.write('skipping the Alertmanager test: no prometheus-alertmanager or alertmanager binary (apt-get install prometheus-alertmanager, or set TRACEMEND_ALERTMANAGER_BIN)\n');
if (!otelcolBin) process.stdout.write('skipping the Collector test: no otelcorecol, otelcol or otelcol-contrib binary (build one with the collector builder, or set TRACEMEND_OTELCOL_BIN)\n');

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

function start(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  child.once('exit', (code) => {
    if (code !== null && code !== 0) process.stderr.write(`${command} exited with ${code}: ${stderr}\n`);
  });
  children.push(child);
  return child;
}

async function ready(url: string): Promise<void> {
  await eventually(async () => ((await fetch(url).then((response) => response.ok).catch(() => false)) ? true : undefined), `${url} to answer`);
}

beforeAll(async () => {
  if (!alertmanagerBin && !otelcolBin) return;
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  stack = await startGatewayOnLoopback({ name: 'binaries', token: TOKEN, logger: createLogger({ name: 'gateway', level: 'info', destination }) });
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

describe.skipIf(!otelcolBin)('OpenTelemetry Collector', () => {
  it('forwards the SDK export through its OTLP receiver and otlphttp exporter to the gateway', async () => {
    const grpc = await freePort();
    const http = await freePort();
    const config = join(dir, 'collector.yaml');
    await writeFile(
      config,
      [
        'receivers:',
        '  otlp:',
        '    protocols:',
        `      grpc: { endpoint: "127.0.0.1:${grpc}" }`,
        `      http: { endpoint: "127.0.0.1:${http}" }`,
        'exporters:',
        '  otlphttp:',
        `    endpoint: ${stack.gateway.url}`,
        '    compression: gzip',
        '    headers:',
        `      Authorization: "Bearer ${TOKEN}"`,
        'service:',
        '  telemetry:',
        '    metrics: { level: none }',
        '  pipelines:',
        '    traces: { receivers: [otlp], exporters: [otlphttp] }',
        '    logs: { receivers: [otlp], exporters: [otlphttp] }',
        '',
      ].join('\n'),
    );
    start(otelcolBin!, [`--config=${config}`]);
    await eventually(async () => ((await fetch(`http://127.0.0.1:${http}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).then((r) => r.status < 500).catch(() => false)) ? true : undefined), 'the collector to listen');
    const before = logLines.length;
    await runInstrumentedOrdersService(
      [
        { signal: 'traces', encoding: 'protobuf' },
        { signal: 'logs', encoding: 'protobuf' },
      ],
      { env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${http}` } },
    );
    const forwarded = await eventually(
      () => Promise.resolve(logLines.slice(before).find((line) => line.msg === 'request' && line.route === '/v1/traces' && typeof line.incidentId === 'string')),
      'the collector to forward the failing trace',
      30_000,
    );
    expect(forwarded).toMatchObject({ status: 200, format: 'otlp-traces-protobuf' });
    stack.workflowIds.add(String(forwarded.workflowId));
  }, 90_000);
});
