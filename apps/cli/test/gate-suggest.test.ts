import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FailureEnvelope } from '@tracemend/contracts';
import { incidentPaths, listIncidentIds } from '@tracemend/corpus';
import { fixtureAlertPaths } from '@tracemend/fixture-kit';
import { buildEnvelope, type OtlpLogs, type OtlpTraces } from '@tracemend/ingest';
import { createAuditLog, detect, gateEnvelopeDetailed, knownRawValues, loadDataContract, previewGate, rawValueHasher, scanForLeaks, type DataContract } from '@tracemend/privacy-gate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelopeForDryRun } from '../src/gate-dry-run';
import { formatContractSuggestion, proposeField, suggestContract } from '../src/gate-suggest';
import type { CliIo } from '../src/io';
import { runStage } from '../src/stage';

let dir: string;

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (text) => stdout.push(text), err: (text) => stderr.push(text) };
}

/** Every substring of the envelope's strings and keys that a detector flags: what must not pass the gate. */
function flaggedValues(envelope: FailureEnvelope): Set<string> {
  const found = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === 'string') for (const match of detect(value)) found.add(value.slice(match.start, match.end));
    else if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        visit(key);
        visit(item);
      }
    }
  };
  visit(envelope);
  return found;
}

const SUGGEST_KEY = { id: 'suggest-test', secret: randomBytes(32) };

/** Gates the envelope with the contract as the pipeline does (real key, real audit log) and checks nothing flagged survives. */
async function expectGateHoldsBack(envelope: FailureEnvelope, contract: DataContract, name: string): Promise<void> {
  const flagged = flaggedValues(envelope);
  const preview = previewGate({ envelope, contract });
  // Every data-bearing path of the sample is labelled: default deny drops nothing.
  expect(preview.droppedUnknown, name).toEqual([]);
  expect(preview.outcome, name).toBe('released');
  const { gated, rawValueHashes } = await gateEnvelopeDetailed({
    envelope,
    contract,
    key: SUGGEST_KEY,
    audit: createAuditLog({ file: join(dir, `${name}.audit.jsonl`), key: SUGGEST_KEY }),
  });
  const released = JSON.stringify(gated.envelope);
  expect([...flagged].filter((value) => released.includes(value)), name).toEqual([]);
  // The gate's own tokens pass because it reported them, as the worker's egress guard learns them.
  expect(scanForLeaks(released, { knownRawValueHashes: knownRawValues(rawValueHashes, rawValueHasher(SUGGEST_KEY)) }), name).toEqual([]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-gate-suggest-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tracemend gate --suggest', () => {
  it('drafts a contract for each corpus alert that loads, covers every path and lets no flagged value through', async () => {
    const ids = await listIncidentIds();
    expect(ids.length).toBe(18);
    for (const id of ids) {
      const paths = incidentPaths(id);
      const alert = await readFile(paths.traces, 'utf8');
      const io = capture();
      expect(await runStage('gate', ['--suggest', paths.traces], io, {}), id).toBe(0);
      const text = io.stdout.join('\n');
      const file = join(dir, `${id}.yaml`);
      await writeFile(file, text);
      const contract = await loadDataContract(file);
      const envelope = await envelopeForDryRun(alert);
      expect(contract.service, id).toBe(envelope.identity.service);
      for (const value of flaggedValues(envelope)) expect(text.includes(value), `${id} prints a flagged value`).toBe(false);
      await expectGateHoldsBack(envelope, contract, id);

      // With the log records of the same trace joined, their bodies and attributes are covered too.
      const receivedAt = '2026-11-20T12:00:00.000Z';
      const joined = buildEnvelope({
        traces: { source: { alertId: 'a'.repeat(64), format: 'otlp-traces-json', receivedAt }, body: JSON.parse(alert) as OtlpTraces },
        logs: [{ source: { alertId: 'b'.repeat(64), format: 'otlp-logs-json', receivedAt }, body: JSON.parse(await readFile(paths.logs, 'utf8')) as OtlpLogs }],
      });
      const suggestion = suggestContract(joined);
      expect(suggestion.fields.some((field) => field.path.startsWith('logs.*.')), `${id} log paths`).toBe(joined.logs.length > 0);
      await expectGateHoldsBack(joined, suggestion.contract, `${id}-joined`);
    }
  });

  it('proposes from detector hits, key names and semantic conventions, and never prints a value', async () => {
    const paths = fixtureAlertPaths('users-api');
    const receivedAt = '2026-11-20T12:00:00.000Z';
    const envelope = buildEnvelope({
      traces: { source: { alertId: 'a'.repeat(64), format: 'otlp-traces-json', receivedAt }, body: JSON.parse(await readFile(paths.traces, 'utf8')) as OtlpTraces },
      logs: [{ source: { alertId: 'b'.repeat(64), format: 'otlp-logs-json', receivedAt }, body: JSON.parse(await readFile(paths.logs, 'utf8')) as OtlpLogs }],
    });
    const suggestion = suggestContract(envelope, 'users-api');
    const byPath = new Map(suggestion.fields.map((field) => [field.path, field]));
    expect(byPath.get('entry.body.email')).toMatchObject({ action: 'tokenize', type: 'email', sensitivity: 'internal' });
    expect(byPath.get('entry.body.email')?.why).toMatch(/^detector hit in the sample: email \(1\)/);
    expect(byPath.get('entry.headers.authorization')).toEqual({ path: 'entry.headers.authorization', action: 'drop', sensitivity: 'secret', why: 'the key names a credential' });
    expect(byPath.get('spans.*.attributes["http.request.method"]')).toMatchObject({ action: 'allow', sensitivity: 'public' });
    const text = formatContractSuggestion(suggestion);
    for (const value of ['Mara Lindqvist', 'mara.lindqvist@example.com', '+46701234567', 'sk_live_51NfT8qL2bX9vK3mQ7pR4sW6yZ0aC5dE8']) {
      expect(text).not.toContain(value);
      expect(JSON.stringify(suggestion)).not.toContain(value);
    }
    await expectGateHoldsBack(envelope, suggestion.contract, 'users-api');
  });

  it('names an alert too wide for one contract instead of printing an invalid one', async () => {
    const paths = fixtureAlertPaths('users-api');
    const envelope = await envelopeForDryRun(await readFile(paths.traces, 'utf8'));
    const wide: FailureEnvelope = { ...envelope, entry: { ...envelope.entry, body: Object.fromEntries(Array.from({ length: 1_100 }, (_, index) => [`k${index}`, index])) } as FailureEnvelope['entry'] };
    expect(() => suggestContract(wide)).toThrow(/^the 11\d\d field paths of this alert make no valid data contract \(fields: .*\): suggest from a smaller sample, or label whole subtrees with \*\* by hand$/);
  });

  it('reads OpenTelemetry attributes and key names when no detector flags the value', () => {
    expect(proposeField('spans.*.attributes["enduser.id"]', [])).toMatchObject({ action: 'tokenize', sensitivity: 'internal', type: 'text' });
    expect(proposeField('logs.*.attributes["user.email"]', [])).toMatchObject({ action: 'tokenize', type: 'email' });
    expect(proposeField('spans.*.attributes["http.route"]', [])).toEqual({ action: 'allow', sensitivity: 'public', why: 'semantic convention: describes the operation, not its data' });
    expect(proposeField('spans.*.attributes["http.request.header.authorization"]', [])).toMatchObject({ action: 'drop', sensitivity: 'secret' });
    expect(proposeField('entry.body.customer.sourceIp', [])).toMatchObject({ action: 'tokenize', type: 'ip' });
    expect(proposeField('entry.body.billingAddress.line1', [])).toMatchObject({ action: 'redact' });
    expect(proposeField('entry.body.apiKey', [])).toEqual({ action: 'drop', sensitivity: 'secret', why: 'the key names a credential' });
    expect(proposeField('logs.*.body', [{ detector: 'email', action: 'tokenize', count: 2 }])).toMatchObject({ action: 'redact', sensitivity: 'internal' });
    expect(proposeField('entry.body.note', [{ detector: 'jwt', action: 'redact', count: 1 }])).toEqual({ action: 'drop', sensitivity: 'secret', why: 'detector hit in the sample: jwt (1)' });
    expect(proposeField('entry.body.quantity', [])).toMatchObject({ action: 'allow', sensitivity: 'internal' });
  });

  it('refuses options that do not go with --suggest and explains itself on --help', async () => {
    const io = capture();
    expect(await runStage('gate', ['--suggest', '--dry-run', 'x.json'], io, {})).toBe(2);
    expect(io.stderr[0]).toBe('tracemend gate: --suggest drafts a contract from the alert alone; it takes no --dry-run');
    const service = capture();
    expect(await runStage('gate', ['--service', 'x', 'x.json'], service, {})).toBe(2);
    expect(service.stderr[0]).toBe('tracemend gate: --service applies only with --suggest');
    const help = capture();
    expect(await runStage('gate', ['--help'], help, {})).toBe(0);
    expect(help.stdout[0]).toContain('       tracemend gate --suggest [file|-] [--service <name>] [--json]\n');
  });
});
