// Every positive of the labelled privacy corpus, placed where free text reaches the gate (log bodies a
// contract allows, the error message, a span name and status, an allowed span attribute), is gone
// from the gated envelope and the audit record: the detectors stand behind every contract.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FailureEnvelope } from '@tracemend/contracts';
import { exampleFailureEnvelope } from '@tracemend/contracts/examples';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog, type AuditLog } from '../src/audit';
import { parseDataContract } from '../src/contract';
import { gateEnvelope } from '../src/gate';
import { buildCorpus, POSITIVE_TYPES, type CorpusSample } from '../src/testing/corpus';

const KEY = { id: 'k-corpus', secret: 'test-only-token-key-for-the-corpus-0123' };
// A contract that lets free text through: only the detectors stand between it and the output.
const CONTRACT = parseDataContract(
  [
    'service: users-api',
    'version: 1',
    'fields:',
    '  - { path: logs.*.body, action: allow, sensitivity: public }',
    '  - { path: \'spans.*.attributes["app.note"]\', action: allow, sensitivity: public }',
    '',
  ].join('\n'),
);
const PER_ENVELOPE = 20;
let dir: string;
let audit: AuditLog;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'corpus-gate-'));
  audit = createAuditLog({ file: join(dir, 'audit.jsonl'), key: KEY, auditId: 'corpus' });
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The example envelope carrying `samples`: each as a log body, and the first also in the message, span name, status and an attribute. */
function envelopeWith(samples: readonly CorpusSample[]): FailureEnvelope {
  const [first] = samples;
  const text = first?.text ?? '';
  // The value with the words that name it, if it needs them (nine digits are an SSN only after `SSN:`).
  const value = first === undefined ? '' : first.text.slice(first.contextStart, first.end);
  const span = exampleFailureEnvelope.spans[0]!;
  // A span name holds 256 characters: it carries the value (and its naming words) alone when that fits whole.
  const name = value.length <= 200 ? `POST /v1/users ${value}` : span.name;
  return {
    ...exampleFailureEnvelope,
    symptom: { ...exampleFailureEnvelope.symptom, message: `request failed: ${text}`.slice(0, 4000) },
    spans: [{ ...span, name, status: { code: 'error', message: text.slice(0, 4000) }, attributes: { ...span.attributes, 'app.note': text } }],
    logs: samples.map((sample) => ({ timestamp: exampleFailureEnvelope.timing.recordedAt, severity: 'error' as const, body: sample.text, attributes: {} })),
  };
}

describe('the labelled corpus through the gate', () => {
  it('leaves no raw positive value in any gated envelope or audit record', async () => {
    const positives = buildCorpus().filter((sample) => sample.positive);
    expect(positives.length).toBeGreaterThanOrEqual(2000);
    expect(new Set(positives.map((sample) => sample.type))).toEqual(new Set(POSITIVE_TYPES));
    const survived: string[] = [];
    for (let index = 0; index < positives.length; index += PER_ENVELOPE) {
      const samples = positives.slice(index, index + PER_ENVELOPE);
      const gated = JSON.stringify(await gateEnvelope({ envelope: envelopeWith(samples), contract: CONTRACT, key: KEY, audit, incidentId: `corpus-${index}` }));
      for (const sample of samples) {
        const value = sample.text.slice(sample.start, sample.end);
        // JSON escapes a value the same way wherever it sits, so a search of the serialized text is exact.
        if (gated.includes(JSON.stringify(value).slice(1, -1))) survived.push(`${sample.type} #${sample.id}`);
      }
    }
    expect(survived).toEqual([]);
    const records = await readFile(audit.file, 'utf8');
    const inAudit = positives.filter((sample) => records.includes(JSON.stringify(sample.text.slice(sample.start, sample.end)).slice(1, -1)));
    expect(inAudit.map((sample) => `${sample.type} #${sample.id}`)).toEqual([]);
  });
});
