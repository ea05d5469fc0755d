// JSON log lines (application/x-ndjson) over real HTTP on loopback, against a real Temporal dev
// server: lines written by the real pino, bunyan and winston loggers inside a real traced request.
import { incidentWorkflowId } from '@tracemend/contracts';
import { buildAlertEnvelope, buildEnvelope, type EvidenceStore } from '@tracemend/ingest';
import { LOGGED_APP_ROOT, recordLoggedFailure, type LoggedFailure } from '@tracemend/ingest/testing/log-lines';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/index';
import { startGatewayOnLoopback, type GatewayOnLoopback } from './gateway-on-loopback';

const TOKEN = 'test-token-log-lines';
const NDJSON = 'application/x-ndjson';
let stack: GatewayOnLoopback;
let gateway: Gateway;
let store: EvidenceStore;
let workflowIds: Set<string>;

beforeAll(async () => {
  stack = await startGatewayOnLoopback({ name: 'log-lines', token: TOKEN, appRoots: [LOGGED_APP_ROOT] });
  ({ gateway, store, workflowIds } = stack);
});

afterAll(async () => {
  await stack?.close();
});

async function post(body: string, type: string): Promise<{ status: number; body: Record<string, unknown> & { error?: { code?: string; message?: string } } }> {
  const response = await fetch(`${gateway.url}/v1/alerts`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': type }, body, signal: AbortSignal.timeout(15_000) });
  const answer = { status: response.status, body: (await response.json()) as Record<string, unknown> };
  if (typeof answer.body.workflowId === 'string') workflowIds.add(answer.body.workflowId);
  return answer;
}

function fingerprintOf(failure: LoggedFailure): string {
  const source = { alertId: 'b'.repeat(64), format: 'otlp-traces-json' as const, receivedAt: new Date().toISOString() };
  return buildEnvelope({ traces: { source, body: failure.traces }, appRoots: [LOGGED_APP_ROOT] }).identity.fingerprint;
}

describe('JSON log lines', () => {
  it('starts an incident from the error line alone when no trace has arrived, with the fingerprint the trace would give', async () => {
    const failure = await recordLoggedFailure({ recordException: true });
    // The log lines come first: the trace export has not arrived yet.
    const answer = await post(failure.lines.winston, NDJSON);
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ format: 'log-lines', status: 'started', fingerprint: fingerprintOf(failure) });
    expect(answer.body.workflowId).toBe(incidentWorkflowId(String(answer.body.fingerprint)));
  });

  it('attaches error lines to the incident of the trace they belong to', async () => {
    const failure = await recordLoggedFailure({ recordException: true });
    const trace = await post(JSON.stringify(failure.traces), 'application/json');
    expect(trace.status).toBe(202);
    // The same bug as the lines-only incident above: the trace joins that incident.
    expect(trace.body.workflowId).toBe(incidentWorkflowId(fingerprintOf(failure)));
    for (const library of ['pino', 'bunyan', 'winston'] as const) {
      const lines = await post(failure.lines[library], NDJSON);
      expect(lines.status, library).toBe(202);
      expect(lines.body).toMatchObject({ format: 'log-lines', workflowId: trace.body.workflowId, status: 'attached', joinedTrace: failure.traceId });
      // Stored under the trace, so the ingest stage joins them when it builds the envelope.
      expect((await store.alertsForTrace(failure.traceId)).some((ref) => ref.alertId === lines.body.alertId && ref.format === 'log-lines')).toBe(true);
    }
  });

  it('starts the incident from a trace without an exception once its error lines are in, as ingest reads it', async () => {
    const failure = await recordLoggedFailure({ recordException: false });
    const lines = await post(failure.lines.bunyan, NDJSON);
    expect(lines.body).toMatchObject({ format: 'log-lines', workflowId: expect.any(String) as unknown });
    // The trace records no exception event: only the joined error lines say it failed.
    const trace = await post(JSON.stringify(failure.traces), 'application/json');
    expect(trace.status).toBe(202);
    expect(trace.body).toMatchObject({ format: 'otlp-traces-json', status: 'attached', workflowId: lines.body.workflowId });
    // The ingest stage builds the envelope of the stored trace with the same fingerprint.
    const { ref, bytes } = await store.getAlert(String(trace.body.alertId));
    expect((await buildAlertEnvelope(store, ref, bytes, { appRoots: [LOGGED_APP_ROOT] })).identity.fingerprint).toBe(trace.body.fingerprint);
  });

  it('keeps lines without an error for a later trace to join', async () => {
    const failure = await recordLoggedFailure({ recordException: true });
    const quiet = failure.lines.pino
      .split('\n')
      .filter((line) => line !== '' && !line.includes('"err"'))
      .join('\n');
    expect(quiet).not.toBe('');
    const answer = await post(quiet, NDJSON);
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ format: 'log-lines', traceIds: [failure.traceId] });
    expect(answer.body.workflowId).toBeUndefined();
  });

  it('refuses a line that is not JSON, naming it, and a JSON body sent as log lines', async () => {
    const notJson = await post('{"level":30,"time":1,"msg":"ok"}\nnot json at all\n', NDJSON);
    expect(notJson.status).toBe(422);
    expect(notJson.body.error?.message).toContain('log line 2 is not JSON');
    const latin1 = await post('{"level":50}', `${NDJSON}; charset=latin1`);
    expect(latin1.status).toBe(415);
    const named = await fetch(`${gateway.url}/v1/alerts?format=log-lines`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{}' });
    expect(named.status).toBe(415);
  });
});
