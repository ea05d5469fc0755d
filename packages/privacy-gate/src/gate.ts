import {
  FailureEnvelope,
  formatIssues,
  GatedEnvelope,
  LIMITS,
  parseContract,
  TracemendError,
  type AuditReference,
  type PrivacyAction,
  type PrivacyDecision,
  type Sensitivity,
} from '@tracemend/contracts';
import type { AuditEntry, AuditLog, DetectorHit } from './audit';
import { compileContract, DataContract, type CompiledField } from './contract';
import { PII_DETECTOR_NAMES, TOKENIZING_DETECTOR_NAMES, isNonPersonalIpv4, isSecretKeyName, isSsnUnderKey, redactText, type IssuedTokenCheck } from './detectors';
import { issuedTokenInput, isValueLikeTokenType, rawValueHasher } from './egress';
import { formatPath, matchPattern, specificity } from './paths';
import { createTokenLog, type TokenMapping } from './token-log';
import { randomBytes } from 'node:crypto';
import { createKeyring, createTokenizer, isTokenKeyring, type TokenKey, type TokenKeyring, type Tokenizer, type TokenType } from './tokenize';

/**
 * What the gate needs: the ungated envelope, the service's data contract, the token key (or a keyring,
 * whose current key tokenizes) and the audit log.
 */
export interface GateInput {
  envelope: FailureEnvelope;
  contract: DataContract;
  key: TokenKey | TokenKeyring;
  audit: AuditLog;
  incidentId?: string;
}

/**
 * One row of the gate's decision table: the decision the gated envelope and the audit record hold,
 * plus the contract rule behind it, which only a preview shows.
 */
export interface GateDecision extends PrivacyDecision {
  /** The contract path pattern that matched (basis `contract`). */
  pattern?: string;
  /** The token type of a matched `tokenize` rule. */
  type?: TokenType;
}

/** What the gate would do with an envelope, without tokens, audit record or any value. */
export interface GatePreview {
  service: string;
  contract: { id: string; version: number };
  /** `blocked` when the gate would refuse the envelope; `reason` then names why. */
  outcome: 'released' | 'blocked';
  reason?: string;
  decisions: GateDecision[];
  droppedUnknown: string[];
  detectorHits: DetectorHit[];
}

/**
 * The gated envelope plus, for the egress guard, the keyed hash (`rawValueHasher`) of every raw string
 * the gate removed or replaced and of every email, phone and card token it released (`issuedTokenInput`),
 * which is how the guard tells the gate's tokens from real values of the same shape.
 */
export interface GateResult {
  gated: GatedEnvelope;
  rawValueHashes: string[];
  /** Each token the released envelope carries with its raw value: only for the token vault, never for a stage. */
  tokenized: TokenMapping[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const RESTRICTIVENESS: Record<PrivacyAction, number> = { allow: 0, tokenize: 1, hash: 2, redact: 3, drop: 4 };
const MAX_REPORTED = 4_096;

/** Accumulates the gate's report; every path in it is already sanitized. */
class Report {
  readonly decisions = new Map<string, GateDecision>();
  readonly droppedUnknown = new Set<string>();
  readonly hits = new Map<string, DetectorHit>();
  readonly rawValues = new Set<string>();

  decide(decision: GateDecision): void {
    const key = [decision.path, decision.basis, decision.action, decision.detector ?? ''].join('\u0000');
    if (!this.decisions.has(key)) this.decisions.set(key, decision);
  }

  hit(detector: string, path: string, count: number): void {
    const key = `${detector}\u0000${path}`;
    const existing = this.hits.get(key);
    if (existing) existing.count += count;
    else this.hits.set(key, { detector, path, count });
  }

  raw(value: unknown): void {
    // Loopback and documentation addresses identify nobody; generated code (tests, replays) uses them.
    if (typeof value === 'string' && value.length >= 4 && !isNonPersonalIpv4(value)) this.rawValues.add(value);
  }
}

const DETECTOR_SENSITIVITY = (kind: 'pii' | 'secret'): Sensitivity => (kind === 'pii' ? 'internal' : 'secret');
const PII_DETECTORS = new Set(PII_DETECTOR_NAMES);
const TOKENIZING_DETECTORS = new Set(TOKENIZING_DETECTOR_NAMES);

const KNOWN_VALUE_MIN_LENGTH = 4;

class Gate {
  readonly report = new Report();
  /** Raw strings the contract tokenized, hashed, redacted or dropped, with what replaces them in free text. */
  readonly removed = new Map<string, string>();
  private readonly knownValues: [string, string][];

  constructor(
    private readonly fields: CompiledField[],
    private readonly tokenizer: Tokenizer,
    /** Confirms the tokens this run issued, which the second pass meets in free text after known values are replaced. */
    private readonly issuedTokens: IssuedTokenCheck,
    known: ReadonlyMap<string, string> = new Map(),
  ) {
    this.knownValues = [...known].sort(([a], [b]) => b.length - a.length);
  }

  /** Replaces known raw values, then detector findings; returns the clean text, hit counts and what was replaced. */
  private clean(text: string): { text: string; hits: Map<string, number>; found: string[]; decoded: ReadonlyMap<string, string>; knownRedacted: boolean } {
    let current = text;
    let knownHits = 0;
    let knownRedacted = false;
    const found: string[] = [];
    for (const [raw, replacement] of this.knownValues) {
      if (!current.includes(raw)) continue;
      // Only whole occurrences: a short value (a postal code) must not cut into an id or a hash.
      const pattern = new RegExp(`(?<![A-Za-z0-9])${escapeRegExp(raw)}(?![A-Za-z0-9])`, 'g');
      current = current.replace(pattern, () => {
        knownHits++;
        if (replacement.startsWith('[redacted')) knownRedacted = true;
        return replacement;
      });
      if (knownHits > 0) found.push(raw);
    }
    const detected = redactText(current, this.tokenizer, { issuedTokens: this.issuedTokens });
    if (knownHits > 0) detected.hits.set('known-value', knownHits);
    return { text: detected.text, hits: detected.hits, found: [...found, ...detected.found], decoded: detected.decoded, knownRedacted };
  }

  /** Runs the detectors over an exposed string; records hits and raw matches under `path`. */
  scrub(text: string, path: string, key?: string): string {
    if (key !== undefined && !/^\d+$/.test(key) && isSecretKeyName(key) && text !== '') {
      this.report.hit('secret-key-name', path, 1);
      this.report.decide({ path, action: 'redact', sensitivity: 'secret', basis: 'detector', detector: 'secret-key-name' });
      this.report.raw(text);
      return '[redacted:secret-key-name]';
    }
    // Nine bare digits say nothing alone; under a key that names a social security number they are one.
    if (key !== undefined && isSsnUnderKey(key, text)) {
      this.report.hit('ssn', path, 1);
      this.report.decide({ path, action: 'redact', sensitivity: DETECTOR_SENSITIVITY('pii'), basis: 'detector', detector: 'ssn' });
      this.report.raw(text);
      return '[redacted:ssn]';
    }
    const { text: out, hits, found, decoded, knownRedacted } = this.clean(text);
    for (const value of found) this.report.raw(value);
    // A value seen only once decoded (an email in base64, a Basic password) is taken out where it recurs as plain text too.
    for (const [value, replacement] of decoded) {
      if (value.length >= KNOWN_VALUE_MIN_LENGTH && !this.removed.has(value)) this.removed.set(value, replacement);
    }
    for (const [detector, count] of hits) {
      const kind = PII_DETECTORS.has(detector) || detector === 'known-value' ? 'pii' : 'secret';
      // What was done, not what kind of value it was: an IBAN or SSN finding is redacted, not tokenized.
      const tokenized = detector === 'known-value' ? !knownRedacted : TOKENIZING_DETECTORS.has(detector);
      this.report.hit(detector, path, count);
      this.report.decide({
        path,
        action: tokenized ? 'tokenize' : 'redact',
        sensitivity: DETECTOR_SENSITIVITY(kind),
        basis: 'detector',
        detector,
      });
    }
    return out;
  }

  /** A key as reports and output may show it: detector findings replaced. */
  private cleanKey(key: string): string {
    return this.clean(key).text;
  }

  private bestField(path: readonly string[]): CompiledField | undefined {
    let best: CompiledField | undefined;
    let bestRank: number[] = [];
    for (const compiled of this.fields) {
      if (!matchPattern(compiled.pattern, path)) continue;
      const rank = [...specificity(compiled.pattern), RESTRICTIVENESS[compiled.field.action]];
      if (best === undefined || compareRank(rank, bestRank) > 0) {
        best = compiled;
        bestRank = rank;
      }
    }
    return best;
  }

  /**
   * Gates one data-bearing value. `path` is the concrete path rules match against; `shown` is the
   * reported path (array positions as `*`, keys sanitized). Returns undefined when nothing survives.
   */
  data(value: Json, path: string[], shown: string[], lowercaseKeysAt?: number): Json | undefined {
    if (Array.isArray(value) && value.length > 0) {
      const items = value.map((item, index) => this.data(item, [...path, String(index)], [...shown, '*'], lowercaseKeysAt));
      return items.every((item) => item === undefined) ? undefined : items.map((item) => item ?? null);
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
      const out: Record<string, Json> = {};
      for (const [rawKey, item] of Object.entries(value)) {
        const key = path.length === lowercaseKeysAt ? rawKey.toLowerCase() : rawKey;
        const shownKey = this.cleanKey(key);
        const gated = this.data(item, [...path, key], [...shown, shownKey], lowercaseKeysAt);
        if (gated === undefined) continue;
        const outKey = shownKey === key ? rawKey : this.scrub(rawKey, formatPath([...shown, shownKey]));
        out[outKey] = gated;
      }
      return Object.keys(out).length === 0 ? undefined : out;
    }
    return this.leaf(value, path, formatPath(shown));
  }

  private leaf(value: Json, path: string[], shown: string): Json | undefined {
    const compiled = this.bestField(path);
    if (compiled === undefined) {
      this.report.droppedUnknown.add(shown);
      this.report.decide({ path: shown, action: 'drop', sensitivity: 'secret', basis: 'default-deny' });
      // Not a known raw value for the egress guard: an unclassified field can hold anything, down to
      // "application/json" or a loopback address that generated code repeats; detectors still scan egress.
      return undefined;
    }
    const { action, sensitivity, type, path: pattern } = compiled.field;
    // An empty object or list holds nothing to protect; a `**` rule that redacts, hashes or tokenizes
    // leaves it as it is rather than turning it into a string the envelope's schema would refuse.
    if (value !== null && typeof value === 'object' && action !== 'drop' && action !== 'allow') return value;
    this.report.decide({ path: shown, action, sensitivity, basis: 'contract', pattern, ...(type === undefined ? {} : { type }) });
    const out = this.apply(value, action, type, shown, path.at(-1));
    if (action !== 'allow' && typeof value === 'string' && value.length >= KNOWN_VALUE_MIN_LENGTH) {
      this.removed.set(value, action === 'tokenize' && typeof out === 'string' ? out : '[redacted:known-value]');
    }
    return out;
  }

  private apply(value: Json, action: PrivacyAction, type: TokenType | undefined, shown: string, key: string | undefined): Json | undefined {
    switch (action) {
      case 'allow':
        return typeof value === 'string' ? this.scrub(value, shown, key) : value;
      case 'drop':
        this.report.raw(value);
        return undefined;
      case 'redact':
        this.report.raw(value);
        return '[redacted]';
      case 'hash':
        this.report.raw(value);
        return this.tokenizer.hash(value);
      case 'tokenize':
        this.report.raw(value);
        if (typeof value === 'string') return this.tokenizer.token(value, type ?? 'text');
        if (typeof value === 'number') {
          if (type === undefined || type === 'number') return this.tokenizer.numberToken(value);
          const token = this.tokenizer.token(String(value), type);
          return /^\d+$/.test(token.replace(/^\+/, '')) ? Number(token.replace(/^\+/, '')) : token;
        }
        return value;
    }
  }

  /** Runs the detectors over every string and key outside the data-bearing parts. */
  structural(value: Json, shown: string[]): Json {
    if (typeof value === 'string') return this.scrub(value, formatPath(shown), shown.at(-1));
    if (Array.isArray(value)) return value.map((item) => this.structural(item, [...shown, '*']));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, Json> = {};
      for (const [key, item] of Object.entries(value)) {
        const shownKey = this.cleanKey(key);
        const outKey = shownKey === key ? key : this.scrub(key, formatPath([...shown, shownKey]));
        out[outKey] = this.structural(item, [...shown, shownKey]);
      }
      return out;
    }
    return value;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compareRank(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

function asJson(value: unknown): Json {
  return value as Json;
}

/** Gates every data-bearing part in place on a JSON clone of the envelope. */
function gateParts(gate: Gate, envelope: Record<string, Json>): void {
  const entry = envelope.entry as Record<string, Json>;
  switch (entry.kind) {
    case 'http': {
      const body = entry.body === undefined ? undefined : gate.data(entry.body, ['entry', 'body'], ['entry', 'body']);
      if (body === undefined) delete entry.body;
      else entry.body = body;
      entry.query = gate.data(entry.query ?? {}, ['entry', 'query'], ['entry', 'query']) ?? {};
      entry.headers = gate.data(entry.headers ?? {}, ['entry', 'headers'], ['entry', 'headers'], 2) ?? {};
      break;
    }
    case 'function': {
      // Positions are the function's parameters: a dropped argument becomes null, never shifts the rest.
      const args = (entry.args ?? []) as Json[];
      entry.args = args.map((arg, index) => gate.data(arg, ['entry', 'args', String(index)], ['entry', 'args', String(index)]) ?? null);
      break;
    }
    case 'message':
      entry.payload = gate.data(entry.payload ?? null, ['entry', 'payload'], ['entry', 'payload']) ?? null;
      break;
  }
  for (const [index, call] of ((envelope.downstream ?? []) as Record<string, Json>[]).entries()) {
    const at = ['downstream', String(index)];
    const body = call.responseBody === undefined ? undefined : gate.data(call.responseBody, [...at, 'responseBody'], ['downstream', '*', 'responseBody']);
    if (body === undefined) delete call.responseBody;
    else call.responseBody = body;
    call.responseHeaders =
      gate.data(call.responseHeaders ?? {}, [...at, 'responseHeaders'], ['downstream', '*', 'responseHeaders'], 4) ?? {};
  }
  for (const [index, span] of ((envelope.spans ?? []) as Record<string, Json>[]).entries()) {
    span.attributes = gate.data(span.attributes ?? {}, ['spans', String(index), 'attributes'], ['spans', '*', 'attributes']) ?? {};
    // Span events carry recorded bodies and payloads: their attributes are data, their names structure.
    for (const [at, event] of ((span.events ?? []) as Record<string, Json>[]).entries()) {
      event.attributes = gate.data(event.attributes ?? {}, ['spans', String(index), 'events', String(at), 'attributes'], ['spans', '*', 'events', '*', 'attributes']) ?? {};
      event.name = gate.structural(event.name ?? '', ['spans', '*', 'events', '*', 'name']);
    }
  }
  for (const [index, log] of ((envelope.logs ?? []) as Record<string, Json>[]).entries()) {
    const body = gate.data(log.body ?? '', ['logs', String(index), 'body'], ['logs', '*', 'body']);
    log.body = typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body);
    log.attributes = gate.data(log.attributes ?? {}, ['logs', String(index), 'attributes'], ['logs', '*', 'attributes']) ?? {};
  }
}

/** Runs the detectors over everything that is not a data-bearing part. */
function scrubStructural(gate: Gate, envelope: Record<string, Json>): void {
  const dataKeys: Record<string, readonly string[]> = {
    entry: ['body', 'query', 'headers', 'args', 'payload'],
    downstream: ['responseBody', 'responseHeaders'],
    spans: ['attributes', 'events'],
    logs: ['body', 'attributes'],
  };
  for (const [key, value] of Object.entries(envelope)) {
    const skip = dataKeys[key];
    if (skip === undefined) {
      envelope[key] = gate.structural(value, [key]);
      continue;
    }
    const objects = Array.isArray(value) ? (value as Record<string, Json>[]) : [value as Record<string, Json>];
    const shown = Array.isArray(value) ? [key, '*'] : [key];
    for (const object of objects) {
      for (const [field, item] of Object.entries(object)) {
        if (!skip.includes(field)) object[field] = gate.structural(item, [...shown, field]);
      }
    }
  }
}

async function refuse(
  audit: AuditLog,
  entry: Omit<AuditEntry, 'outcome' | 'decisions' | 'droppedUnknown' | 'detectorHits'>,
  error: TracemendError,
): Promise<never> {
  await audit.append({ ...entry, outcome: 'blocked', reason: error.code, decisions: [], droppedUnknown: [], detectorHits: [] });
  throw error;
}

interface Evaluation {
  base: Omit<AuditEntry, 'outcome' | 'decisions' | 'droppedUnknown' | 'detectorHits'>;
  contract: DataContract;
  /** Why the gate refuses the envelope, if it does. */
  refusal?: TracemendError;
  decisions: GateDecision[];
  droppedUnknown: string[];
  detectorHits: DetectorHit[];
  gated?: FailureEnvelope;
  rawValues: ReadonlySet<string>;
}

/**
 * Runs the contract, the detectors and the tokenizer over a copy of the envelope and says whether the
 * result may be released. Writes nothing; `gateEnvelopeDetailed` audits it, `previewGate` shows it.
 */
function evaluate(input: Pick<GateInput, 'envelope' | 'contract' | 'incidentId'>, tokenizer: Tokenizer): Evaluation {
  const envelope = parseContract(FailureEnvelope, input.envelope, 'FailureEnvelope');
  const contract = parseContract(DataContract, input.contract, 'DataContract');
  const service = envelope.identity.service;
  const base = { incidentId: input.incidentId, service, contract: { id: contract.service, version: contract.version } };
  const empty = { base, contract, decisions: [], droppedUnknown: [], detectorHits: [], rawValues: new Set<string>() };

  if (contract.service !== service) {
    const refusal = new TracemendError('DATA_CONTRACT_MISSING', `the data contract is for ${contract.service}, the envelope is from ${service}`);
    return { ...empty, refusal };
  }

  const fields = compileContract(contract);
  // Token-shaped values count as the gate's own only when this run issued them (a raw card may carry the card-token prefix).
  const issuing = createTokenLog(tokenizer);
  // A first pass learns which raw values the contract removes, so the second can also take them out
  // of free text (a customer name repeated in a log line, an order id in a URL).
  const survey = new Gate(fields, issuing.tokenizer, issuing.issuedTokens);
  gateParts(survey, JSON.parse(JSON.stringify(envelope)) as Record<string, Json>);
  const gate = new Gate(fields, issuing.tokenizer, issuing.issuedTokens, survey.removed);
  const clone = JSON.parse(JSON.stringify(envelope)) as Record<string, Json>;
  gateParts(gate, clone);
  scrubStructural(gate, clone);

  const { report } = gate;
  const decisions = [...report.decisions.values()].sort(comparePrivacyDecisions);
  const droppedUnknown = [...report.droppedUnknown].sort();
  const detectorHits = [...report.hits.values()].sort((a, b) => compareText(a.path, b.path) || compareText(a.detector, b.detector));
  const result = { base, contract, decisions, droppedUnknown, detectorHits, rawValues: report.rawValues };

  const allowedSecrets = contract.fields.filter((field) => field.sensitivity === 'secret' && field.action === 'allow');
  if (allowedSecrets.length > 0) {
    const paths = allowedSecrets.map((field) => field.path).join(', ');
    return { ...result, refusal: new TracemendError('PRIVACY_BLOCKED', `data contract ${contract.service} v${contract.version} allows secret fields: ${paths}`) };
  }
  if (decisions.length > MAX_REPORTED || droppedUnknown.length > MAX_REPORTED || detectorHits.length > LIMITS.records) {
    return { ...result, refusal: new TracemendError('PRIVACY_BLOCKED', 'the gate report exceeds its bounds; the envelope is too wide to audit') };
  }
  const gated = FailureEnvelope.safeParse(asJson(clone));
  if (!gated.success) {
    return { ...result, refusal: new TracemendError('PRIVACY_BLOCKED', `the gated envelope breaks its schema: ${formatIssues(gated.error.issues)}`) };
  }
  return { ...result, gated: gated.data };
}

/** A decision as the gated envelope and the audit record hold it: the contract rule stays in the preview. */
function recorded({ pattern: _pattern, type: _type, ...decision }: GateDecision): PrivacyDecision {
  return decision;
}

function currentTokenizer(key: TokenKey | TokenKeyring): Tokenizer {
  return isTokenKeyring(key) ? createKeyring(key).current : createTokenizer(key);
}

/** Gates an envelope and also returns the hashes of every raw string it removed, for `scanForLeaks`. */
export async function gateEnvelopeDetailed(input: GateInput): Promise<GateResult> {
  const tokenLog = createTokenLog(currentTokenizer(input.key));
  const { tokenizer } = tokenLog;
  const run = evaluate(input, tokenizer);
  if (run.refusal !== undefined || run.gated === undefined) {
    await refuse(input.audit, run.base, run.refusal ?? new TracemendError('PRIVACY_BLOCKED', 'the gate produced no envelope'));
    throw new Error('unreachable');
  }
  const { contract } = run;
  const decisions = run.decisions.map(recorded);
  const { droppedUnknown, detectorHits } = run;

  const privacy = (audit: AuditReference) => ({
    contract: { id: contract.service, version: contract.version },
    decisions,
    droppedUnknown,
    detectorHits,
    tokenKeyId: tokenizer.keyId,
    audit,
  });
  // Validate before the audit record says "released".
  parseContract(
    GatedEnvelope,
    { schemaVersion: 1, envelope: run.gated, privacy: privacy({ auditId: input.audit.auditId, sequence: 0, recordHash: '0'.repeat(64) }) },
    'GatedEnvelope',
  );
  const audit = await input.audit.append({ ...run.base, tokenKeyId: tokenizer.keyId, decisions, droppedUnknown, detectorHits, outcome: 'released' });
  const gated = parseContract(GatedEnvelope, { schemaVersion: 1, envelope: run.gated, privacy: privacy(audit) }, 'GatedEnvelope');
  // A value the gate releases somewhere (an allowed header, a route) is no secret elsewhere.
  const released = new Set<string>();
  const collect = (value: unknown): void => {
    if (typeof value === 'string') released.add(value);
    else if (Array.isArray(value)) value.forEach(collect);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(collect);
  };
  collect(gated.envelope);
  const removed = [...run.rawValues].filter((value) => !released.has(value));
  const releasedText = JSON.stringify(gated.envelope);
  const tokenized = tokenLog.mappings().filter((mapping) => releasedText.includes(JSON.stringify(mapping.token).slice(1, -1)));
  const hashOf = rawValueHasher(isTokenKeyring(input.key) ? input.key.current : input.key);
  // The egress guard learns the released tokens too, so that it lets them (and no look-alike) through.
  const issuedTokens = tokenized.flatMap((mapping) => (isValueLikeTokenType(mapping.type) ? [issuedTokenInput(mapping.type, mapping.token)] : []));
  return { gated, rawValueHashes: [...new Set([...removed, ...issuedTokens].map(hashOf))].sort(), tokenized };
}

/**
 * The gate's decision for every field path of an envelope, as the gate would make it, for an operator
 * checking a contract (`tracemend gate --dry-run`). It writes no audit record and keeps no token: it
 * tokenizes under a throwaway key and returns paths, actions, rules and detector counts, never a
 * value. A contract for another service is an error (DATA_CONTRACT_MISSING); any other refusal is
 * reported as outcome `blocked` with the decisions that led there.
 */
export function previewGate(input: Pick<GateInput, 'envelope' | 'contract'>): GatePreview {
  const run = evaluate(input, createTokenizer({ id: 'preview', secret: randomBytes(32) }));
  if (run.refusal?.code === 'DATA_CONTRACT_MISSING') throw run.refusal;
  return {
    service: run.base.service,
    contract: { id: run.contract.service, version: run.contract.version },
    outcome: run.refusal === undefined ? 'released' : 'blocked',
    ...(run.refusal === undefined ? {} : { reason: run.refusal.message }),
    decisions: run.decisions,
    droppedUnknown: run.droppedUnknown,
    detectorHits: run.detectorHits,
  };
}

/**
 * The privacy gate: applies the service's data contract (default deny), runs the detectors over what
 * survives, tokenizes with the caller's key and appends an audit record. Refuses with
 * DATA_CONTRACT_MISSING when the contract is for another service and PRIVACY_BLOCKED when it would
 * allow a secret field or the result cannot be audited.
 */
export async function gateEnvelope(input: GateInput): Promise<GatedEnvelope> {
  return (await gateEnvelopeDetailed(input)).gated;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparePrivacyDecisions(a: PrivacyDecision, b: PrivacyDecision): number {
  return (
    compareText(a.path, b.path) ||
    compareText(a.basis, b.basis) ||
    compareText(a.detector ?? '', b.detector ?? '') ||
    compareText(a.action, b.action)
  );
}
