import { CARD_TOKEN_PREFIX, luhnValid, type Tokenizer, type TokenType } from './tokenize';

/** Personal data is replaced by a format-preserving token; a secret by `[redacted:<detector>]`. */
export type DetectorKind = 'pii' | 'secret';

/** One finding in a text: where it is and which detector saw it, never the value. */
export interface DetectorMatch {
  detector: string;
  kind: DetectorKind;
  start: number;
  end: number;
}

interface Detector {
  name: string;
  kind: DetectorKind;
  tokenType?: TokenType;
  find(text: string): { start: number; end: number }[];
}

function regexFinder(source: RegExp, group = 0, accept?: (match: RegExpExecArray) => boolean) {
  return (text: string): { start: number; end: number }[] => {
    const regex = new RegExp(source.source, source.flags.includes('d') ? source.flags : `${source.flags}d`);
    const found: { start: number; end: number }[] = [];
    for (const match of text.matchAll(regex)) {
      if (accept && !accept(match)) continue;
      const span = match.indices?.[group];
      if (span) found.push({ start: span[0], end: span[1] });
    }
    return found;
  };
}

/** Email tokens the gate emits (`u<hex8>@example.com`): not findings. */
export const EMAIL_TOKEN = /^u[0-9a-f]{8}@example\.com$/;
/** Phone tokens the gate emits (+1 NPA 555 01XX, fictional by NANP rule): not findings. */
const PHONE_TOKEN_DIGITS = /^1[2-9]\d{2}55501\d{2}$/;

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const PHONE_INTERNATIONAL = /\+[1-9][\d\s().-]{6,24}\d/g;
const PHONE_NATIONAL = /(?<![\w+])\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?!\d)/g;

function findPhones(text: string): { start: number; end: number }[] {
  const found: { start: number; end: number }[] = [];
  for (const match of text.matchAll(PHONE_INTERNATIONAL)) {
    let candidate = match[0];
    // Trailing groups of digits may belong to the surrounding text: trim until 8–15 digits remain.
    for (;;) {
      const digits = candidate.replace(/\D/g, '');
      if (digits.length <= 15) break;
      const trimmed = candidate.replace(/[\s().-]*\d+$/, '');
      if (trimmed === candidate || !/\d$/.test(trimmed)) {
        candidate = candidate.slice(0, 16);
        break;
      }
      candidate = trimmed;
    }
    const digits = candidate.replace(/\D/g, '');
    if (digits.length < 8 || digits.length > 15 || PHONE_TOKEN_DIGITS.test(digits)) continue;
    found.push({ start: match.index, end: match.index + candidate.length });
  }
  for (const match of text.matchAll(PHONE_NATIONAL)) found.push({ start: match.index, end: match.index + match[0].length });
  return found;
}

const CARD = /(?<![\d.])[3-6]\d(?:[ -]?\d){11,17}(?![\d])/g;
function findCards(text: string): { start: number; end: number }[] {
  const found: { start: number; end: number }[] = [];
  for (const match of text.matchAll(CARD)) {
    // A grouped number may run into the following digits: try each group boundary, longest first.
    const ends = [match[0].length];
    for (let i = match[0].length - 1; i > 0; i--) if (/[ -]/.test(match[0][i] ?? '')) ends.push(i);
    for (const end of ends) {
      const digits = match[0].slice(0, end).replace(/\D/g, '');
      if (digits.length < 13 || digits.length > 19) continue;
      if (luhnValid(digits) && !digits.startsWith(CARD_TOKEN_PREFIX)) {
        found.push({ start: match.index, end: match.index + end });
        break;
      }
    }
  }
  return found;
}

const IPV4 = /(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)/g;

/** Addresses that are never personal: loopback, unspecified, broadcast and the documentation ranges. */
export function isNonPersonalIpv4(address: string): boolean {
  return (
    address.startsWith('127.') ||
    address === '0.0.0.0' ||
    address === '255.255.255.255' ||
    /^(?:192\.0\.2|198\.51\.100|203\.0\.113)\./.test(address)
  );
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

// `/` is left out so URL paths split into words; a secret containing `/` is still caught piecewise.
// Base64 padding may end a run; an `=` inside one separates `key=value` (`fingerprint=<hex>` is two words).
const ENTROPY_CANDIDATE = /[A-Za-z0-9+_-]{20,}={0,2}/g;

/** True for strings that look random but are not secrets: hex ids and hashes, UUIDs, emitted tokens. */
function isStopListed(candidate: string): boolean {
  const bare = candidate.replace(/[-_]/g, '');
  if (/^[0-9a-f]+$/i.test(bare)) return true;
  if (/^tok_[0-9a-f]{12}$/.test(candidate)) return true;
  return false;
}

/** A high-entropy run: at least 20 chars, letters and digits mixed, entropy above the threshold, not stop-listed. */
export function isHighEntropy(candidate: string): boolean {
  if (candidate.length < 20 || isStopListed(candidate)) return false;
  const lower = /[a-z]/.test(candidate);
  const upper = /[A-Z]/.test(candidate);
  const digit = /\d/.test(candidate);
  if (!digit || !(lower || upper)) return false;
  const entropy = shannonEntropy(candidate);
  if (lower && upper) return entropy >= 3.5;
  return candidate.length >= 32 && entropy >= 3.8;
}

// Order is priority: when two findings overlap, the earlier detector in this list wins.
const DETECTORS: readonly Detector[] = [
  {
    name: 'pem-private-key',
    kind: 'secret',
    find: regexFinder(/-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|$)/g),
  },
  { name: 'url-credentials', kind: 'secret', find: regexFinder(/\b[a-z][a-z0-9+.-]*:\/\/([^\s/?#@:]+:[^\s/?#@]+)@/gi, 1) },
  {
    name: 'jwt',
    kind: 'secret',
    find: regexFinder(/\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g),
  },
  { name: 'stripe-key', kind: 'secret', find: regexFinder(/\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{8,}/g) },
  {
    name: 'github-token',
    kind: 'secret',
    find: regexFinder(/\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})/g),
  },
  { name: 'aws-access-key', kind: 'secret', find: regexFinder(/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g) },
  { name: 'slack-token', kind: 'secret', find: regexFinder(/\bxox[abpors]-[A-Za-z0-9-]{10,}/g) },
  { name: 'bearer', kind: 'secret', find: regexFinder(/\bBearer\s+([A-Za-z0-9\-._~+/]+=*)/gi, 1) },
  { name: 'basic-auth', kind: 'secret', find: regexFinder(/\bBasic\s+([A-Za-z0-9+/]{8,}=*)/g, 1) },
  {
    name: 'credential-assignment',
    kind: 'secret',
    find: regexFinder(
      /\b(?:pass(?:word|wd)?|pwd|secret|api[_-]?key|access[_-]?token|client[_-]?secret)\b["']?\s*[:=]\s*("[^"]+"|'[^']+'|[^\s,;&"']+)/gi,
      1,
    ),
  },
  {
    name: 'email',
    kind: 'pii',
    tokenType: 'email',
    find: regexFinder(EMAIL, 0, (match) => !EMAIL_TOKEN.test(match[0])),
  },
  { name: 'phone', kind: 'pii', tokenType: 'phone', find: findPhones },
  { name: 'card', kind: 'pii', tokenType: 'card', find: findCards },
  { name: 'ipv4', kind: 'pii', tokenType: 'ip', find: regexFinder(IPV4, 0, (match) => !isNonPersonalIpv4(match[0])) },
  {
    name: 'high-entropy',
    kind: 'secret',
    find: regexFinder(ENTROPY_CANDIDATE, 0, (match) => isHighEntropy(match[0])),
  },
];

/** Names of every detector, in priority order. */
export const DETECTOR_NAMES: readonly string[] = DETECTORS.map((detector) => detector.name);

/** Runs every detector over `text`; returns non-overlapping findings sorted by position. */
export function detect(text: string): DetectorMatch[] {
  const chosen: DetectorMatch[] = [];
  for (const detector of DETECTORS) {
    for (const span of detector.find(text)) {
      if (span.end <= span.start) continue;
      if (chosen.some((taken) => span.start < taken.end && taken.start < span.end)) continue;
      chosen.push({ detector: detector.name, kind: detector.kind, start: span.start, end: span.end });
    }
  }
  return chosen.sort((a, b) => a.start - b.start);
}

const TOKEN_TYPE_OF = new Map(DETECTORS.map((detector) => [detector.name, detector.tokenType]));

/** Replaces every finding in place (personal data by its token, secrets by `[redacted:<detector>]`); `found` holds the replaced text for the egress set. */
export function redactText(text: string, tokenizer: Tokenizer): { text: string; hits: Map<string, number>; found: string[] } {
  const matches = detect(text);
  const hits = new Map<string, number>();
  const found: string[] = [];
  if (matches.length === 0) return { text, hits, found };
  let out = '';
  let cursor = 0;
  for (const match of matches) {
    const tokenType = TOKEN_TYPE_OF.get(match.detector);
    const value = text.slice(match.start, match.end);
    found.push(value);
    out += text.slice(cursor, match.start);
    out += tokenType === undefined ? `[redacted:${match.detector}]` : tokenizer.token(value, tokenType);
    cursor = match.end;
    hits.set(match.detector, (hits.get(match.detector) ?? 0) + 1);
  }
  return { text: out + text.slice(cursor), hits, found };
}

const SECRET_KEY_NAME = /(?:^|[^a-z])(?:pass(?:word|wd)?|pwd|secret|token|api[-_]?key|private[-_]?key|credentials?|authorization|cookie|session)(?:$|[^a-z])/i;

/** True for key names whose string values are credentials whatever they look like (`password`, `x-api-key`, `paymentToken`). */
export function isSecretKeyName(key: string): boolean {
  const spaced = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2');
  return SECRET_KEY_NAME.test(spaced);
}
