import { createHmac } from 'node:crypto';
import type { LineBlock, LineGuard } from '@tracemend/telemetry';
import { canonicalToken, detect, type DetectOptions, type IssuedTokenCheck, type ValueLikeTokenType } from './detectors';
import { formatPath } from './paths';
import type { TokenKey } from './tokenize';

/** One egress finding: which detector and where — never the value. */
export interface LeakFinding {
  detector: string;
  offset: number;
  length: number;
}

/** The keyed hash of one raw value (see `rawValueHasher`). */
export type RawValueHasher = (value: string) => string;

/**
 * The raw-value hashes a scan checks against, with the keyed hash they were made with: from
 * `knownRawValues`, or the registry of the incidents in flight.
 */
export interface KnownRawValueHashes {
  has(hash: string): boolean;
  /** The hash of a candidate text under the same key as the held hashes. */
  hashOf: RawValueHasher;
  readonly size: number;
  /** Changes whenever hashes are added, so a caller may cache which texts hold none. */
  readonly version?: number;
}

const RAW_VALUE_HASH_CONTEXT = 'tracemend raw-value hash v1';

/**
 * HMAC-SHA256 (hex) of a raw value under a subkey of the token key: what `gateEnvelopeDetailed`
 * reports for removed values and the egress guard compares against. Keyed, so the hashes kept in the
 * evidence store cannot confirm a guessed email or name without the token key. Hashes made under one
 * key match only under that key: after a rotation, restart workers so in-flight hashes are remade.
 */
export function rawValueHasher(key: TokenKey): RawValueHasher {
  const subkey = createHmac('sha256', key.secret).update(RAW_VALUE_HASH_CONTEXT).digest();
  return (value) => createHmac('sha256', subkey).update(value).digest('hex');
}

/**
 * What an issued token is hashed as among the raw-value hashes: a domain tag, the type and the token's
 * canonical form, so no text the guard hashes while looking for raw values (runs of words) can equal it.
 */
export function issuedTokenInput(type: ValueLikeTokenType, token: string): string {
  return `\u0000issued-token\u001f${type}\u001f${canonicalToken(type, token)}`;
}

/** Whether a token type is one whose tokens look like real values (and so must be confirmed by the registry). */
export function isValueLikeTokenType(type: string): type is ValueLikeTokenType {
  return type === 'email' || type === 'phone' || type === 'card';
}

/** The keyed token registry's answer, from the hashes the gate reported: did the gate issue this token? */
export function issuedTokenCheck(known: KnownRawValueHashes): IssuedTokenCheck {
  return (type, value) => known.has(known.hashOf(issuedTokenInput(type, value)));
}

function detectOptions(known: KnownRawValueHashes | undefined): DetectOptions {
  return known === undefined ? {} : { issuedTokens: issuedTokenCheck(known) };
}

/** Known raw values from a list of their hashes (e.g. as the evidence store keeps them for one incident). */
export function knownRawValues(hashes: Iterable<string>, hashOf: RawValueHasher): KnownRawValueHashes {
  const set = new Set(hashes);
  return { has: (hash) => set.has(hash), hashOf, size: set.size };
}

const WORD = /[^\s"'`,;()[\]{}<>]+/g;
const MAX_WORDS_PER_VALUE = 4;
/** The gate keeps raw values of at least this many characters (shorter ones would match everywhere), so shorter runs are not hashed. */
const MIN_RAW_VALUE_LENGTH = 4;

/**
 * Scans outgoing text (an LLM prompt, a PR body, a test file, a log line) for anything the gate
 * would not have let through, plus any exact raw value whose hash the gate reported. An empty result
 * means the text may leave; callers block on any finding.
 */
export function scanForLeaks(text: string, options: { knownRawValueHashes?: KnownRawValueHashes } = {}): LeakFinding[] {
  const findings: LeakFinding[] = detect(text, detectOptions(options.knownRawValueHashes)).map((match) => ({
    detector: match.detector,
    offset: match.start,
    length: match.end - match.start,
  }));
  const known = options.knownRawValueHashes;
  if (known !== undefined && known.size > 0) findKnownRawValues(text, known, findings);
  return findings.length > 1 ? findings.sort((a, b) => a.offset - b.offset || b.length - a.length) : findings;
}

/**
 * `text` with every leak `scanForLeaks` finds replaced by `[withheld:<rule>]`, so a message keeps its
 * readable parts (a stage's reason, an error's wording) and loses only what the guard would block.
 */
export function redactLeaks(text: string, options: { knownRawValueHashes?: KnownRawValueHashes } = {}): { text: string; rules: string[] } {
  const findings = scanForLeaks(text, options);
  if (findings.length === 0) return { text, rules: [] };
  let out = '';
  let cursor = 0;
  const rules = new Set<string>();
  // Sorted by offset, longest first at one offset: a finding inside one already replaced is covered.
  for (const finding of findings) {
    const end = finding.offset + finding.length;
    if (end <= cursor) continue;
    out += `${text.slice(cursor, Math.max(cursor, finding.offset))}[withheld:${finding.detector}]`;
    cursor = end;
    rules.add(finding.detector);
  }
  return { text: out + text.slice(cursor), rules: [...rules] };
}

/** Adds a `known-raw-value` finding for every run of up to four words whose hash is known. */
function findKnownRawValues(text: string, known: KnownRawValueHashes, findings: LeakFinding[]): void {
  const starts: number[] = [];
  const ends: number[] = [];
  WORD.lastIndex = 0;
  for (let match = WORD.exec(text); match !== null; match = WORD.exec(text)) {
    starts.push(match.index);
    ends.push(match.index + match[0].length);
  }
  for (let i = 0; i < starts.length; i++) {
    const start = starts[i] ?? 0;
    for (let j = i; j < Math.min(starts.length, i + MAX_WORDS_PER_VALUE); j++) {
      const end = ends[j] ?? 0;
      if (end - start < MIN_RAW_VALUE_LENGTH) continue;
      if (known.has(known.hashOf(text.slice(start, end)))) findings.push({ detector: 'known-raw-value', offset: start, length: end - start });
    }
  }
}

/**
 * The raw-value hashes of the incidents in flight, held in the worker process so the log guard can
 * block a line that repeats a value the gate removed. Only hashes are kept, never values. Each entry is
 * keyed by the gate run that produced it (its audit record hash) and the registry is bounded: when it
 * is full, the entry added or refreshed longest ago goes first.
 */
export interface RawValueRegistry extends KnownRawValueHashes {
  /** Adds (or refreshes) the hashes of one gate run. */
  add(key: string, hashes: readonly string[]): void;
  /** Drops one gate run's hashes, for when its incident has ended. */
  forget(key: string): void;
  /** True when the hashes of this gate run are held. */
  holds(key: string): boolean;
  /** How many gate runs are held. */
  readonly entries: number;
}

/** The key and limits of a `RawValueRegistry`; the default limits hold about 30 MB of hashes at most. */
export interface RawValueRegistryOptions {
  /** The hash the gate made the held hashes with: `rawValueHasher` of the token key. */
  hashOf: RawValueHasher;
  maxEntries?: number;
  maxHashes?: number;
}

/** Creates an in-process `RawValueRegistry` (see there). */
export function createRawValueRegistry(options: RawValueRegistryOptions): RawValueRegistry {
  const maxEntries = options.maxEntries ?? 1000;
  const maxHashes = options.maxHashes ?? 200_000;
  const byKey = new Map<string, readonly string[]>();
  const counts = new Map<string, number>();
  let total = 0;
  let version = 0;

  const forget = (key: string): void => {
    const hashes = byKey.get(key);
    if (hashes === undefined) return;
    byKey.delete(key);
    total -= hashes.length;
    for (const hash of hashes) {
      const count = (counts.get(hash) ?? 1) - 1;
      if (count <= 0) counts.delete(hash);
      else counts.set(hash, count);
    }
  };

  return {
    add(key, hashes) {
      forget(key);
      const unique = [...new Set(hashes)].slice(0, maxHashes);
      // Map order is insertion order: the first key is the one added or refreshed longest ago.
      while (byKey.size > 0 && (byKey.size >= maxEntries || total + unique.length > maxHashes)) {
        const oldest = byKey.keys().next().value;
        if (oldest === undefined) break;
        forget(oldest);
      }
      byKey.set(key, unique);
      total += unique.length;
      version++;
      for (const hash of unique) counts.set(hash, (counts.get(hash) ?? 0) + 1);
    },
    forget,
    holds: (key) => byKey.has(key),
    has: (hash) => counts.has(hash),
    hashOf: options.hashOf,
    get size() {
      return counts.size;
    },
    get entries() {
      return byKey.size;
    },
    get version() {
      return version;
    },
  };
}

const JSON_ESCAPE = /\\(?:u([0-9a-fA-F]{4})|(["\\/bfnrt]))/g;
const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * The line with every JSON escape replaced by the character it stands for. Each string of the line
 * then reads exactly as it does once parsed, between `"` (which no detector counts as part of a value):
 * a value a detector finds on its own is found here too, and `\t4111…` cannot hide a card behind a `t`.
 */
function unescapeJsonText(line: string): string {
  if (!line.includes('\\')) return line;
  return line.replace(JSON_ESCAPE, (_escape, hex: string | undefined, simple: string | undefined) =>
    hex !== undefined ? String.fromCharCode(Number.parseInt(hex, 16)) : (SIMPLE_ESCAPES[simple ?? ''] ?? ''),
  );
}

/** Fields pino itself sets on every line; they never carry a value from an incident. */
const LOGGER_FIELDS = new Set(['level', 'time', 'pid', 'hostname']);
const CLEAN_CACHE_LIMIT = 10_000;

/**
 * Whether any key or string value of a parsed line holds a known raw value. Texts found clean are
 * remembered (they hold no raw value, so remembering them keeps none) until the hashes change: most
 * log values repeat (messages, stage names, ids bound on every line), so most lookups cost no hashing.
 */
function createKnownValueCheck(known: KnownRawValueHashes): (parsed: unknown) => boolean {
  const clean = new Set<string>();
  let version = known.version;
  const holdsKnown = (text: string): boolean => {
    if (text.length < MIN_RAW_VALUE_LENGTH || clean.has(text)) return false;
    const findings: LeakFinding[] = [];
    findKnownRawValues(text, known, findings);
    if (findings.length > 0) return true;
    if (version !== undefined) {
      if (clean.size >= CLEAN_CACHE_LIMIT) clean.clear();
      clean.add(text);
    }
    return false;
  };
  const visit = (value: unknown, top: boolean): boolean => {
    if (typeof value === 'string') return holdsKnown(value);
    if (typeof value === 'number') return holdsKnown(String(value));
    if (Array.isArray(value)) return value.some((item) => visit(item, false));
    if (value === null || typeof value !== 'object') return false;
    for (const [key, item] of Object.entries(value)) {
      if (top && LOGGER_FIELDS.has(key)) continue;
      if (holdsKnown(key) || visit(item, false)) return true;
    }
    return false;
  };
  return (parsed) => {
    if (known.version !== version) {
      clean.clear();
      version = known.version;
    }
    return visit(parsed, true);
  };
}

export interface LogLineGuardOptions {
  knownRawValueHashes?: KnownRawValueHashes;
  /**
   * Values the operator configured for the process itself, such as the Temporal address: a private
   * IPv4 address there is infrastructure, not a person's address, and a line naming it may be written.
   * Only whole occurrences of at least 4 characters are exempt.
   */
  operationalValues?: readonly string[];
}

const MIN_OPERATIONAL_LENGTH = 4;

/** The line with every occurrence of an operational value blanked out (same length, stays valid JSON). */
function maskOperationalValues(line: string, values: readonly string[]): string {
  let masked = line;
  for (const value of values) if (masked.includes(value)) masked = masked.split(value).join('_'.repeat(value.length));
  return masked;
}

/**
 * The egress guard for log lines, for `createLogger({ lineGuard })`. Detectors run once over the whole
 * (unescaped) line; the known raw values are looked up in each key and string value of the parsed line.
 * A line with no hit passes unchanged. Otherwise every key and value is scanned on its own, which names
 * the JSON path of each finding and lets a censored `"password":"[redacted]"` pass. A line that is not
 * JSON is judged as one text at path `$`.
 */
export function createLogLineGuard(options: LogLineGuardOptions = {}): LineGuard {
  const known = options.knownRawValueHashes;
  const holdsKnownValue = known === undefined ? undefined : createKnownValueCheck(known);
  const operational = [...new Set(options.operationalValues ?? [])].filter((value) => value.length >= MIN_OPERATIONAL_LENGTH).sort((a, b) => b.length - a.length);
  return (written) => {
    const line = operational.length === 0 ? written : maskOperationalValues(written, operational);
    const detected = detect(unescapeJsonText(line), detectOptions(known)).length > 0;
    const checkKnown = holdsKnownValue !== undefined && known !== undefined && known.size > 0;
    if (!detected && !checkKnown) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      const findings = scanForLeaks(line, options);
      return findings.length === 0 ? undefined : [...new Set(findings.map((finding) => finding.detector))].map((rule) => ({ rule, path: '$' }));
    }
    if (!detected && !holdsKnownValue?.(parsed)) return undefined;
    const blocks: LineBlock[] = [];
    collectBlocks(parsed, ['$'], options, blocks);
    return blocks.length > 0 ? blocks : undefined;
  };
}

function collectBlocks(value: unknown, path: string[], options: { knownRawValueHashes?: KnownRawValueHashes }, blocks: LineBlock[]): void {
  if (typeof value === 'string' || typeof value === 'number') {
    addBlocks(String(value), path, options, blocks);
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => collectBlocks(item, [...path, String(index)], options, blocks));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      // A key with a finding is itself blocked, and is written `*` in every path through it.
      const keyBlocked = addBlocks(key, [...path, '*'], options, blocks);
      collectBlocks(item, [...path, keyBlocked ? '*' : key], options, blocks);
    }
  }
}

function addBlocks(text: string, path: string[], options: { knownRawValueHashes?: KnownRawValueHashes }, blocks: LineBlock[]): boolean {
  const findings = scanForLeaks(text, options);
  if (findings.length === 0) return false;
  const where = formatPath(path);
  for (const rule of new Set(findings.map((finding) => finding.detector))) blocks.push({ rule, path: where });
  return true;
}
