import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { FailureEnvelope, TracemendError } from '@tracemend/contracts';
import { dataContractPath, detectAlertText, envelopeOfReading, loadServiceCatalog, readAlert } from '@tracemend/ingest';
import { loadDataContract, previewGate, type GatePreview } from '@tracemend/privacy-gate';
import type { CliIo } from './io';

/** What `tracemend gate --dry-run` reads: the input text and where the contract comes from. */
export interface GateDryRunOptions {
  /** An ungated FailureEnvelope, or a raw alert in any format `tracemend ingest` reads. */
  text: string;
  /** A contract file; without it the service catalog names the service's contract. */
  contractFile?: string;
  catalogFile: string;
  json: boolean;
}

/**
 * The envelope a dry run previews: the input itself when it is a FailureEnvelope, otherwise the
 * envelope ingest builds from the raw alert (any format `tracemend ingest` reads), read alone and in
 * memory: nothing is stored, so nothing stored earlier is joined either.
 */
export async function envelopeForDryRun(text: string): Promise<FailureEnvelope> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const envelope = FailureEnvelope.safeParse(value);
  if (envelope.success) return envelope.data;
  let detected: ReturnType<typeof detectAlertText>;
  try {
    detected = detectAlertText(text, 'the input');
  } catch (error) {
    if (!(error instanceof TracemendError)) throw error;
    throw new TracemendError(error.code, `the input is neither a FailureEnvelope nor an alert: ${error.message}`, { cause: error });
  }
  const { format, json } = detected;
  const bytes = Buffer.from(text, 'utf8');
  const source = { alertId: createHash('sha256').update(bytes).digest('hex'), receivedAt: new Date().toISOString() };
  return envelopeOfReading(await readAlert({ bytes, format, source, ...(json === undefined ? {} : { json }) }));
}

/**
 * `tracemend gate --dry-run`: prints the gate's decision for every field path of one envelope under a
 * contract (path, action, sensitivity, token type, the contract pattern that matched or default deny,
 * detector hits), never a value. It writes no audit record, token or file. Exits 0 when the gate
 * would release the envelope and 1 when it would refuse it.
 */
export async function runGateDryRun(options: GateDryRunOptions, io: CliIo): Promise<number> {
  const envelope = await envelopeForDryRun(options.text);
  const service = envelope.identity.service;
  const contractFile = options.contractFile ?? dataContractPath(await loadServiceCatalog(options.catalogFile), service);
  const preview = previewGate({ envelope, contract: await loadDataContract(resolve(contractFile)) });
  io.out(options.json ? JSON.stringify({ dryRun: true, ...preview }, null, 2) : formatGatePreview(preview));
  return preview.outcome === 'released' ? 0 : 1;
}

/** The preview as a table, one row per decision; detector rows carry their hit count. */
export function formatGatePreview(preview: GatePreview): string {
  const hits = new Map(preview.detectorHits.map((hit) => [`${hit.path}\u0000${hit.detector}`, hit.count]));
  const rows = preview.decisions.map((decision) => [
    decision.path,
    decision.action,
    decision.sensitivity,
    decision.type ?? '',
    decision.basis === 'contract' ? (decision.pattern ?? '') : decision.basis === 'default-deny' ? 'default deny' : `detector ${decision.detector ?? ''}`,
    decision.basis === 'detector' ? String(hits.get(`${decision.path}\u0000${decision.detector ?? ''}`) ?? '') : '',
  ]);
  const header = ['PATH', 'ACTION', 'SENSITIVITY', 'TYPE', 'RULE', 'HITS'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  const verdict =
    preview.outcome === 'released' ? 'the gate would release the envelope' : `the gate would refuse the envelope: ${preview.reason ?? ''}`;
  const totalHits = preview.detectorHits.reduce((sum, hit) => sum + hit.count, 0);
  return [
    `dry run: data contract ${preview.contract.id} v${preview.contract.version} on an envelope from ${preview.service}; ${verdict}`,
    `${preview.decisions.length} decisions, ${preview.droppedUnknown.length} fields dropped by default deny, ${totalHits} detector hits (no values shown, nothing written)`,
    '',
    line(header),
    ...rows.map(line),
  ].join('\n');
}
