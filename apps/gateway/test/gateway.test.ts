// The gateway over real HTTP on loopback, a real Temporal dev server and the real repairIncident
// workflow; the ingest activity blocks until the run ends, so every incident stays open.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Context } from '@temporalio/activity';
import { Client, Connection } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import { TASK_QUEUES, incidentWorkflowId, type IngestInput } from '@tracemend/contracts';
import { fixtureAlertPaths, fixtureServiceNames, type FixtureServiceName } from '@tracemend/fixture-kit';
import { buildAlertEnvelope, createEvidenceStore, readAlert, type EvidenceStore } from '@tracemend/ingest';
import { createLogger, createTemporalLogger } from '@tracemend/telemetry';
import { REPAIR_INCIDENT_WORKFLOW, searchAttributeKeys, statusQuery } from '@tracemend/workflows/client';
import { eventually } from '@tracemend/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {} from '@tracemend/testing/temporal-global-setup';
import { createGateway, type Gateway } from '../src/index';

const TOKEN = 'test-token-0123456789abcdef';
const MAX_BODY = 64 * 1024;
/** Alertmanager alerts wait this long for their trace here (minutes in production). */
const ALERT_HOLD_MS = 2_000;
const TRACE_IDS: Record<FixtureServiceName, string> = {
  'users-api': 'a61cd2d494c156db09fb9596e3ec0fa4',
  leaderboard: '7a26a508e4b1952034f2e201c53153ac',
  'checkout-worker': '8da3313b0c1349c3eb32f167a97f09e8',
};

let client: Client;
let clientConnection: Connection;
let workerConnection: NativeConnection;
let workers: Worker[];
let running: Promise<unknown>;
let gateway: Gateway;
let store: EvidenceStore;
let evidenceDir: string;
let releaseIngest: () => void;
const logLines: string[] = [];
const ingestCalls: IngestInput[] = [];
const workflowIds = new Set<string>();

beforeAll(async () => {
  // Activities cancelled at the end of the run make the SDK warn; only errors are worth showing here.
  const testLogger = createLogger({ name: 'gateway-test', level: 'error' });
  Runtime.install({ logger: createTemporalLogger(testLogger), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } } });
  const address = inject('temporalAddress');
  clientConnection = await Connection.connect({ address });
  client = new Client({ connection: clientConnection, namespace: 'default' });
  workerConnection = await NativeConnection.connect({ address });
  const released = new Promise<void>((resolve) => {
    releaseIngest = resolve;
  });
  const activities = {
    async ingest(input: IngestInput): Promise<never> {
      ingestCalls.push(input);
      await Promise.race([released, Context.current().cancelled]);
      throw ApplicationFailure.nonRetryable('the test run is over', 'STAGE_NOT_BUILT');
    },
  };
  workers = await Promise.all([
    Worker.create({
      connection: workerConnection,
      namespace: 'default',
      taskQueue: TASK_QUEUES.workflows,
      workflowsPath: createRequire(import.meta.url).resolve('@tracemend/workflows'),
    }),
    Worker.create({ connection: workerConnection, namespace: 'default', taskQueue: TASK_QUEUES.ingest, activities }),
  ]);
  running = Promise.all(workers.map((worker) => worker.run()));

  evidenceDir = await mkdtemp(join(tmpdir(), 'gateway-evidence-'));
  store = createEvidenceStore(evidenceDir);
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  gateway = createGateway({ store, client, namespace: 'default', token: TOKEN, maxBodyBytes: MAX_BODY, alertHoldMs: ALERT_HOLD_MS, logger: createLogger({ name: 'gateway', level: 'debug', destination }) });
  await gateway.listen(0);
});

afterAll(async () => {
  for (const workflowId of workflowIds) {
    await client.workflow
      .getHandle(workflowId)
      .terminate('gateway test finished')
      .catch(() => undefined);
  }
  releaseIngest?.();
  for (const worker of workers ?? []) worker.shutdown();
  await running;
  await gateway?.close();
  await workerConnection?.close();
  await clientConnection?.close();
  if (evidenceDir) await rm(evidenceDir, { recursive: true, force: true });
});

async function getJson(path: string): Promise<{ status: number; body: { events: { kind: string; incidentId?: string; alertId: string; reason?: string }[] } }> {
  const response = await fetch(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: response.status, body: (await response.json()) as { events: { kind: string; incidentId?: string; alertId: string; reason?: string }[] } };
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

async function post(body: string | Buffer, options: { token?: string | null; type?: string | null; query?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token !== null) headers.authorization = `Bearer ${options.token ?? TOKEN}`;
  if (options.type !== null) headers['content-type'] = options.type ?? 'application/json';
  const response = await fetch(`${gateway.url}/v1/alerts${options.query ?? ''}`, { method: 'POST', headers, body });
  const answer = { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: response.headers };
  const workflowId = answer.body.workflowId;
  if (typeof workflowId === 'string') workflowIds.add(workflowId);
  for (const incident of (answer.body.incidents as { workflowId: string }[] | undefined) ?? []) workflowIds.add(incident.workflowId);
  return answer;
}

async function fixture(service: FixtureServiceName, kind: 'traces' | 'logs'): Promise<string> {
  return readFile(fixtureAlertPaths(service)[kind], 'utf8');
}

async function storedAlerts(): Promise<number> {
  return (await readdir(join(evidenceDir, 'alerts')).catch(() => [])).filter((name) => name.endsWith('.body')).length;
}

async function workflowsWithId(workflowId: string): Promise<number> {
  let count = 0;
  for await (const _ of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) count += 1;
  return count;
}

async function occurrences(workflowId: string, expected: number): Promise<number> {
  return eventually(async () => {
    const status = await client.workflow.getHandle(workflowId).query(statusQuery);
    return status.occurrences === expected ? status.occurrences : undefined;
  }, `${workflowId} to count ${expected} occurrences`).catch(async () => (await client.workflow.getHandle(workflowId).query(statusQuery)).occurrences);
}

function sentryEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_id: '3b1f7c9e2d4a4e6f8a0b1c2d3e4f5a6b',
    timestamp: 1_795_176_030.5,
    platform: 'node',
    level: 'error',
    release: 'billing-api@0b6c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c',
    environment: 'production',
    transaction: 'POST /v1/invoices',
    exception: {
      values: [
        {
          type: 'RangeError',
          value: 'Invalid currency code: XBT',
          stacktrace: {
            frames: [
              { filename: 'node:internal/process/task_queues', function: 'process.processTicksAndRejections', lineno: 95, colno: 5, in_app: false },
              { filename: '/srv/app/src/routes.ts', abs_path: '/srv/app/src/routes.ts', function: 'createInvoice', lineno: 31, colno: 9, in_app: true },
              { filename: '/srv/app/src/money.ts', abs_path: '/srv/app/src/money.ts', function: 'formatAmount', lineno: 12, colno: 21, in_app: true },
            ],
          },
        },
      ],
    },
    request: {
      method: 'POST',
      url: 'http://billing.acme-shop.example/v1/invoices',
      headers: { 'content-type': 'application/json' },
      data: { customer: 'c_1', amount: 1299, currency: 'XBT', email: 'ines.moreau@example.com' },
    },
    tags: { 'service.name': 'billing-api' },
    contexts: { trace: { trace_id: '5e0c3f7a9b2d4c6e8f1a3b5c7d9e0f21', span_id: '1a2b3c4d5e6f7a8b' }, runtime: { name: 'node', version: 'v20.20.2' } },
    ...overrides,
  };
}

function alertmanagerWebhook(traceIds: (string | undefined)[], options: { status?: 'firing' | 'resolved'; startsAt?: string; endsAt?: string } = {}): string {
  const status = options.status ?? 'firing';
  return JSON.stringify({
    version: '4',
    groupKey: '{}:{alertname="HighErrorRate"}',
    receiver: 'tracemend',
    status,
    alerts: traceIds.map((traceId, index) => ({
      status,
      labels: { alertname: 'HighErrorRate', service: 'users-api', instance: `pod-${index}` },
      annotations: { summary: '5xx rate above 2%', ...(traceId ? { trace_id: traceId } : {}) },
      startsAt: options.startsAt ?? '2026-11-20T12:00:00Z',
      endsAt: options.endsAt ?? '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example/graph',
      fingerprint: `f00d${index}`,
    })),
    groupLabels: { alertname: 'HighErrorRate' },
    commonLabels: { alertname: 'HighErrorRate' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example',
  });
}

/** A raw request whose headers promise `declaredBytes` while only `sendBytes` are written. */
function rawPost(headers: Record<string, string>, write: (req: ReturnType<typeof request>) => void): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${gateway.url}/v1/alerts`);
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    write(req);
  });
}

describe('POST /v1/alerts with OTLP trace exports', () => {
  it('folds ten copies of the users-api alert into one workflow that counts ten occurrences', async () => {
    const body = await fixture('users-api', 'traces');
    const answers: Answer[] = [];
    for (let i = 0; i < 10; i++) answers.push(await post(body));
    expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(202));
    const [first, ...rest] = answers;
    const workflowId = first?.body.workflowId as string;
    expect(first?.body).toMatchObject({ status: 'started', format: 'otlp-traces-json', workflowId: incidentWorkflowId(first?.body.fingerprint as string) });
    expect(first?.body.incidentId).toBe(first?.body.fingerprint);
    expect(first?.body.alertId).toMatch(/^[0-9a-f]{64}$/);
    expect(rest.map((answer) => answer.body.status)).toEqual(Array(9).fill('attached'));
    expect(new Set(answers.map((answer) => answer.body.workflowId))).toEqual(new Set([workflowId]));

    expect(await occurrences(workflowId, 10)).toBe(10);
    expect(await eventually(async () => ((await workflowsWithId(workflowId)) > 0 ? workflowsWithId(workflowId) : undefined), 'the workflow to be listed')).toBe(1);

    const description = await client.workflow.getHandle(workflowId).describe();
    expect(description.status.name).toBe('RUNNING');
    expect(description.typedSearchAttributes.get(searchAttributeKeys.service)).toBe('users-api');
    expect(description.typedSearchAttributes.get(searchAttributeKeys.errorType)).toBe('TypeError');
    // What the Temporal UI shows as the incident's summary and details: identity, no alert values.
    expect(await description.staticSummary()).toBe(`TypeError in users-api · fingerprint ${(first?.body.fingerprint as string).slice(0, 12)}`);
    expect(await description.staticDetails()).toContain(`stored as \`${first?.body.alertId as string}\``);

    // The workflow got a reference: its history holds none of the alert's raw values.
    const history = JSON.stringify(await client.workflow.getHandle(workflowId).fetchHistory());
    for (const raw of ['mara.lindqvist@example.com', '+46701234567', 'sk_live_51NfT8qL2bX9vK3mQ7pR4sW6yZ0aC5dE8']) expect(history).not.toContain(raw);
    expect(body).toContain('mara.lindqvist@example.com');

    const ingested = await eventually(() => Promise.resolve(ingestCalls.find((call) => call.incidentId === first?.body.incidentId)), 'ingest to be called');
    expect(ingested.alert).toMatchObject({ alertId: first?.body.alertId, format: 'otlp-traces-json', serviceHint: 'users-api', sizeBytes: Buffer.byteLength(body) });
    expect((await store.getAlert(first?.body.alertId as string)).bytes.toString('utf8')).toBe(body);
  });

  it('gives the three fixture services three different running workflows', async () => {
    const ids = new Map<string, string>();
    for (const service of fixtureServiceNames) {
      const answer = await post(await fixture(service, 'traces'));
      expect(answer.status).toBe(202);
      ids.set(service, answer.body.workflowId as string);
    }
    expect(new Set(ids.values()).size).toBe(3);
    for (const [service, workflowId] of ids) {
      const description = await client.workflow.getHandle(workflowId).describe();
      expect(description.status.name).toBe('RUNNING');
      expect(description.typedSearchAttributes.get(searchAttributeKeys.service)).toBe(service);
    }
    expect(await occurrences(ids.get('leaderboard') ?? '', 1)).toBe(1);
  });

  it('keeps a trace export without an exception for error logs or alerts of it to join, starting no incident', async () => {
    const traces = JSON.parse(await fixture('users-api', 'traces')) as { resourceSpans: { scopeSpans: { spans: { traceId: string; events?: { name: string }[] }[] }[] }[] };
    const traceId = 'f'.repeat(32);
    for (const rs of traces.resourceSpans)
      for (const ss of rs.scopeSpans)
        for (const span of ss.spans) {
          span.events = (span.events ?? []).filter((event) => event.name !== 'exception');
          span.traceId = traceId;
        }
    const answer = await post(JSON.stringify(traces));
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ format: 'otlp-traces-json', status: 'stored', traceIds: [traceId], reason: expect.stringContaining('exception') as unknown });
    expect(answer.body.workflowId).toBeUndefined();
    expect((await store.alertsForTrace(traceId)).map((ref) => ref.alertId)).toEqual([answer.body.alertId]);
  });
});

describe('POST /v1/alerts with OTLP log exports', () => {
  it('stores the logs under their trace id and answers 202 without a workflow', async () => {
    // Running ones only: other test files on this server terminate theirs when they finish.
    const incidents = async () => (await client.workflow.count(`WorkflowType = '${REPAIR_INCIDENT_WORKFLOW}' AND ExecutionStatus = 'Running'`)).count;
    const before = await eventually(async () => ((await incidents()) === workflowIds.size ? workflowIds.size : undefined), 'visibility to list every incident');
    const answer = await post(await fixture('users-api', 'logs'));
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({
      alertId: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
      format: 'otlp-logs-json',
      traceIds: [TRACE_IDS['users-api']],
      status: 'stored',
      reason: 'a log export joins the failing trace it names',
    });
    const related = await store.alertsForTrace(TRACE_IDS['users-api']);
    expect(related.map((ref) => ref.format).sort()).toEqual(['otlp-logs-json', 'otlp-traces-json']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await incidents()).toBe(before);
    expect(ingestCalls.some((call) => call.alert.alertId === answer.body.alertId)).toBe(false);
  });
});

describe('POST /v1/alerts with traces and logs in one OTLP/JSON object', () => {
  it('stores both signals and reads the logs with the trace', async () => {
    const traces = JSON.parse(await fixture('leaderboard', 'traces')) as Record<string, unknown>;
    const logs = JSON.parse(await fixture('leaderboard', 'logs')) as { resourceLogs: unknown[] };
    const answer = await post(JSON.stringify({ ...traces, resourceLogs: logs.resourceLogs }));
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ format: 'otlp-traces-json', status: expect.stringMatching(/^(started|attached)$/) as unknown });
    const { ref, bytes } = await store.getAlert(String(answer.body.alertId));
    expect(JSON.parse(bytes.toString('utf8'))).toHaveProperty('resourceLogs');
    const envelope = await buildAlertEnvelope(store, ref, bytes);
    expect(envelope.identity.fingerprint).toBe(answer.body.fingerprint);
    expect(envelope.provenance.sources.filter((source) => source.alertId === ref.alertId).length).toBe(2);
    expect(envelope.logs.length).toBeGreaterThan(0);
  });
});

describe('POST /v1/alerts with Sentry events', () => {
  it('starts an incident for a new failure and attaches a repeat to it', async () => {
    const first = await post(JSON.stringify(sentryEvent()));
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ format: 'sentry-event', status: 'started' });
    const again = await post(JSON.stringify(sentryEvent({ event_id: '4c2e8d0f3e5b4f7a9b1c2d3e4f5a6b7c' })));
    expect(again.body).toMatchObject({ status: 'attached', workflowId: first.body.workflowId });
    const workflowId = first.body.workflowId as string;
    expect(await occurrences(workflowId, 2)).toBe(2);
    const description = await client.workflow.getHandle(workflowId).describe();
    expect(description.typedSearchAttributes.get(searchAttributeKeys.service)).toBe('billing-api');
    expect(description.typedSearchAttributes.get(searchAttributeKeys.errorType)).toBe('RangeError');
    const stored = await store.getAlert(first.body.alertId as string);
    expect(stored.ref).toMatchObject({ format: 'sentry-event', serviceHint: 'billing-api' });
  });

  it('attaches a Sentry report of the users-api crash to the incident its OTLP trace started', async () => {
    const usersApi = await post(await fixture('users-api', 'traces'));
    const event = sentryEvent({
      release: 'users-api@4f9cbcb0ae4ccc89df59b14ea6af829e231f18b3',
      tags: { 'service.name': 'users-api' },
      transaction: 'POST /v1/users',
      exception: {
        values: [
          {
            type: 'TypeError',
            value: "Cannot read properties of undefined (reading 'push')",
            stacktrace: {
              frames: [
                { abs_path: '/srv/app/src/app.ts', function: 'createUser', lineno: 56, colno: 18, in_app: true },
                { abs_path: '/srv/app/src/users.ts', function: 'buildUser', lineno: 74, colno: 18, in_app: true },
                { abs_path: '/srv/app/src/users.ts', function: 'normalizePreferences', lineno: 58, colno: 14, in_app: true },
              ],
            },
          },
        ],
      },
    });
    const answer = await post(JSON.stringify(event));
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ format: 'sentry-event', status: 'attached', workflowId: usersApi.body.workflowId, fingerprint: usersApi.body.fingerprint });
  });

  it('names the malformed path of a Sentry event with 422', async () => {
    const event = sentryEvent();
    (event.contexts as Record<string, unknown>).trace = { trace_id: 42 };
    const answer = await post(JSON.stringify(event));
    expect(answer.status).toBe(422);
    expect(answer.body.error).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('contexts.trace.trace_id') as unknown });
  });
});

describe('POST /v1/alerts with Alertmanager webhooks', () => {
  it('attaches an alert pointing at the stored users-api trace and holds one whose trace has not arrived', async () => {
    const usersApi = incidentWorkflowId((await post(await fixture('users-api', 'traces'))).body.incidentId as string);
    const before = (await client.workflow.getHandle(usersApi).query(statusQuery)).occurrences;
    const unknown = 'ffffffffffffffffffffffffffffffff';
    const answer = await post(alertmanagerWebhook([TRACE_IDS['users-api'], unknown]));
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({
      format: 'alertmanager',
      incidents: [{ alert: 0, traceId: TRACE_IDS['users-api'], workflowId: usersApi, status: 'attached' }],
      waiting: [{ alert: 1, traceId: unknown, waitingFor: expect.stringContaining(`trace ${unknown}`) as unknown }],
      unresolved: [],
    });
    expect(await occurrences(usersApi, before + 1)).toBe(before + 1);
    expect((await store.alertsForTrace(TRACE_IDS['users-api'])).map((ref) => ref.format)).toContain('alertmanager');
  });

  it('joins an alert that arrived before its trace when the trace arrives', async () => {
    const traceId = '1f2e3d4c5b6a79881f2e3d4c5b6a7988';
    const traces = (await fixture('users-api', 'traces')).replaceAll(TRACE_IDS['users-api'], traceId);
    const early = await post(alertmanagerWebhook([traceId]));
    expect(early.status).toBe(202);
    expect(early.body).toMatchObject({ incidents: [], waiting: [{ alert: 0, traceId, until: expect.any(String) as unknown }] });
    const trace = await post(traces);
    expect(trace.body).toMatchObject({ status: expect.stringMatching(/^(started|attached)$/) as unknown, joinedAlerts: 1 });
    const events = await getJson(`/v1/alerts/${String(early.body.alertId)}/events`);
    expect(events.body.events.map((event) => [event.kind, event.incidentId])).toEqual([
      ['waiting', undefined],
      ['joined', trace.body.incidentId],
    ]);
  });

  it('records an alert that waited past its hold time as timed out, with what it waited for', async () => {
    const traceId = '0123456789abcdef0123456789abcdef';
    const answer = await post(alertmanagerWebhook([traceId]));
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ incidents: [], waiting: [{ alert: 0, traceId }] });
    const timedOut = await eventually(async () => {
      const { body } = await getJson(`/v1/alerts/${String(answer.body.alertId)}/events`);
      return body.events.find((event) => event.kind === 'timed-out');
    }, 'the held alert to time out');
    expect(timedOut.reason).toMatch(new RegExp(`^timed out at .*: no failure for trace ${traceId} arrived$`));
    expect(await store.listPending()).toEqual([]);
  });

  it('records a resolved notification on the incident of its trace without counting an occurrence', async () => {
    const usersApi = incidentWorkflowId((await post(await fixture('users-api', 'traces'))).body.incidentId as string);
    const before = (await client.workflow.getHandle(usersApi).query(statusQuery)).occurrences;
    const answer = await post(alertmanagerWebhook([TRACE_IDS['users-api']], { status: 'resolved', endsAt: '2026-11-20T12:30:00Z' }));
    expect(answer.status).toBe(202);
    const incidentId = usersApi.replace(/^incident-/, '');
    expect(answer.body).toMatchObject({ incidents: [], resolved: [{ alert: 0, traceId: TRACE_IDS['users-api'], incidentId, reason: 'resolved at 2026-11-20T12:30:00Z' }] });
    const { body } = await getJson(`/v1/incidents/${incidentId}/events`);
    expect(body.events.filter((event) => event.kind === 'resolved' && event.alertId === answer.body.alertId)).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await client.workflow.getHandle(usersApi).query(statusQuery)).occurrences).toBe(before);
  });

  it('finds the failures of the service an alert without a trace id names, within its time window', async () => {
    const traces = await fixture('users-api', 'traces');
    const usersApi = incidentWorkflowId((await post(traces)).body.incidentId as string);
    const reading = await readAlert({ store, bytes: Buffer.from(traces), format: 'otlp-traces-json', source: { alertId: 'a'.repeat(64), receivedAt: new Date().toISOString() } });
    if (reading.kind !== 'failure') throw new Error('the users-api fixture describes a failure');
    const failedAt = Date.parse(reading.envelope.identity.lastSeen);
    const inWindow = await post(alertmanagerWebhook([undefined], { startsAt: new Date(failedAt + 60_000).toISOString() }));
    expect(inWindow.body).toMatchObject({ incidents: [{ alert: 0, service: 'users-api', workflowId: usersApi }], waiting: [] });
    const dayLater = await post(alertmanagerWebhook([undefined], { startsAt: new Date(failedAt + 86_400_000).toISOString() }));
    expect(dayLater.body).toMatchObject({ incidents: [], waiting: [{ alert: 0, service: 'users-api', window: { from: expect.any(String) as unknown }, waitingFor: expect.stringContaining('a failure of service users-api between') as unknown }] });
  });

  it('names the malformed path of a webhook with 422 INVALID_INPUT', async () => {
    const webhook = JSON.parse(alertmanagerWebhook([TRACE_IDS['users-api']])) as { alerts: Record<string, unknown>[] };
    if (webhook.alerts[0]) webhook.alerts[0].status = 'pending';
    const answer = await post(JSON.stringify(webhook));
    expect(answer.status).toBe(422);
    expect(answer.body.error).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('alerts[0].status') as unknown });
  });
});

describe('POST /v1/alerts refuses bad requests and keeps serving', () => {
  it('answers each bad request with its status and a message naming the problem, storing nothing', async () => {
    const traces = await fixture('users-api', 'traces');
    const before = await storedAlerts();
    const cases: { name: string; answer: () => Promise<{ status: number; body: unknown }>; status: number; code: string; mentions: string }[] = [
      { name: 'no token', answer: () => post(traces, { token: null }), status: 401, code: 'UNAUTHORIZED', mentions: 'bearer token' },
      { name: 'wrong token', answer: () => post(traces, { token: 'test-token-0123456789abcdeX' }), status: 401, code: 'UNAUTHORIZED', mentions: 'bearer token' },
      { name: 'text body', answer: () => post(traces, { type: 'text/plain' }), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', mentions: 'application/json' },
      { name: 'no content type', answer: () => post(traces, { type: null }), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', mentions: 'Content-Type' },
      { name: 'OTLP protobuf without its export named', answer: () => post(Buffer.from([0x0a, 0x02, 0x08, 0x01]), { type: 'application/x-protobuf' }), status: 400, code: 'INVALID_QUERY', mentions: '?format=otlp-traces-protobuf' },
      { name: 'too large', answer: () => post(`{"resourceSpans":[],"pad":"${'x'.repeat(MAX_BODY)}"}`), status: 413, code: 'PAYLOAD_TOO_LARGE', mentions: `${MAX_BODY} bytes` },
      { name: 'invalid JSON', answer: () => post('{"resourceSpans": [}'), status: 400, code: 'INVALID_JSON', mentions: 'not valid JSON: ' },
      { name: 'empty body', answer: () => post(''), status: 400, code: 'INVALID_JSON', mentions: 'Unexpected end of JSON input' },
      { name: 'unknown shape', answer: () => post('{"hello": "world"}'), status: 422, code: 'UNSUPPORTED_ALERT_FORMAT', mentions: 'alertmanager' },
      { name: 'unknown ?format', answer: () => post(traces, { query: '?format=zipkin' }), status: 400, code: 'INVALID_QUERY', mentions: 'otlp-traces-json' },
      { name: '?format not matching the body', answer: () => post(traces, { query: '?format=otlp-logs-json' }), status: 422, code: 'INVALID_INPUT', mentions: 'resourceLogs' },
    ];
    for (const item of cases) {
      const { status, body } = await item.answer();
      expect({ name: item.name, status }).toEqual({ name: item.name, status: item.status });
      const error = (body as { error: { code: string; message: string } }).error;
      expect({ name: item.name, code: error.code }).toEqual({ name: item.name, code: item.code });
      expect(error.message, item.name).toContain(item.mentions);
    }
    expect(await storedAlerts()).toBe(before);
    expect((await post(traces)).status).toBe(202);
  });

  it('answers 413 from the declared length without waiting for the body', async () => {
    const answer = await rawPost({ 'content-length': String(10 * 1024 * 1024 * 1024) }, (req) => {
      req.write('{"resourceSpans": [');
    });
    expect(answer.status).toBe(413);
    expect(answer.body).toContain('PAYLOAD_TOO_LARGE');
    const response = await fetch(`${gateway.url}/healthz`);
    expect(response.status).toBe(200);
  });

  it('answers 413 to a chunked body once it passes the limit', async () => {
    const chunk = 'x'.repeat(16 * 1024);
    let sent = 0;
    const answer = await rawPost({ 'transfer-encoding': 'chunked' }, (req) => {
      req.on('error', () => undefined);
      const pump = () => {
        while (sent < MAX_BODY * 4) {
          sent += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE', message: `the body is more than ${MAX_BODY} bytes; the limit is ${MAX_BODY} bytes` } });
  });

  it('answers 404 and 405 with JSON errors', async () => {
    const missing = await fetch(`${gateway.url}/v2/alerts`, { method: 'POST' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const wrongMethod = await fetch(`${gateway.url}/v1/alerts`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });
});

describe('GET /healthz', () => {
  it('reports Temporal as reachable', async () => {
    const response = await fetch(`${gateway.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', temporal: { reachable: true, namespace: 'default' } });
  });
});

describe('the gateway log', () => {
  it('holds ids, formats and sizes but no alert values or tokens', () => {
    const text = logLines.join('');
    expect(text).toContain('"format":"otlp-traces-json"');
    expect(text).toContain('"sizeBytes":');
    for (const raw of ['mara.lindqvist', 'ines.moreau', 'sk_live_', TOKEN, 'Bearer', '"resourceSpans"']) expect(text).not.toContain(raw);
  });
});
