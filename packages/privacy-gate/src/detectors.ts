import { isIPv6 } from 'node:net';
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
  /** A cheap test that must pass before `find` runs; most texts hold none of the literal prefixes. */
  hint?: RegExp;
  find(text: string): { start: number; end: number }[];
}

function regexFinder(source: RegExp, group = 0, accept?: (match: RegExpExecArray) => boolean) {
  // Compiled once: `matchAll` iterates over its own copy, so the shared instance keeps no state between calls.
  // Match indices (`d`) cost time on every match, so they are asked for only when a group is reported.
  const flags = group === 0 || source.flags.includes('d') ? source.flags : `${source.flags}d`;
  const regex = new RegExp(source.source, flags);
  return (text: string): { start: number; end: number }[] => {
    const found: { start: number; end: number }[] = [];
    for (const match of text.matchAll(regex)) {
      if (accept && !accept(match)) continue;
      const span: readonly [number, number] | undefined = group === 0 ? [match.index, match.index + match[0].length] : match.indices?.[group];
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

// Digits inside a longer word (hex ids, hashes) are not card numbers.
const CARD = /(?<![\w.])[3-6]\d(?:[ -]?\d){11,17}(?!\w)/g;
// The digit groups after an IBAN's country and check digits are part of that IBAN, valid or not.
const AFTER_IBAN_PREFIX = /[A-Z]{2}\d{2} ?$/;
function findCards(text: string): { start: number; end: number }[] {
  const found: { start: number; end: number }[] = [];
  for (const match of text.matchAll(CARD)) {
    if (AFTER_IBAN_PREFIX.test(text.slice(Math.max(0, match.index - 5), match.index))) continue;
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

// Candidate runs of hex groups and colons (with an optional IPv4 tail); `isIPv6` decides.
const IPV6 = /(?<![\w:.])(?=[0-9A-Fa-f:]*:[0-9A-Fa-f]*:)[0-9A-Fa-f:]{2,39}(?:(?<=:)(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])/g;

/** IPv6 addresses that are never personal: loopback, unspecified, the documentation prefix 2001:db8::/32 and link-local. */
export function isNonPersonalIpv6(address: string): boolean {
  const lower = address.toLowerCase();
  return lower === '::1' || lower === '::' || /^2001:0?db8:/.test(lower) || /^fe[89ab][0-9a-f]?:/.test(lower);
}

function acceptIpv6(match: RegExpExecArray): boolean {
  const address = match[0];
  // Bare `::`-joined words and clock times are not addresses: require 3+ groups or a `::` with hex beside it.
  if (!isIPv6(address) || isNonPersonalIpv6(address)) return false;
  return (address.match(/:/g) ?? []).length >= 2 && /[0-9a-f]/i.test(address.replace(/:/g, ''));
}

const IBAN_LENGTHS: Record<string, number> = {
  AT: 20, BE: 16, CH: 21, CZ: 24, DE: 22, DK: 18, ES: 24, FI: 18, FR: 27, GB: 22, IE: 22, IT: 27, LU: 20, NL: 18,
  NO: 15, PL: 28, PT: 25, SE: 24,
};

/** ISO 13616 check: move the first four characters to the end, letters to numbers, remainder mod 97 is 1. */
export function ibanValid(candidate: string): boolean {
  const iban = candidate.replace(/ /g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  const length = IBAN_LENGTHS[iban.slice(0, 2)];
  if (length !== undefined && iban.length !== length) return false;
  let remainder = 0;
  for (const char of iban.slice(4) + iban.slice(0, 4)) {
    const value = char >= 'A' ? String(char.charCodeAt(0) - 55) : char;
    for (const digit of value) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}


const IBAN = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])/g;

// Areas 000, 666 and 900–999, group 00 and serial 0000 are never issued; two numbers are well-known examples.
const SSN = /(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])/g;
const SSN_EXAMPLES = new Set(['078-05-1120', '219-09-9999', '123-45-6789']);

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

// Subresource-integrity and content hashes (`sha512-<base64>`): digests, not secrets.
const SRI_OR_HASH_PREFIX = /^(?:sha(?:1|256|384|512)|md5)[-_]/i;

/** True when `candidate` is standard base64 of printable words (`b3JkZXIgY2FydA==`), which carries no secret. */
function isBase64OfText(candidate: string): boolean {
  if (candidate.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(candidate)) return false;
  const decoded = Buffer.from(candidate, 'base64').toString('latin1');
  return /^[A-Za-z]+(?:[ .,:;'-][A-Za-z]+)*[.!?]?$/.test(decoded);
}

/** The base64 run around a match (the candidate pattern stops at `/`, so a digest can span several candidates). */
function enclosingBase64(match: RegExpExecArray): string {
  const text = match.input;
  let start = match.index;
  let end = match.index + match[0].length;
  while (start > 0 && /[A-Za-z0-9+/=_-]/.test(text[start - 1] ?? '')) start--;
  while (end < text.length && /[A-Za-z0-9+/=_-]/.test(text[end] ?? '')) end++;
  return text.slice(start, end);
}

function isDigestOrEncodedText(match: RegExpExecArray): boolean {
  const run = enclosingBase64(match);
  return SRI_OR_HASH_PREFIX.test(run) || isBase64OfText(run);
}

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
    name: 'pem-private-key', hint: /PRIVATE KEY/,
    kind: 'secret',
    find: regexFinder(/-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|$)/g),
  },
  { name: 'url-credentials', hint: /:\/\//, kind: 'secret', find: regexFinder(/\b[a-z][a-z0-9+.-]*:\/\/([^\s/?#@:]+:[^\s/?#@]+)@/gi, 1) },
  {
    name: 'jwt', hint: /eyJ/,
    kind: 'secret',
    find: regexFinder(/\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g),
  },
  { name: 'stripe-key', hint: /_live_|_test_|whsec_/, kind: 'secret', find: regexFinder(/\b(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{8,}|whsec_[A-Za-z0-9]{24,})/g) },
  {
    name: 'github-token', hint: /gh[pousr]_|github_pat_/,
    kind: 'secret',
    find: regexFinder(/\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})/g),
  },
  { name: 'aws-access-key', hint: /AKIA|ASIA/, kind: 'secret', find: regexFinder(/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g) },
  {
    name: 'aws-secret-key', hint: /secret_?(?:access_?)?key/i,
    kind: 'secret',
    find: regexFinder(/\b(?:aws_?secret_?(?:access_?)?key|SecretAccessKey)\b["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/gi, 1),
  },
  { name: 'gcp-api-key', hint: /AIza/, kind: 'secret', find: regexFinder(/\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g) },
  {
    name: 'gcp-service-account', hint: /private_key_id/,
    kind: 'secret',
    find: regexFinder(/"private_key_id"\s*:\s*"([0-9a-f]{40})"/g, 1),
  },
  {
    name: 'slack-webhook', hint: /hooks\.slack\.com/,
    kind: 'secret',
    find: regexFinder(/\bhttps:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_/]{20,}/g),
  },
  { name: 'sendgrid-key', hint: /SG\./, kind: 'secret', find: regexFinder(/\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g) },
  { name: 'twilio-key', hint: /SK[0-9a-f]/, kind: 'secret', find: regexFinder(/\bSK[0-9a-f]{32}\b/g) },
  { name: 'npm-token', hint: /npm_/, kind: 'secret', find: regexFinder(/\bnpm_[A-Za-z0-9]{36}\b/g) },
  { name: 'slack-token', hint: /xox/, kind: 'secret', find: regexFinder(/\bxox[abpors]-[A-Za-z0-9-]{10,}/g) },
  { name: 'bearer', hint: /bearer/i, kind: 'secret', find: regexFinder(/\bBearer\s+([A-Za-z0-9\-._~+/]+=*)/gi, 1) },
  { name: 'basic-auth', hint: /Basic/, kind: 'secret', find: regexFinder(/\bBasic\s+([A-Za-z0-9+/]{8,}=*)/g, 1) },
  {
    name: 'credential-assignment',
    kind: 'secret',
    find: regexFinder(
      /\b(?:pass(?:word|wd)?|pwd|secret|api[_-]?key|access[_-]?token|client[_-]?secret)\b["']?\s*[:=]\s*("[^"]+"|'[^']+'|[^\s,;&"']+)/gi,
      1,
    ),
  },
  {
    name: 'email', hint: /@/,
    kind: 'pii',
    tokenType: 'email',
    find: regexFinder(EMAIL, 0, (match) => !EMAIL_TOKEN.test(match[0])),
  },
  {
    name: 'iban', hint: /[A-Z]{2}\d\d/,
    kind: 'pii',
    find: regexFinder(IBAN, 0, (match) => ibanValid(match[0])),
  },
  { name: 'ssn', hint: /\d-\d/, kind: 'pii', find: regexFinder(SSN, 0, (match) => !SSN_EXAMPLES.has(match[0])) },
  { name: 'phone', hint: /\d/, kind: 'pii', tokenType: 'phone', find: findPhones },
  { name: 'card', hint: /\d/, kind: 'pii', tokenType: 'card', find: findCards },
  { name: 'ipv4', hint: /\d\./, kind: 'pii', tokenType: 'ip', find: regexFinder(IPV4, 0, (match) => !isNonPersonalIpv4(match[0])) },
  { name: 'ipv6', hint: /[0-9A-Fa-f]:[0-9A-Fa-f]{0,4}:/, kind: 'pii', tokenType: 'ip', find: regexFinder(IPV6, 0, acceptIpv6) },
  {
    name: 'high-entropy',
    kind: 'secret',
    find: regexFinder(ENTROPY_CANDIDATE, 0, (match) => isHighEntropy(match[0]) && !isDigestOrEncodedText(match)),
  },
];

/** Names of every detector, in priority order. */
export const DETECTOR_NAMES: readonly string[] = DETECTORS.map((detector) => detector.name);

/** Names of the detectors that find personal data rather than secrets. */
export const PII_DETECTOR_NAMES: readonly string[] = DETECTORS.filter((detector) => detector.kind === 'pii').map((detector) => detector.name);

/** Runs every detector over `text`; returns non-overlapping findings sorted by position. */
export function detect(text: string): DetectorMatch[] {
  const chosen: DetectorMatch[] = [];
  for (const detector of DETECTORS) {
    if (detector.hint && !detector.hint.test(text)) continue;
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
