// One intake path: the same alert gets the same verdict (and the same failure) through the gateway's
// POST, the ingest activity over what the gateway stored, `tracemend ingest` and `tracemend gate
// --dry-run`. Each test is one place where these callers used to read alerts differently.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FailureEnvelope } from '@tracemend/contracts';
import { SENTRY_CAPTURE_TRACE, captureOrdersSentryEnvelope, fixtureAlertPaths, fixtureCatalogYaml } from '@tracemend/fixture-kit';
import { createGateway, type Gateway } from '@tracemend/gateway';
import { createEvidenceStore, createIngestActivities, sentryEventOfEnvelope, type EvidenceStore } from '@tracemend/ingest';
import { recordLoggedFailure } from '@tracemend/ingest/testing/log-lines';
import { createLogger } from '@tracemend/telemetry';
import type {} from '@tracemend/testing/temporal-global-setup';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { envelopeForDryRun } from '../src/gate-dry-run';
import type { CliIo } from '../src/io';
import { runStage } from '../src/stage';

const TOKEN = 'intake-agreement-token';
const logger = createLogger({ name: 'intake-agreement', level: 'silent' });
let dir: string;
let connection: Connection;
let client: Client;
let gateway: Gateway;
let store: EvidenceStore;
let catalog: string;
const workflowIds = new Set<string>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-intake-agreement-'));
  catalog = join(dir, 'tracemend.config.yaml');
  await writeFile(catalog, fixtureCatalogYaml({ 'users-api': '/absent/users-api.git', leaderboard: '/absent/leaderboard.git', 'checkout-worker': '/absent/checkout-worker.git' }));
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: 'default' });
  store = createEvidenceStore(join(dir, 'gateway-evidence'));
  gateway = createGateway({ store, client, namespace: 'default', token: TOKEN, logger });
  await gateway.listen(0, '127.0.0.1');
});

afterAll(async () => {
  for (const workflowId of workflowIds) await client.workflow.getHandle(workflowId).terminate('intake agreement test finished').catch(() => undefined);
  await gateway?.close();
  await connection?.close();
  await rm(dir, { recursive: true, force: true });
});

type Answer = Record<string, unknown> & { error?: { code?: string; message?: string } };

/** The gateway's answer to one alert on /v1/alerts. */
async function post(body: string | Uint8Array, type: string): Promise<{ status: number; body: Answer }> {
  const response = await fetch(`${gateway.url}/v1/alerts`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': type }, body, signal: AbortSignal.timeout(20_000) });
  const answer = (await response.json()) as Answer;
  if (typeof answer.workflowId === 'string') workflowIds.add(answer.workflowId);
  return { status: response.status, body: answer };
}

/** The envelope the ingest activity builds from an alert the gateway stored. */
async function activity(alertId: string): Promise<FailureEnvelope> {
  const { ref } = await store.getAlert(alertId);
  const built = await createIngestActivities({ store, logger }).ingest({ incidentId: 'agreement', alert: ref });
  return store.getEnvelope(built.envelopeId);
}

/** `tracemend ingest <file>` under a state folder of its own (`state`), as an operator runs it. */
async function cliIngest(state: string, text: string): Promise<FailureEnvelope> {
  const file = join(dir, `${state}-${Math.random().toString(16).slice(2)}.alert`);
  await writeFile(file, text);
  const stdout: string[] = [];
  const io: CliIo = { out: (line) => stdout.push(line), err: () => undefined };
  const code = await runStage('ingest', [file], io, { TRACEMEND_STATE_DIR: join(dir, state), TRACEMEND_CONFIG: catalog });
  expect(code).toBe(0);
  return JSON.parse(stdout.join('')) as FailureEnvelope;
}

/** What identifies the failure, compared across callers. */
const failureOf = (envelope: FailureEnvelope) => ({
  fingerprint: envelope.identity.fingerprint,
  service: envelope.identity.service,
  traceId: envelope.identity.traceId,
  spanId: envelope.identity.spanId,
  errorType: envelope.symptom.errorType,
});

describe('one intake path: the gateway, the ingest activity and the CLI agree', () => {
  it('reads JSON log lines of a failure whose trace never arrived (the CLI refused them as not JSON)', async () => {
    const failure = await recordLoggedFailure({ recordException: true });
    const lines = failure.lines.pino;
    const answer = await post(lines, 'application/x-ndjson');
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    expect(answer.body).toMatchObject({ format: 'log-lines', status: 'started' });

    const fromActivity = await activity(String(answer.body.alertId));
    expect(fromActivity.identity.fingerprint).toBe(answer.body.fingerprint);
    expect(failureOf(fromActivity)).toMatchObject({ traceId: failure.traceId, spanId: failure.failingSpanId, errorType: 'TypeError' });
    expect(failureOf(await cliIngest('lines-alone', lines))).toEqual(failureOf(fromActivity));
    expect(failureOf(await envelopeForDryRun(lines))).toEqual(failureOf(fromActivity));
  });

  it('reads a Sentry envelope as the SDK sends it (the CLI refused it as not JSON)', async () => {
    const { envelope } = await captureOrdersSentryEnvelope();
    const text = Buffer.from(envelope).toString('utf8');
    const answer = await post(envelope, 'application/x-sentry-envelope');
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    expect(answer.body).toMatchObject({ format: 'sentry-envelope', status: expect.stringMatching(/^(started|attached)$/) as unknown });

    const fromActivity = await activity(String(answer.body.alertId));
    expect(fromActivity.identity.fingerprint).toBe(answer.body.fingerprint);
    expect(failureOf(await cliIngest('sentry-envelope', text))).toEqual(failureOf(fromActivity));
    expect(failureOf(await envelopeForDryRun(text))).toEqual(failureOf(fromActivity));
  });

  it('takes a trace without an exception event as a failure once error lines of it are stored, everywhere', async () => {
    const failure = await recordLoggedFailure({ recordException: false });
    const trace = JSON.stringify(failure.traces);
    const lines = failure.lines.bunyan;
    expect((await post(lines, 'application/x-ndjson')).status).toBe(202);
    const answer = await post(trace, 'application/json');
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    expect(answer.body).toMatchObject({ format: 'otlp-traces-json', status: expect.stringMatching(/^(started|attached)$/) as unknown });

    const fromActivity = await activity(String(answer.body.alertId));
    expect(fromActivity.identity).toMatchObject({ fingerprint: answer.body.fingerprint, traceId: failure.traceId, spanId: failure.failingSpanId });
    // The CLI stores the lines first, as the gateway did, and the trace joins them.
    await cliIngest('joined', lines);
    expect(failureOf(await cliIngest('joined', trace))).toEqual(failureOf(fromActivity));
  });

  it('keeps the log records written beside the spans in one OTLP/JSON object (the dry run dropped them)', async () => {
    const paths = fixtureAlertPaths('checkout-worker');
    const traces = JSON.parse(await readFile(paths.traces, 'utf8')) as Record<string, unknown>;
    const logs = JSON.parse(await readFile(paths.logs, 'utf8')) as Record<string, unknown>;
    const combined = JSON.stringify({ ...traces, resourceLogs: logs.resourceLogs });
    const answer = await post(combined, 'application/json');
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);

    const fromActivity = await activity(String(answer.body.alertId));
    expect(fromActivity.identity.fingerprint).toBe(answer.body.fingerprint);
    expect(fromActivity.logs.length).toBeGreaterThan(0);
    const fromCli = await cliIngest('combined', combined);
    const dryRun = await envelopeForDryRun(combined);
    expect(failureOf(fromCli)).toEqual(failureOf(fromActivity));
    expect(fromCli.logs).toEqual(fromActivity.logs);
    expect(failureOf(dryRun)).toEqual(failureOf(fromActivity));
    expect(dryRun.logs).toEqual(fromActivity.logs);
  });

  it('stores a Sentry event under its trace id, so later evidence of the trace finds it (the CLI stored none)', async () => {
    const event = sentryEventOfEnvelope((await captureOrdersSentryEnvelope()).envelope) as Record<string, unknown>;
    const text = JSON.stringify({ ...event, event_id: 'e'.repeat(32) });
    const answer = await post(text, 'application/json');
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    expect(answer.body.format).toBe('sentry-event');
    expect((await store.alertsForTrace(SENTRY_CAPTURE_TRACE.traceId)).map((ref) => ref.alertId)).toContain(answer.body.alertId);

    const fromCli = await cliIngest('sentry-event', text);
    expect(fromCli.identity.fingerprint).toBe(answer.body.fingerprint);
    const cliStore = createEvidenceStore(join(dir, 'sentry-event', 'evidence'));
    expect((await cliStore.alertsForTrace(SENTRY_CAPTURE_TRACE.traceId)).map((ref) => ref.alertId)).toContain(answer.body.alertId);
  });

  it('names JSON of no alert shape and a webhook for what they are (the CLI read both as Sentry events)', async () => {
    const notAlert = JSON.stringify({ service: 'leaderboard', message: 'it broke' });
    const answer = await post(notAlert, 'application/json');
    expect(answer.status).toBe(422);
    expect(answer.body.error?.code).toBe('UNSUPPORTED_ALERT_FORMAT');
    await expect(cliIngest('not-an-alert', notAlert)).rejects.toMatchObject({ code: 'UNSUPPORTED_ALERT_FORMAT', message: expect.stringContaining('resourceSpans') as unknown });
    await expect(envelopeForDryRun(notAlert)).rejects.toMatchObject({ code: 'UNSUPPORTED_ALERT_FORMAT' });

    const webhook = JSON.stringify({
      version: '4',
      status: 'firing',
      receiver: 'tracemend',
      alerts: [{ status: 'firing', labels: { alertname: 'HighErrorRate', service: 'leaderboard' }, annotations: {}, startsAt: new Date().toISOString() }],
    });
    const hook = await post(webhook, 'application/json');
    expect(hook.status, JSON.stringify(hook.body)).toBe(202);
    await expect(cliIngest('webhook', webhook)).rejects.toMatchObject({ code: 'NO_FAILURE_IN_ALERT', message: expect.stringContaining('Alertmanager webhook') as unknown });
  });
});
