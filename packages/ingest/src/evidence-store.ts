import { createHash, randomBytes } from 'node:crypto';
import { appendFile, chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FailureEnvelope, RawAlertRef, TracemendError, parseContract, type AlertFormat, type EnvelopeRef } from '@tracemend/contracts';
import { deriveSealingKey, readOrCreateSecretFile, seal as sealValue, SEAL_NONCE_BYTES, SEAL_TAG_BYTES, unseal as unsealValue } from '@tracemend/process';

/**
 * Where raw alerts and ungated envelopes live, by content hash, so the workflow carries references
 * only and no raw production value enters Temporal history (docs/adr/0001).
 */
export interface EvidenceStore {
  putAlert(alert: { bytes: Uint8Array; format: AlertFormat; receivedAt?: string; serviceHint?: string; traceIds?: readonly string[] }): Promise<RawAlertRef>;
  getAlert(alertId: string): Promise<{ ref: RawAlertRef; bytes: Buffer }>;
  /** Alerts stored with the given trace id (e.g. the log exports of a failing trace). */
  alertsForTrace(traceId: string): Promise<RawAlertRef[]>;
  /** Failure alerts stored with `serviceHint` equal to `service`, oldest first (to find a service's failures in a time window). */
  alertsForService(service: string): Promise<RawAlertRef[]>;
  /** Alerts held until the failure they point at arrives (an Alertmanager alert before its trace). */
  putPending(entry: PendingAlert): Promise<void>;
  listPending(): Promise<PendingAlert[]>;
  removePending(id: string): Promise<void>;
  /** Appends what became of one alert, under its webhook's alert id and under its incident when it has one. */
  appendAlertEvent(event: AlertEvent): Promise<void>;
  /** The events of a webhook (`alertId`) or of an incident (`incidentId`), oldest first. */
  alertEvents(key: { alertId: string } | { incidentId: string }): Promise<AlertEvent[]>;
  putEnvelope(envelope: FailureEnvelope): Promise<EnvelopeRef>;
  getEnvelope(envelopeId: string): Promise<FailureEnvelope>;
  /** Keyed hashes of the raw values the privacy gate removed, for the egress guard (never the values). */
  putRawValueHashes(key: string, hashes: readonly string[]): Promise<void>;
  getRawValueHashes(key: string): Promise<string[]>;
  /**
   * Deletes what is older than `before`: raw alerts received before it (with their trace and service
   * index entries), envelopes, raw-value hashes and alert event logs last written before it, and
   * pending alerts received before it. Evidence of an incident still in flight must be younger than
   * the cut-off: choose a retention longer than any incident runs.
   */
  purge(before: Date): Promise<PurgeReport>;
  /**
   * Erases one data subject's evidence on request: every raw alert and envelope that holds any of
   * `values` (as written, or escaped as JSON writes it), with the alerts' index entries. Values of
   * fewer than 4 characters are refused: they would match unrelated evidence.
   */
  erase(values: readonly string[]): Promise<EraseReport>;
}

/** What `erase` deleted. */
export interface EraseReport {
  alerts: number;
  envelopes: number;
  bytes: number;
}

/** The shortest value `erase` looks for: shorter ones occur by chance in any alert. */
export const MIN_ERASE_VALUE_LENGTH = 4;

/** What `purge` deleted, by kind, and how many bytes that freed. */
export interface PurgeReport {
  before: string;
  alerts: number;
  envelopes: number;
  rawValueHashes: number;
  alertEventLogs: number;
  pending: number;
  bytes: number;
}

/** An alert of a webhook waiting for its failure: by trace id, or by service within a time window. */
export interface PendingAlert {
  id: string;
  /** The stored webhook's id and the alert's index in it. */
  alertId: string;
  alert: number;
  receivedAt: string;
  /** When it stops waiting and is recorded as timed out. */
  until: string;
  traceId?: string;
  service?: string;
  window?: { from: string; to: string };
}

/** What became of one alert of a webhook. */
export interface AlertEvent {
  at: string;
  alertId: string;
  alert: number;
  kind: 'attached' | 'joined' | 'waiting' | 'resolved' | 'timed-out' | 'unmatched';
  incidentId?: string;
  traceId?: string;
  service?: string;
  reason?: string;
}

const HEX = /^[0-9a-f]{7,128}$/;

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Raw alerts hold production data before the gate has seen it: every file is readable by the
 * store's owner only, in folders only the owner can enter.
 */
const FILE_MODE = 0o600;
const FOLDER_MODE = 0o700;

/** Writes through a temporary file and a rename, so readers never see half a file. */
async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, data, { mode: FILE_MODE });
  await rename(temporary, path);
}

/** What sealed files start with: a version, so plain files of earlier versions still read. */
const SEALED_MAGIC = Buffer.from('tracemend-evidence-v1\n');
const MIN_KEY_BYTES = 32;

/** The secret raw alerts and envelopes are sealed under (AES-256-GCM, key derived with HKDF-SHA256). */
export type EvidenceKey = string | Uint8Array;

function sealingKey(secret: EvidenceKey): Buffer {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (bytes.length < MIN_KEY_BYTES) throw new TracemendError('INVALID_INPUT', `the evidence key must hold at least ${MIN_KEY_BYTES} bytes (TRACEMEND_EVIDENCE_KEY)`);
  return deriveSealingKey(bytes, 'tracemend-evidence', 'evidence v1');
}

/** Seals `data` for the file `name` (its store-relative path, bound as associated data so files cannot be swapped). */
function seal(key: Buffer, name: string, data: Uint8Array | string): Buffer {
  const { nonce, tag, ciphertext } = sealValue(key, data, name);
  return Buffer.concat([SEALED_MAGIC, nonce, tag, ciphertext]);
}

/** The plain bytes of a stored file: opened when sealed, as they are when written before sealing existed. */
function unseal(key: Buffer, name: string, stored: Buffer): Buffer {
  if (!stored.subarray(0, SEALED_MAGIC.length).equals(SEALED_MAGIC)) return stored;
  const body = stored.subarray(SEALED_MAGIC.length);
  const nonce = body.subarray(0, SEAL_NONCE_BYTES);
  const tag = body.subarray(SEAL_NONCE_BYTES, SEAL_NONCE_BYTES + SEAL_TAG_BYTES);
  const plain = unsealValue(key, { nonce, tag, ciphertext: body.subarray(SEAL_NONCE_BYTES + SEAL_TAG_BYTES) }, name);
  if (plain === undefined) {
    throw new TracemendError('INVALID_INPUT', `evidence ${name} does not open under this evidence key: it was sealed under another key (TRACEMEND_EVIDENCE_KEY) or altered`);
  }
  return plain;
}

/**
 * The local evidence key: created once (32 random bytes, mode 0600) in the `keys` folder beside the
 * store when none is configured, so the gateway and the worker of one machine share it.
 */
async function localEvidenceKey(dir: string): Promise<string> {
  const file = join(dir, 'evidence-key');
  const stored = (await readOrCreateSecretFile(file, () => randomBytes(32).toString('base64'))).trim();
  if (Buffer.from(stored, 'base64').length < MIN_KEY_BYTES) {
    throw new TracemendError('INVALID_INPUT', `${file} does not hold an evidence key; restore it (the evidence sealed under it cannot be read without it)`);
  }
  return stored;
}

/** Options of `createEvidenceStore`. */
export interface EvidenceStoreOptions {
  /**
   * The key raw alerts and envelopes are sealed under (at least 32 bytes; TRACEMEND_EVIDENCE_KEY). Without
   * it, a local key in the `keys` folder beside the store is used, created on first use.
   */
  key?: EvidenceKey;
}

/** Creates `folder` (and its parents) for the owner only. */
async function privateFolder(folder: string): Promise<void> {
  await mkdir(folder, { recursive: true, mode: FOLDER_MODE });
}

function checkId(id: string, what: string): string {
  if (!HEX.test(id)) throw new TracemendError('INVALID_INPUT', `${what} must be lowercase hex, got ${JSON.stringify(id.slice(0, 80))}`);
  return id;
}

/**
 * A file-backed evidence store under `dir` (one machine; shared storage beyond one). Raw alerts and
 * envelopes are sealed with AES-256-GCM; references, indexes, events and keyed hashes hold no raw data.
 */
export function createEvidenceStore(dir: string, options: EvidenceStoreOptions = {}): EvidenceStore {
  const alerts = join(dir, 'alerts');
  const envelopes = join(dir, 'envelopes');
  const traces = join(dir, 'by-trace');
  const egress = join(dir, 'egress');
  const services = join(dir, 'by-service');
  const pending = join(dir, 'pending');
  const events = join(dir, 'alert-events');
  // The store's own folder too, when an earlier version or the operator made it readable by others.
  const ready = privateFolder(dir)
    .then(() => chmod(dir, FOLDER_MODE))
    .then(() => Promise.all([alerts, envelopes, traces, egress, services, pending, events].map(privateFolder)));
  // Read (or made) when a sealed file is first written or read, not when the store is created: a purge
  // or an index lookup needs no key, and must not make one beside a folder it was pointed at.
  let key: Promise<Buffer> | undefined;
  const sealingKeyOnce = () => (key ??= (async () => sealingKey(options.key ?? (await localEvidenceKey(join(dirname(dir), 'keys')))))());
  /** A sealed file under the store, named by its store-relative path (`alerts/<id>.body`), which is bound to its content. */
  const writeSealed = async (name: string, data: Uint8Array | string) => writeAtomic(join(dir, name), seal(await sealingKeyOnce(), name, data));
  const readSealed = async (name: string) => unseal(await sealingKeyOnce(), name, await readFile(join(dir, name)));
  /** Removes every raw alert `chosen` picks, with the trace and service index entries pointing at it; answers how many. */
  const removeAlerts = async (remove: (path: string) => Promise<boolean>, chosen: (alertId: string) => Promise<boolean>): Promise<number> => {
    const removed = new Set<string>();
    for (const name of await readdir(alerts)) {
      if (!name.endsWith('.ref.json')) continue;
      const alertId = name.slice(0, -'.ref.json'.length);
      if (!(await chosen(alertId))) continue;
      await remove(join(alerts, `${alertId}.body`));
      await remove(join(alerts, name));
      removed.add(alertId);
    }
    for (const index of [traces, services]) {
      for (const folder of await readdir(index)) {
        const entries = await readdir(join(index, folder));
        for (const alertId of entries) if (removed.has(alertId)) await rm(join(index, folder, alertId), { force: true });
        if (entries.every((alertId) => removed.has(alertId))) await rm(join(index, folder), { recursive: true, force: true });
      }
    }
    return removed.size;
  };
  // Service names are free text: their folder is named by a hash.
  const serviceDir = (service: string) => join(services, sha256(service).slice(0, 32));
  const readJsonLines = async <T>(path: string): Promise<T[]> => {
    try {
      return (await readFile(path, 'utf8'))
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as T);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  };

  const readRef = async (alertId: string): Promise<RawAlertRef> => {
    try {
      return parseContract(RawAlertRef, JSON.parse(await readFile(join(alerts, `${alertId}.ref.json`), 'utf8')), 'RawAlertRef');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new TracemendError('ALERT_NOT_FOUND', `alert ${alertId} is not in the evidence store`);
      throw error;
    }
  };

  return {
    async putAlert({ bytes, format, receivedAt, serviceHint, traceIds }) {
      await ready;
      const alertId = sha256(bytes);
      const ref: RawAlertRef = {
        schemaVersion: 1,
        alertId,
        format,
        receivedAt: receivedAt ?? new Date().toISOString(),
        sizeBytes: bytes.byteLength,
        ...(serviceHint ? { serviceHint } : {}),
      };
      await writeSealed(`alerts/${alertId}.body`, bytes);
      await writeAtomic(join(alerts, `${alertId}.ref.json`), JSON.stringify(ref));
      for (const traceId of traceIds ?? []) {
        if (!HEX.test(traceId)) continue;
        await privateFolder(join(traces, traceId));
        await writeFile(join(traces, traceId, alertId), '', { mode: FILE_MODE });
      }
      if (serviceHint) {
        await privateFolder(serviceDir(serviceHint));
        await writeFile(join(serviceDir(serviceHint), alertId), '', { mode: FILE_MODE });
      }
      return ref;
    },
    async getAlert(alertId) {
      await ready;
      const ref = await readRef(checkId(alertId, 'alertId'));
      return { ref, bytes: await readSealed(`alerts/${alertId}.body`) };
    },
    async alertsForTrace(traceId) {
      await ready;
      let ids: string[];
      try {
        ids = await readdir(join(traces, checkId(traceId.toLowerCase(), 'traceId')));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      return Promise.all(ids.sort().map(readRef));
    },
    async alertsForService(service) {
      await ready;
      let ids: string[];
      try {
        ids = await readdir(serviceDir(service));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      const refs = await Promise.all(ids.map(readRef));
      return refs.sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
    },
    async putPending(entry) {
      await ready;
      await writeAtomic(join(pending, `${checkId(entry.id, 'pending id')}.json`), JSON.stringify(entry));
    },
    async listPending() {
      await ready;
      const names = (await readdir(pending)).filter((name) => name.endsWith('.json'));
      const entries = await Promise.all(
        names.map(async (name) => {
          try {
            return JSON.parse(await readFile(join(pending, name), 'utf8')) as PendingAlert;
          } catch (error) {
            // Removed by another reader since the listing.
            if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
            throw error;
          }
        }),
      );
      return entries.filter((entry): entry is PendingAlert => entry !== undefined).sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
    },
    async removePending(id) {
      await ready;
      await rm(join(pending, `${checkId(id, 'pending id')}.json`), { force: true });
    },
    async appendAlertEvent(event) {
      await ready;
      const line = `${JSON.stringify(event)}\n`;
      await appendFile(join(events, `alert-${checkId(event.alertId, 'alertId')}.jsonl`), line, { mode: FILE_MODE });
      if (event.incidentId) await appendFile(join(events, `incident-${checkId(event.incidentId, 'incidentId')}.jsonl`), line, { mode: FILE_MODE });
    },
    async alertEvents(key) {
      await ready;
      const name = 'alertId' in key ? `alert-${checkId(key.alertId, 'alertId')}` : `incident-${checkId(key.incidentId, 'incidentId')}`;
      return readJsonLines<AlertEvent>(join(events, `${name}.jsonl`));
    },
    async putEnvelope(envelope) {
      await ready;
      const text = JSON.stringify(envelope);
      const envelopeId = sha256(text);
      await writeSealed(`envelopes/${envelopeId}.json`, text);
      return {
        schemaVersion: 1,
        envelopeId,
        fingerprint: envelope.identity.fingerprint,
        service: envelope.identity.service,
        errorType: envelope.symptom.errorType,
        version: envelope.identity.version,
      };
    },
    async getEnvelope(envelopeId) {
      await ready;
      try {
        const text = (await readSealed(`envelopes/${checkId(envelopeId, 'envelopeId')}.json`)).toString('utf8');
        return parseContract(FailureEnvelope, JSON.parse(text), 'FailureEnvelope');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new TracemendError('ALERT_NOT_FOUND', `envelope ${envelopeId} is not in the evidence store`);
        throw error;
      }
    },
    async putRawValueHashes(key, hashes) {
      await ready;
      await writeAtomic(join(egress, `${checkId(key, 'key')}.json`), JSON.stringify([...hashes].sort()));
    },
    async getRawValueHashes(key) {
      await ready;
      try {
        return JSON.parse(await readFile(join(egress, `${checkId(key, 'key')}.json`), 'utf8')) as string[];
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
    },
    async erase(values) {
      await ready;
      const short = values.filter((value) => value.length < MIN_ERASE_VALUE_LENGTH);
      if (values.length === 0 || short.length > 0) {
        throw new TracemendError('INVALID_INPUT', `erase needs the subject's values, each at least ${MIN_ERASE_VALUE_LENGTH} characters long (${short.length} shorter, which would match unrelated evidence)`);
      }
      // As written, and as JSON writes it inside a string (quotes, backslashes and non-ASCII escaped or not).
      const forms = [...new Set(values.flatMap((value) => [value, JSON.stringify(value).slice(1, -1), JSON.stringify(value).slice(1, -1).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)]))];
      const holds = (bytes: Buffer) => {
        const text = bytes.toString('utf8');
        return forms.some((form) => text.includes(form));
      };
      const report: EraseReport = { alerts: 0, envelopes: 0, bytes: 0 };
      const remove = removerInto(report);
      report.alerts = await removeAlerts(remove, async (alertId) => holds(await readSealed(`alerts/${alertId}.body`)));
      for (const name of await readdir(envelopes)) {
        if (name.endsWith('.json') && holds(await readSealed(`envelopes/${name}`)) && (await remove(join(envelopes, name)))) report.envelopes++;
      }
      return report;
    },
    async purge(before) {
      await ready;
      if (Number.isNaN(before.getTime())) throw new TracemendError('INVALID_INPUT', 'purge needs a valid date to delete evidence older than');
      const report: PurgeReport = { before: before.toISOString(), alerts: 0, envelopes: 0, rawValueHashes: 0, alertEventLogs: 0, pending: 0, bytes: 0 };
      const remove = removerInto(report);
      // Raw alerts by the instant they were received; the index entries pointing at them go with them.
      report.alerts = await removeAlerts(remove, async (alertId) => {
        const ref = await readRef(alertId).catch(() => undefined);
        const received = ref === undefined ? (await statOf(join(alerts, `${alertId}.ref.json`)))?.mtimeMs : Date.parse(ref.receivedAt);
        return received !== undefined && received < before.getTime();
      });
      // The rest by when it was last written.
      const olderFiles = async (folder: string, suffix: string, count: (name: string) => void) => {
        for (const name of await readdir(folder)) {
          if (!name.endsWith(suffix)) continue;
          const written = (await statOf(join(folder, name)))?.mtimeMs;
          if (written !== undefined && written < before.getTime() && (await remove(join(folder, name)))) count(name);
        }
      };
      await olderFiles(envelopes, '.json', () => report.envelopes++);
      await olderFiles(egress, '.json', () => report.rawValueHashes++);
      await olderFiles(events, '.jsonl', () => report.alertEventLogs++);
      for (const name of await readdir(pending)) {
        if (!name.endsWith('.json')) continue;
        const entry = JSON.parse(await readFile(join(pending, name), 'utf8').catch(() => '{}')) as Partial<PendingAlert>;
        const received = typeof entry.receivedAt === 'string' ? Date.parse(entry.receivedAt) : (await statOf(join(pending, name)))?.mtimeMs;
        if (received !== undefined && received < before.getTime() && (await remove(join(pending, name)))) report.pending++;
      }
      return report;
    },
  };
}

/** Removes a file and adds its size to `report.bytes`; false when it was already gone. */
function removerInto(report: { bytes: number }): (path: string) => Promise<boolean> {
  return async (path) => {
    const size = (await statOf(path))?.size;
    if (size === undefined) return false;
    await rm(path, { force: true });
    report.bytes += size;
    return true;
  };
}

/** The file's size and modification time, or undefined when it is gone (another purge took it). */
async function statOf(path: string): Promise<{ size: number; mtimeMs: number } | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
