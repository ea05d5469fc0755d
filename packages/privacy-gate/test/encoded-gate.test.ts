// The invoice-intake incident of the corpus: an API Gateway event whose allowed `body` is base64 of the
// invoice JSON. Gating must keep that body a body the handler can decode, so the replay sees the same input.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FailureEnvelope } from '@tracemend/contracts';
import { buildEnvelope, type OtlpLogs, type OtlpTraces } from '@tracemend/ingest';
import { createAuditLog, type AuditLog } from '../src/audit';
import { loadDataContract } from '../src/contract';
import { EMAIL_TOKEN } from '../src/detectors';
import { knownRawValues, rawValueHasher, scanForLeaks } from '../src/egress';
import { gateEnvelopeDetailed } from '../src/gate';

const INCIDENT = new URL('../../../fixtures/corpus/incidents/invoice-intake-base64-body/', import.meta.url);
const KEY = { id: 'k2026-12', secret: 'test-only-token-key-0123456789abcdef' };
const SOURCE = { alertId: 'c0ffee00c0ffee00', receivedAt: '2026-12-01T06:12:41.000Z' };

let dir: string;
let audit: AuditLog;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'encoded-gate-'));
  audit = createAuditLog({ file: join(dir, 'audit.jsonl'), key: KEY, auditId: 'audit-test' });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readJson<T>(name: string): Promise<T> {
  return JSON.parse(await readFile(new URL(name, INCIDENT), 'utf8')) as T;
}

/** The incident's envelope as ingest builds it from the recorded OTLP export. */
async function invoiceEnvelope(): Promise<FailureEnvelope> {
  return buildEnvelope({
    traces: { source: { ...SOURCE, format: 'otlp-traces-json' }, body: await readJson<OtlpTraces>('alert.traces.json') },
    logs: [{ source: { ...SOURCE, format: 'otlp-logs-json' }, body: await readJson<OtlpLogs>('alert.logs.json') }],
  });
}

type ApiGatewayEvent = { body: string; isBase64Encoded: boolean; headers: Record<string, string> };
const eventOf = (envelope: FailureEnvelope): ApiGatewayEvent => {
  if (envelope.entry.kind !== 'function') throw new Error(`expected a function entry, got ${envelope.entry.kind}`);
  return envelope.entry.args[0] as ApiGatewayEvent;
};

async function gate(envelope: FailureEnvelope) {
  const contract = await loadDataContract(new URL('contract.yaml', INCIDENT).pathname);
  return gateEnvelopeDetailed({ envelope, contract, key: KEY, audit, incidentId: 'inc-invoice' });
}

describe('gating a base64 request body', () => {
  it('releases the recorded invoice body byte for byte, with no detector hit', async () => {
    const envelope = await invoiceEnvelope();
    const recorded = eventOf(envelope);
    expect(recorded.isBase64Encoded).toBe(true);
    const { gated } = await gate(envelope);
    const released = eventOf(gated.envelope);
    expect(released.body).toBe(recorded.body);
    expect(released.isBase64Encoded).toBe(true);
    expect(JSON.parse(Buffer.from(released.body, 'base64').toString('utf8'))).toMatchObject({ number: 'F-2024-0093', currency: 'CHF' });
    expect(gated.privacy.detectorHits.filter((hit) => hit.path.startsWith('entry.'))).toEqual([]);
  });

  it('tokenizes an email inside the body, keeps it base64 of the same JSON, and takes the email out elsewhere too', async () => {
    const envelope = await invoiceEnvelope();
    const invoice = { vendor: 'Acme GmbH', invoiceNo: 'INV-2026-0042', contactEmail: 'billing@acme.example', amount: 1290.5 };
    const body = Buffer.from(JSON.stringify(invoice)).toString('base64');
    eventOf(envelope).body = body;
    // The handler's log line quotes the body it could not parse.
    envelope.logs[0] = { ...envelope.logs[0]!, body: `invoice request failed: body=${body}` };

    const { gated, rawValueHashes } = await gate(envelope);
    const released = eventOf(gated.envelope);
    expect(released.body).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    const parsed = JSON.parse(Buffer.from(released.body, 'base64').toString('utf8')) as typeof invoice;
    expect(parsed.contactEmail).toMatch(EMAIL_TOKEN);
    expect(parsed).toEqual({ ...invoice, contactEmail: parsed.contactEmail });
    expect(gated.envelope.logs[0]?.body).toBe(`invoice request failed: body=${released.body}`);
    expect(gated.privacy.detectorHits).toContainEqual({ detector: 'email', path: 'entry.args.0.body', count: 1 });

    const hashOf = rawValueHasher(KEY);
    expect(rawValueHashes).toEqual(expect.arrayContaining([hashOf('billing@acme.example'), hashOf(body)]));
    const known = knownRawValues(rawValueHashes, hashOf);
    expect(scanForLeaks(`replayed ${body}`, { knownRawValueHashes: known }).map((finding) => finding.detector)).toContain('known-raw-value');
    expect(JSON.stringify(gated)).not.toContain('billing@acme.example');
  });

  it('takes a password found in a Basic header out where it recurs as plain text', async () => {
    const envelope = await invoiceEnvelope();
    const password = 'Tr0ub4dor&3xyz';
    envelope.logs[0] = {
      ...envelope.logs[0]!,
      body: `upstream call with Basic ${Buffer.from(`svc-invoices:${password}`).toString('base64')} refused`,
      attributes: { ...envelope.logs[0]!.attributes, 'exception.message': `login refused for svc-invoices / ${password}` },
    };
    const { gated } = await gate(envelope);
    const text = JSON.stringify(gated);
    expect(text).not.toContain(password);
    expect(gated.envelope.logs[0]?.body).toBe('upstream call with Basic [redacted:basic-auth] refused');
    expect(gated.envelope.logs[0]?.attributes['exception.message']).toBe('login refused for svc-invoices / [redacted:basic-auth]');
  });
});
