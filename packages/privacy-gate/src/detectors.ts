import { isIPv6 } from 'node:net';
import { BASE64_MIN_LENGTH, findEncodedSpans, isBase64FileAround, isBase64TextAround, MAX_DECODE_DEPTH } from './decode';
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

/**
 * What one pass over a text learns before any detector runs: how many ASCII digits it holds, which
 * uppercase letters and marker characters occur and where the long runs of token characters are.
 * Every detector states a gate over this profile that is a necessary condition of its pattern, so a
 * text that cannot hold the pattern is skipped without running a regex (most log lines hold no `@`,
 * no `J` for a JWT, no `AKIA`, no long run).
 */
export interface TextProfile {
  digits: number;
  /** The most digits in one sequence where single spaces or dashes between digits do not break it (grouped cards, SSNs). */
  digitRun: number;
  /** The most groups of digits joined by single dots (`81.224.17.5` has 4, a version `20.20.2` has 3). */
  dottedGroups: number;
  /** Bit set of the `MARK_*` characters present, among them the uppercase letters some prefixes need. */
  marks: number;
  /** Runs of `[A-Za-z0-9+_-]` of at least 20 characters (with up to two `=` of padding), as start/end pairs. */
  runs: readonly number[];
  /** The text's `base64Runs` (runs of `[A-Za-z0-9+/_-]` of at least 16), found in the same pass for the decoding layer. */
  base64Runs: readonly number[];
}

/** Uppercase letters that start or fill a literal prefix (`AKIA`, `AIza`, `SG.`, `SK`, `eyJ`, `Basic`, `PRIVATE KEY`). */
const MARKED_LETTERS = 'ABGIJKPSV';
const MARK_ANY_UPPER = 1 << 9;
const MARK_AT = 1 << 10;
const MARK_COLON = 1 << 11;
const MARK_DOT = 1 << 12;
const MARK_DASH = 1 << 13;
const MARK_UNDERSCORE = 1 << 14;
const MARK_EQUALS = 1 << 15;
// `%` and `\` tell the decoding layer whether percent-encoding or JSON escapes can occur.
const MARK_PERCENT = 1 << 20;
const MARK_BACKSLASH = 1 << 21;
const MARKS = ((1 << 16) - 1) | MARK_PERCENT | MARK_BACKSLASH;
// Character kinds, in the same table above the marks.
const INFO_RUN = 1 << 16;
const INFO_DIGIT = 1 << 17;
const INFO_DIGIT_SEPARATOR = 1 << 18;
const INFO_BASE64 = 1 << 19;

/** The marks of the `MARKED_LETTERS` in `literal`; other characters add none, so the result stays a necessary condition. */
function upperMarks(literal: string): number {
  let marks = 0;
  for (const char of literal) {
    const index = MARKED_LETTERS.indexOf(char);
    if (index >= 0) marks |= 1 << index;
  }
  return marks;
}

const ENTROPY_RUN_MIN = 20;
/** Per ASCII char code: the mark it sets and its kinds (`INFO_*`). */
const CHAR_INFO = new Int32Array(128);
/** Char codes of `[A-Za-z0-9+/=_-]`, the characters of a base64 (or base64url) run. */
const BASE64_CHAR = new Uint8Array(128);
for (let code = 0; code < 128; code++) {
  const char = String.fromCharCode(code);
  let info = upperMarks(char);
  if (char >= 'A' && char <= 'Z') info |= MARK_ANY_UPPER;
  info |= { '@': MARK_AT, ':': MARK_COLON, '.': MARK_DOT, '-': MARK_DASH, _: MARK_UNDERSCORE, '=': MARK_EQUALS, '%': MARK_PERCENT, '\\': MARK_BACKSLASH }[char] ?? 0;
  // `[A-Za-z0-9+_-]`: the characters of an entropy candidate.
  if (/[A-Za-z0-9+_-]/.test(char)) info |= INFO_RUN;
  if (char >= '0' && char <= '9') info |= INFO_DIGIT;
  if (char === ' ' || char === '-') info |= INFO_DIGIT_SEPARATOR;
  if (/[A-Za-z0-9+/_-]/.test(char)) info |= INFO_BASE64;
  CHAR_INFO[code] = info;
  BASE64_CHAR[code] = /[A-Za-z0-9+/=_-]/.test(char) ? 1 : 0;
}

const NO_RUNS: readonly number[] = Object.freeze([]);
// What the previous character was, for the digit sequences of `TextProfile`.
const AFTER_OTHER = 0;
const AFTER_DIGIT = 1;
/** A single space or dash right after a digit. */
const AFTER_SEPARATOR = 2;
/** A single dot right after a digit. */
const AFTER_DOT = 3;

/** One linear pass over `text`: digit counts, marks and the long token runs (see `TextProfile`). */
export function profileText(text: string): TextProfile {
  let digits = 0;
  let digitRun = 0;
  let currentDigitRun = 0;
  let dottedGroups = 0;
  let currentGroups = 0;
  let previous = AFTER_OTHER;
  let marks = 0;
  let runs: number[] | undefined;
  let runStart = -1;
  let encoded: number[] | undefined;
  let encodedStart = -1;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    const info = code < 128 ? (CHAR_INFO[code] ?? 0) : 0;
    marks |= info;
    if (info & INFO_DIGIT) {
      digits++;
      currentDigitRun = previous === AFTER_DIGIT || previous === AFTER_SEPARATOR ? currentDigitRun + 1 : 1;
      if (currentDigitRun > digitRun) digitRun = currentDigitRun;
      if (previous !== AFTER_DIGIT) currentGroups = previous === AFTER_DOT ? currentGroups + 1 : 1;
      if (currentGroups > dottedGroups) dottedGroups = currentGroups;
      previous = AFTER_DIGIT;
    } else if (previous === AFTER_DIGIT && info & INFO_DIGIT_SEPARATOR) {
      previous = AFTER_SEPARATOR;
    } else if (previous === AFTER_DIGIT && code === 46) {
      previous = AFTER_DOT;
    } else {
      previous = AFTER_OTHER;
    }
    if (info & INFO_RUN) {
      if (runStart < 0) runStart = i;
    } else if (runStart >= 0) {
      if (i - runStart >= ENTROPY_RUN_MIN) (runs ??= []).push(runStart, paddedEnd(text, i));
      runStart = -1;
    }
    if (info & INFO_BASE64) {
      if (encodedStart < 0) encodedStart = i;
    } else {
      if (encodedStart >= 0 && i - encodedStart >= BASE64_MIN_LENGTH) (encoded ??= []).push(encodedStart, i);
      encodedStart = -1;
    }
  }
  if (encodedStart >= 0 && length - encodedStart >= BASE64_MIN_LENGTH) (encoded ??= []).push(encodedStart, length);
  if (runStart >= 0 && length - runStart >= ENTROPY_RUN_MIN) (runs ??= []).push(runStart, length);
  return { digits, digitRun, dottedGroups, marks: marks & MARKS, runs: runs ?? NO_RUNS, base64Runs: encoded ?? NO_RUNS };
}

/** A run may end in up to two `=` of base64 padding. */
function paddedEnd(text: string, end: number): number {
  let padded = end;
  while (padded < text.length && padded - end < 2 && text.charCodeAt(padded) === 61) padded++;
  return padded;
}

/**
 * Adds the [start, end) pairs of one detector's findings to `out`. `taken` holds the findings of the
 * detectors before it: a span overlapping one of them is dropped anyway, so a finder may skip its
 * costly checks there.
 */
type Finder = (text: string, profile: TextProfile, out: number[], taken: readonly DetectorMatch[]) => void;

/** Every credential keyword a detector starts from contains one of these; one case-insensitive test gates them all. */
const CREDENTIAL_KEYWORD = /secret|bearer|pass|pwd|key|token/i;

interface Detector {
  name: string;
  kind: DetectorKind;
  tokenType?: TokenType;
  // The gates below are necessary conditions of the pattern: when one fails, the detector cannot match.
  /** Every one of these marks must be present. */
  marks?: number;
  /** At least one of these marks must be present. */
  anyMarks?: number;
  minDigits?: number;
  /** See `TextProfile.digitRun`. */
  minDigitRun?: number;
  /** See `TextProfile.dottedGroups`. */
  minDottedGroups?: number;
  /** The detector works on the profile's long runs and needs at least one. */
  needsRun?: boolean;
  /** The text must hold a `CREDENTIAL_KEYWORD`. */
  keyword?: boolean;
  /** Literal fragments of which at least one must occur (`includes`, cheaper than a regex). */
  literals?: readonly string[];
  /** A last cheap test, for prefixes that are not one literal (a character class). */
  hint?: RegExp;
  find: Finder;
  /** When `find` takes a shortcut over a plain scan of every position, that plain scan (for `detectUngated`). */
  reference?: Finder;
}

/**
 * A finder over one compiled regex, iterated with `exec` and `lastIndex` so no iterator is allocated.
 * Safe to share: detection is synchronous and resets `lastIndex` before each text.
 * Match indices (`d`) cost time on every match, so they are asked for only when a group is reported.
 */
function regexFinder(source: RegExp, group = 0, accept?: (match: RegExpExecArray) => boolean): Finder {
  const flags = group === 0 || source.flags.includes('d') ? source.flags : `${source.flags}d`;
  const regex = new RegExp(source.source, flags.includes('g') ? flags : `${flags}g`);
  return (text, _profile, out) => {
    regex.lastIndex = 0;
    for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
      if (match[0].length === 0) regex.lastIndex++;
      if (accept && !accept(match)) continue;
      if (group === 0) {
        out.push(match.index, match.index + match[0].length);
      } else {
        const span = match.indices?.[group];
        if (span) out.push(span[0], span[1]);
      }
    }
  };
}

/** The shape of the email tokens the gate emits (`u<hex8>@example.com`). */
export const EMAIL_TOKEN = /^u[0-9a-f]{8}@example\.com$/;
/** The digits of the phone tokens the gate emits (+1 NPA 555 01XX, fictional by NANP rule). */
const PHONE_TOKEN_DIGITS = /^1[2-9]\d{2}55501\d{2}$/;

/** The token types whose tokens look like real values (an email, a phone number, a card number). */
export type ValueLikeTokenType = 'email' | 'phone' | 'card';

/**
 * Whether the keyed token registry confirms that the gate issued `value` as a token of `type`
 * (`issuedTokenCheck`). A value in a token's shape that it does not confirm is a finding like any
 * other: a real card may start with the card-token prefix, and shapes alone prove nothing.
 */
export type IssuedTokenCheck = (type: ValueLikeTokenType, value: string) => boolean;

/** Options of `detect` and `redactText`. */
export interface DetectOptions {
  /** Confirms the gate's own tokens; without it every token-shaped value is a finding. */
  issuedTokens?: IssuedTokenCheck;
}

/** The form a token is registered under: digits for phones and cards (grouping aside), lower case for emails. */
export function canonicalToken(type: ValueLikeTokenType, value: string): string {
  return type === 'email' ? value.trim().toLowerCase() : value.replace(/\D/g, '');
}

/** A set of issued tokens by canonical form: what one gate run or one `redactText` call issued. */
export function issuedTokenSet(): { add(type: TokenType, token: string): void; has: IssuedTokenCheck } {
  const tokens = new Set<string>();
  return {
    add(type, token) {
      if (VALUE_LIKE_TYPES.has(type)) tokens.add(`${type}\u0000${canonicalToken(type as ValueLikeTokenType, token)}`);
    },
    has: (type, value) => tokens.has(`${type}\u0000${canonicalToken(type, value)}`),
  };
}

/** Whether `value` has the shape of the gate's `type` tokens, so only such values are looked up. */
function hasTokenShape(type: ValueLikeTokenType, value: string): boolean {
  const canonical = canonicalToken(type, value);
  if (type === 'email') return EMAIL_TOKEN.test(canonical);
  if (type === 'phone') return PHONE_TOKEN_DIGITS.test(canonical);
  return canonical.startsWith(CARD_TOKEN_PREFIX);
}

const VALUE_LIKE_TYPES: ReadonlySet<string> = new Set<ValueLikeTokenType>(['email', 'phone', 'card']);
/** A span a confirmed token holds while detection runs: no later detector may claim it; never returned. */
const ISSUED_TOKEN = '\u0000issued-token';

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const PHONE_INTERNATIONAL = /\+[1-9][\d\s().-]{6,24}\d/g;
const PHONE_NATIONAL = /(?<![\w+])\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?!\d)/g;

function findPhones(text: string, profile: TextProfile, out: number[]): void {
  // An international number needs a `+` and 8 digits (the gate); a national one 10 digits.
  if (text.includes('+')) {
    PHONE_INTERNATIONAL.lastIndex = 0;
    for (let match = PHONE_INTERNATIONAL.exec(text); match !== null; match = PHONE_INTERNATIONAL.exec(text)) {
      const end = internationalPhoneEnd(match[0]);
      if (end > 0) out.push(match.index, match.index + end);
    }
  }
  if (profile.digits < 10) return;
  PHONE_NATIONAL.lastIndex = 0;
  for (let match = PHONE_NATIONAL.exec(text); match !== null; match = PHONE_NATIONAL.exec(text)) out.push(match.index, match.index + match[0].length);
}

/** The length of the phone number at the start of an international candidate, or 0 when it is none. */
function internationalPhoneEnd(matched: string): number {
  let candidate = matched;
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
  if (digits.length < 8 || digits.length > 15) return 0;
  return candidate.length;
}

// Digits inside a longer word (hex ids, hashes) are not card numbers. Numbers starting 3–6 are cards
// when Luhn-valid (the major networks fill those ranges); others only inside an issued range (`cardIinValid`).
const CARD = /(?<![\w.])[1-9]\d(?:[ -]?\d){11,17}(?!\w)/g;
// The digit groups after an IBAN's country and check digits are part of that IBAN, valid or not.
const AFTER_IBAN_PREFIX = /[A-Z]{2}\d{2} ?$/;

/**
 * Whether `digits` (13–19 of them) start inside an issued card range. Outside 3–6: UATP (1, 15
 * digits), Mir (2200–2204), Mastercard's 2-series (2221–2720), RuPay (81, 82) and Troy (9792).
 */
export function cardIinValid(digits: string): boolean {
  const first = digits.charCodeAt(0) - 48;
  if (first >= 3 && first <= 6) return true;
  if (first === 1) return digits.length === 15;
  if (first === 2) {
    const four = Number(digits.slice(0, 4));
    return (four >= 2200 && four <= 2204) || (four >= 2221 && four <= 2720);
  }
  if (first === 8) return digits.startsWith('81') || digits.startsWith('82');
  if (first === 9) return digits.startsWith('9792');
  return false;
}

function findCards(text: string, _profile: TextProfile, out: number[]): void {
  CARD.lastIndex = 0;
  for (let match = CARD.exec(text); match !== null; match = CARD.exec(text)) {
    if (AFTER_IBAN_PREFIX.test(text.slice(Math.max(0, match.index - 5), match.index))) continue;
    // A grouped number may run into the following digits: try each group boundary, longest first.
    const matched = match[0];
    for (let end = matched.length; end > 0; end--) {
      if (end < matched.length && matched[end] !== ' ' && matched[end] !== '-') continue;
      const digits = matched.slice(0, end).replace(/\D/g, '');
      if (digits.length < 13 || digits.length > 19) continue;
      // UATP numbers (any 15 digits after a 1) are taken only when written without separators, so
      // the tail of a dashed id or date does not read as one.
      const uatpGrouped = digits.startsWith('1') && digits.length !== end;
      if (luhnValid(digits) && cardIinValid(digits) && !uatpGrouped) {
        out.push(match.index, match.index + end);
        break;
      }
    }
  }
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
  // The head of an IPv4-mapped address (`::ffff:127.0.0.1`) whose dotted tail the pattern left: the IPv4
  // detector judges that address (it flags a personal one and lets loopback and documentation ranges pass).
  if (/^\.\d/.test(match.input.slice(match.index + address.length, match.index + address.length + 2))) return false;
  // Bare `::`-joined words and clock times are not addresses: require 3+ groups or a `::` with hex beside it.
  if (!isIPv6(address) || isNonPersonalIpv6(address)) return false;
  return (address.match(/:/g) ?? []).length >= 2 && /[0-9a-f]/i.test(address.replace(/:/g, ''));
}

const IPV6_AT = new RegExp(IPV6.source, 'y');
/** Char codes of `[0-9A-Fa-f:]`, the characters of an IPv6 candidate before any IPv4 tail. */
const HEX_OR_COLON = new Uint8Array(128);
/** Char codes of `[\w.]`: a candidate never starts right after one. */
const WORD_OR_DOT = new Uint8Array(128);
for (let code = 0; code < 128; code++) {
  HEX_OR_COLON[code] = /[0-9A-Fa-f:]/.test(String.fromCharCode(code)) ? 1 : 0;
  WORD_OR_DOT[code] = /[\w.]/.test(String.fromCharCode(code)) ? 1 : 0;
}
const isHexOrColon = (code: number): boolean => code < 128 && HEX_OR_COLON[code] === 1;

/**
 * `IPV6` matches only at the start of a maximal `[0-9A-Fa-f:]` run that holds two colons and does not
 * follow `[\w.]` (its look-behind and look-ahead say so). Visiting those runs from each `:` and trying the
 * pattern there (sticky) finds what a scan of every position finds, without the scan: most colons in a
 * log line sit in timestamps (`T11:03:44`, after a letter) or in JSON (`"a":"b"`, one colon).
 */
function findIpv6(text: string, _profile: TextProfile, out: number[]): void {
  for (let colon = text.indexOf(':'); colon >= 0; ) {
    let start = colon;
    while (start > 0 && isHexOrColon(text.charCodeAt(start - 1))) start--;
    let end = colon;
    let colons = 0;
    for (; end < text.length; end++) {
      const code = text.charCodeAt(end);
      if (!isHexOrColon(code)) break;
      if (code === 58) colons++;
    }
    const before = start > 0 ? text.charCodeAt(start - 1) : -1;
    if (colons >= 2 && !(before >= 0 && before < 128 && WORD_OR_DOT[before] === 1)) {
      IPV6_AT.lastIndex = start;
      const match = IPV6_AT.exec(text);
      if (match !== null && acceptIpv6(match)) out.push(start, start + match[0].length);
    }
    colon = text.indexOf(':', end);
  }
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
const SSN_NUMBER = '(?!000|666|9\\d\\d)\\d{3}(?<sep>[ -]?)(?!00)\\d{2}\\k<sep>(?!0000)\\d{4}';
const SSN = /(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])/g;
const SSN_EXAMPLES = new Set(['078051120', '219099999', '123456789']);
/** Words that say the number after them is a social security or taxpayer number. */
const SSN_CONTEXT_WORDS = 'ssn|ss#|social[ _-]?security(?:[ _-]?(?:number|num|no))?|tax(?:payer)?[ _-]?id(?:entification)?(?:[ _-]?(?:number|no))?|itin|tin';
// Nine digits with or without separators, right after a context word ("SSN: 536228173", "ssn 536 22 8173").
const SSN_IN_CONTEXT = new RegExp(
  `(?<![A-Za-z0-9])(?:${SSN_CONTEXT_WORDS})(?![A-Za-z0-9])["']?\\s*(?:[:=#]|is|was|no\\.?|number)?\\s*["']?(?<![\\d-])(${SSN_NUMBER})(?![\\d-])`,
  'gid',
);
const SSN_CONTEXT_HINT = /ssn|ss#|social|tax|tin/i;
const SSN_KEY_NAME = new RegExp(`^(?:${SSN_CONTEXT_WORDS})$`, 'i');
const SSN_VALUE = new RegExp(`^${SSN_NUMBER}$`);

function isExampleSsn(candidate: string): boolean {
  return SSN_EXAMPLES.has(candidate.replace(/\D/g, ''));
}

/** Dashed SSNs anywhere, and SSNs written with spaces or none after a word that names them. */
function findSsns(text: string, _profile: TextProfile, out: number[]): void {
  if (text.includes('-')) {
    SSN.lastIndex = 0;
    for (let match = SSN.exec(text); match !== null; match = SSN.exec(text)) if (!isExampleSsn(match[0])) out.push(match.index, match.index + match[0].length);
  }
  if (!SSN_CONTEXT_HINT.test(text)) return;
  SSN_IN_CONTEXT.lastIndex = 0;
  for (let match = SSN_IN_CONTEXT.exec(text); match !== null; match = SSN_IN_CONTEXT.exec(text)) {
    const span = match.indices?.[1];
    if (span && !isExampleSsn(match[1] ?? '')) out.push(span[0], span[1]);
  }
}

/**
 * True when a value held under `key` is a social security number: the key names one (`ssn`,
 * `taxId`, `social_security_number`) and the value is nine digits, with or without separators.
 */
export function isSsnUnderKey(key: string, value: string): boolean {
  const spaced = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2');
  const trimmed = value.trim();
  return SSN_KEY_NAME.test(spaced) && SSN_VALUE.test(trimmed) && !isExampleSsn(trimmed);
}

// Session cookies and ids by the names frameworks give them; their values are bearer credentials whatever
// their alphabet (often hex, which the high-entropy detector leaves alone as an id).
const SESSION_NAMES = 'jsessionid|phpsessid|asp\\.net_sessionid|aspsessionid[a-z]{8}|connect\\.sid|laravel_session|_session_id|rack\\.session|cftoken|sessionid|session[_-]?(?:id|key|token)|sess[_-]?id|sid';
const SESSION_ASSIGNMENT = new RegExp(`(?<![A-Za-z0-9_.-])(?:${SESSION_NAMES})(?![A-Za-z0-9_])["']?\\s*[:=]\\s*("[^"]+"|'[^']+'|[^\\s,;&"']+)`, 'gid');
/** Shorter values (`sid=1`, `session_id=42`) are counters, not credentials. */
const MIN_SESSION_VALUE = 8;

// "the password is X", "temporary passwords: X, Y and Z": the words around a password in prose.
const PASSWORD_WORDS = /(?<![A-Za-z0-9])(?:pass(?:word|wd|phrase|code)?|pwd|pin)s?(?![A-Za-z0-9])(?:\s+(?:for\s+\S+\s+)?(?:(?:(?:is|was|are|were|has\s+been|have\s+been)\s+)?(?:(?:re)?set|changed|updated)\s+to|is|was|are|were|now)|\s*[:=])\s*/gi;
const PASSWORD_ITEM = /["']?([^\s"',;]+)["']?/y;
const PASSWORD_SEPARATOR = /\s*(?:,|;|\band\b|\bor\b)\s*/y;
/** Words that follow "password is" in messages about passwords rather than in a password. */
const PASSWORD_STOP_WORDS = new Set([
  'required', 'invalid', 'incorrect', 'wrong', 'missing', 'empty', 'expired', 'blank', 'null', 'undefined', 'none', 'not',
  'too', 'correct', 'valid', 'set', 'reset', 'changed', 'weak', 'strong', 'short', 'long', 'locked', 'mismatch', 'redacted',
]);

/** A password candidate: not a stop word, at least 4 characters, and two character classes (or a PIN of 4+ digits). */
function looksLikePassword(item: string): boolean {
  if (item.length < 4 || PASSWORD_STOP_WORDS.has(item.toLowerCase()) || item.startsWith('[redacted')) return false;
  if (/^\d+$/.test(item)) return true;
  let classes = 0;
  if (/[a-z]/.test(item)) classes++;
  if (/[A-Z]/.test(item)) classes++;
  if (/\d/.test(item)) classes++;
  if (/[^A-Za-z0-9]/.test(item)) classes++;
  return classes >= 2;
}

/** Passwords named in prose or in a list after a password word, each item a finding of its own. */
function findFreeTextPasswords(text: string, _profile: TextProfile, out: number[]): void {
  PASSWORD_WORDS.lastIndex = 0;
  for (let match = PASSWORD_WORDS.exec(text); match !== null; match = PASSWORD_WORDS.exec(text)) {
    let cursor = match.index + match[0].length;
    for (let item = 0; item < 10; item++) {
      PASSWORD_ITEM.lastIndex = cursor;
      const found = PASSWORD_ITEM.exec(text);
      if (found === null) break;
      const value = found[1] ?? '';
      if (!looksLikePassword(value)) break;
      const start = cursor + found[0].indexOf(value);
      out.push(start, start + value.length);
      cursor = PASSWORD_ITEM.lastIndex;
      PASSWORD_SEPARATOR.lastIndex = cursor;
      if (PASSWORD_SEPARATOR.exec(text) === null) break;
      cursor = PASSWORD_SEPARATOR.lastIndex;
    }
  }
}

const entropyCounts = new Uint32Array(128);
const entropyOrder = new Uint8Array(128);

/** Shannon entropy in bits per character. ASCII text (every entropy candidate) is counted in a reused table. */
export function shannonEntropy(text: string): number {
  const length = text.length;
  let distinct = 0;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 128) {
      for (let k = 0; k < distinct; k++) entropyCounts[entropyOrder[k] ?? 0] = 0;
      return codePointEntropy(text);
    }
    if (entropyCounts[code] === 0) entropyOrder[distinct++] = code;
    entropyCounts[code] = (entropyCounts[code] ?? 0) + 1;
  }
  // Summed in order of first occurrence, as `codePointEntropy` does, so both give the same bits.
  let bits = 0;
  for (let k = 0; k < distinct; k++) {
    const code = entropyOrder[k] ?? 0;
    const p = (entropyCounts[code] ?? 0) / length;
    bits -= p * Math.log2(p);
    entropyCounts[code] = 0;
  }
  return bits;
}

/** Entropy over code points, for text outside ASCII. */
export function codePointEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

// Entropy candidates are the `TextProfile` runs: `[A-Za-z0-9+_-]{20,}={0,2}`.
// `/` is left out so URL paths split into words; a secret containing `/` is still caught piecewise.
// Base64 padding may end a run; an `=` inside one separates `key=value` (`fingerprint=<hex>` is two words).

// Subresource-integrity and content hashes (`sha512-<base64>`): digests, not secrets.
const SRI_OR_HASH_PREFIX = /^(?:sha(?:1|256|384|512)|md5)[-_]/i;

/** True when `candidate` is standard base64 of printable words (`b3JkZXIgY2FydA==`), which carries no secret. */
function isBase64OfText(candidate: string): boolean {
  if (candidate.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(candidate)) return false;
  const decoded = Buffer.from(candidate, 'base64').toString('latin1');
  return /^[A-Za-z]+(?:[ .,:;'-][A-Za-z]+)*[.!?]?$/.test(decoded);
}

const isBase64Char = (code: number): boolean => code < 128 && BASE64_CHAR[code] === 1;

/** The base64 run around [start, end) (a candidate stops at `/`, so a digest can span several candidates). */
function enclosingBase64(text: string, start: number, end: number): string {
  let from = start;
  let to = end;
  while (from > 0 && isBase64Char(text.charCodeAt(from - 1))) from--;
  while (to < text.length && isBase64Char(text.charCodeAt(to))) to++;
  return text.slice(from, to);
}

/**
 * Below the last decoded layer base64 of text is judged by its look again: nothing decodes it further.
 * Detection is synchronous, so the layer walk sets this around the texts of its last layer.
 */
let base64TextDecodedBelow = false;

function isDigestOrEncodedText(text: string, start: number, end: number): boolean {
  const run = enclosingBase64(text, start, end);
  if (SRI_OR_HASH_PREFIX.test(run) || isBase64OfText(run) || isBase64FileAround(text, start, end)) return true;
  // Base64 of text is decoded and its content detected on (`findEncodedSpans`): judged by content, not look.
  return base64TextDecodedBelow && isBase64TextAround(text, start, end);
}

const ENTROPY_CANDIDATE = /[A-Za-z0-9+_-]{20,}={0,2}/g;

/** `findHighEntropy` by a regex scan of every position instead of the profile's runs: the reference it must equal. */
function findHighEntropyByScan(text: string, _profile: TextProfile, out: number[]): void {
  ENTROPY_CANDIDATE.lastIndex = 0;
  for (let match = ENTROPY_CANDIDATE.exec(text); match !== null; match = ENTROPY_CANDIDATE.exec(text)) {
    const end = match.index + match[0].length;
    if (isHighEntropy(match[0]) && !isDigestOrEncodedText(text, match.index, end)) out.push(match.index, end);
  }
}

function overlapsTaken(taken: readonly DetectorMatch[], start: number, end: number): boolean {
  return taken.some((match) => start < match.end && match.start < end);
}

function findHighEntropy(text: string, profile: TextProfile, out: number[], taken: readonly DetectorMatch[]): void {
  const runs = profile.runs;
  for (let i = 0; i + 1 < runs.length; i += 2) {
    const start = runs[i] ?? 0;
    const end = runs[i + 1] ?? 0;
    if (overlapsTaken(taken, start, end)) continue;
    if (isHighEntropy(text.slice(start, end)) && !isDigestOrEncodedText(text, start, end)) out.push(start, end);
  }
}

const CLASS_LOWER = 1;
const CLASS_UPPER = 2;
const CLASS_DIGIT = 4;

/** Which character classes `candidate` holds (`CLASS_*` bits), in one pass. */
function characterClasses(candidate: string): number {
  let classes = 0;
  for (let i = 0; i < candidate.length; i++) {
    const code = candidate.charCodeAt(i);
    if (code >= 48 && code <= 57) classes |= CLASS_DIGIT;
    else if (code >= 97 && code <= 122) classes |= CLASS_LOWER;
    else if (code >= 65 && code <= 90) classes |= CLASS_UPPER;
  }
  return classes;
}

/**
 * True when every `-`/`_`-separated part is hex digits only or letters only: git SHAs, content hashes,
 * trace ids, UUIDs and ids made of a word and a hex id (`incident-<fingerprint>`, `req_<hex>`).
 */
function isHexOrWordIdentifier(candidate: string): boolean {
  let hex = true;
  let letters = true;
  for (let i = 0; i <= candidate.length; i++) {
    const code = i < candidate.length ? candidate.charCodeAt(i) : 45;
    if (code === 45 || code === 95) {
      if (!hex && !letters) return false;
      hex = true;
      letters = true;
      continue;
    }
    const lower = code | 32;
    const isLetter = lower >= 97 && lower <= 122;
    if (!((code >= 48 && code <= 57) || (lower >= 97 && lower <= 102))) hex = false;
    if (!isLetter) letters = false;
  }
  return true;
}

const GATE_TOKEN = /^tok_[0-9a-f]{12}$/;

/** True for strings that look random but are not secrets: hex ids and hashes, UUIDs, word-prefixed ids, emitted tokens. */
function isStopListed(candidate: string): boolean {
  return isHexOrWordIdentifier(candidate) || GATE_TOKEN.test(candidate);
}

/** A high-entropy run: at least 20 chars, letters and digits mixed, entropy above the threshold, not stop-listed. */
export function isHighEntropy(candidate: string): boolean {
  if (candidate.length < 20) return false;
  if (isStopListed(candidate)) return false;
  const classes = characterClasses(candidate);
  const lower = (classes & CLASS_LOWER) !== 0;
  const upper = (classes & CLASS_UPPER) !== 0;
  if ((classes & CLASS_DIGIT) === 0 || !(lower || upper)) return false;
  const entropy = shannonEntropy(candidate);
  if (lower && upper) return entropy >= 3.5;
  return candidate.length >= 32 && entropy >= 3.8;
}

// Order is priority: when two findings overlap, the earlier detector in this list wins.
// The gates only skip texts the pattern cannot match; `detectUngated` lets tests check they never change a result.
const DETECTORS: readonly Detector[] = [
  {
    name: 'pem-private-key', marks: MARK_DASH | upperMarks('PRIVATE KEY'), literals: ['PRIVATE KEY'],
    kind: 'secret',
    find: regexFinder(/-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|$)/g),
  },
  {
    name: 'url-credentials', marks: MARK_AT | MARK_COLON, literals: ['://'],
    kind: 'secret',
    find: regexFinder(/\b[a-z][a-z0-9+.-]*:\/\/([^\s/?#@:]+:[^\s/?#@]+)@/gi, 1),
  },
  {
    name: 'jwt', marks: MARK_DOT | upperMarks('J'), literals: ['eyJ'],
    kind: 'secret',
    find: regexFinder(/\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g),
  },
  {
    name: 'stripe-key', marks: MARK_UNDERSCORE, literals: ['_live_', '_test_', 'whsec_'],
    kind: 'secret',
    find: regexFinder(/\b(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{8,}|whsec_[A-Za-z0-9]{24,})/g),
  },
  {
    name: 'github-token', marks: MARK_UNDERSCORE, hint: /gh[pousr]_|github_pat_/,
    kind: 'secret',
    find: regexFinder(/\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})/g),
  },
  {
    name: 'aws-access-key', marks: upperMarks('AI'), literals: ['AKIA', 'ASIA'],
    kind: 'secret',
    find: regexFinder(/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g),
  },
  {
    name: 'aws-secret-key', anyMarks: MARK_COLON | MARK_EQUALS, keyword: true, hint: /secret_?(?:access_?)?key/i,
    kind: 'secret',
    find: regexFinder(/\b(?:aws_?secret_?(?:access_?)?key|SecretAccessKey)\b["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/gi, 1),
  },
  {
    name: 'gcp-api-key', marks: upperMarks('AI'), literals: ['AIza'],
    kind: 'secret',
    find: regexFinder(/\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g),
  },
  {
    name: 'gcp-service-account', marks: MARK_UNDERSCORE | MARK_COLON, literals: ['private_key_id'],
    kind: 'secret',
    find: regexFinder(/"private_key_id"\s*:\s*"([0-9a-f]{40})"/g, 1),
  },
  {
    name: 'slack-webhook', marks: MARK_DOT | MARK_COLON, literals: ['hooks.slack.com'],
    kind: 'secret',
    find: regexFinder(/\bhttps:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_/]{20,}/g),
  },
  {
    name: 'sendgrid-key', marks: MARK_DOT | upperMarks('SG'), literals: ['SG.'],
    kind: 'secret',
    find: regexFinder(/\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g),
  },
  { name: 'twilio-key', marks: upperMarks('SK'), hint: /SK[0-9a-f]/, kind: 'secret', find: regexFinder(/\bSK[0-9a-f]{32}\b/g) },
  { name: 'npm-token', marks: MARK_UNDERSCORE, literals: ['npm_'], kind: 'secret', find: regexFinder(/\bnpm_[A-Za-z0-9]{36}\b/g) },
  { name: 'slack-token', marks: MARK_DASH, literals: ['xox'], kind: 'secret', find: regexFinder(/\bxox[abpors]-[A-Za-z0-9-]{10,}/g) },
  { name: 'bearer', keyword: true, hint: /bearer/i, kind: 'secret', find: regexFinder(/\bBearer\s+([A-Za-z0-9\-._~+/]+=*)/gi, 1) },
  { name: 'basic-auth', marks: upperMarks('B'), literals: ['Basic'], kind: 'secret', find: regexFinder(/\bBasic\s+([A-Za-z0-9+/]{8,}=*)/g, 1) },
  {
    name: 'session-id', anyMarks: MARK_COLON | MARK_EQUALS, hint: /sess|sid|cftoken/i,
    kind: 'secret',
    find: regexFinder(SESSION_ASSIGNMENT, 1, (match) => (match[1] ?? '').replace(/^["']|["']$/g, '').length >= MIN_SESSION_VALUE),
  },
  { name: 'mailgun-key', marks: MARK_DASH, literals: ['key-'], kind: 'secret', find: regexFinder(/(?<![A-Za-z0-9_-])key-[0-9a-z]{32}(?![A-Za-z0-9_-])/g) },
  {
    name: 'credential-assignment', anyMarks: MARK_COLON | MARK_EQUALS, keyword: true,
    kind: 'secret',
    find: regexFinder(
      /\b(?:pass(?:word|wd)?|pwd|secret|api[_-]?key|access[_-]?token|client[_-]?secret)\b["']?\s*[:=]\s*("[^"]+"|'[^']+'|[^\s,;&"']+)/gi,
      1,
    ),
  },
  { name: 'password-in-text', hint: /pass|pwd|pin/i, kind: 'secret', find: findFreeTextPasswords },
  {
    name: 'email', marks: MARK_AT | MARK_DOT,
    kind: 'pii',
    tokenType: 'email',
    find: regexFinder(EMAIL),
  },
  {
    name: 'iban', anyMarks: MARK_ANY_UPPER, minDigits: 2, hint: /[A-Z]{2}\d\d/,
    kind: 'pii',
    find: regexFinder(IBAN, 0, (match) => ibanValid(match[0])),
  },
  { name: 'ssn', minDigitRun: 9, kind: 'pii', find: findSsns },
  { name: 'phone', minDigits: 8, kind: 'pii', tokenType: 'phone', find: findPhones },
  { name: 'card', minDigitRun: 13, kind: 'pii', tokenType: 'card', find: findCards },
  {
    name: 'ipv4', marks: MARK_DOT, minDottedGroups: 4,
    kind: 'pii',
    tokenType: 'ip',
    find: regexFinder(IPV4, 0, (match) => !isNonPersonalIpv4(match[0])),
  },
  {
    name: 'ipv6', marks: MARK_COLON,
    kind: 'pii',
    tokenType: 'ip',
    find: findIpv6,
    reference: regexFinder(IPV6, 0, acceptIpv6),
  },
  { name: 'high-entropy', needsRun: true, minDigits: 1, kind: 'secret', find: findHighEntropy, reference: findHighEntropyByScan },
];

/** Names of every detector, in priority order. */
export const DETECTOR_NAMES: readonly string[] = DETECTORS.map((detector) => detector.name);

/** Names of the detectors whose findings become a format-preserving token (the others' become `[redacted:<detector>]`). */
export const TOKENIZING_DETECTOR_NAMES: readonly string[] = DETECTORS.filter((detector) => detector.tokenType !== undefined).map((detector) => detector.name);

/** Names of the detectors that find personal data rather than secrets. */
export const PII_DETECTOR_NAMES: readonly string[] = DETECTORS.filter((detector) => detector.kind === 'pii').map((detector) => detector.name);

/** A detector with every gate filled in (0 or empty when it has none), so checking one is a few compares. */
type CompiledDetector = Required<Omit<Detector, 'tokenType' | 'hint' | 'reference'>> & Pick<Detector, 'tokenType' | 'hint' | 'reference'>;

const COMPILED: readonly CompiledDetector[] = DETECTORS.map((detector) => ({
  marks: 0,
  anyMarks: 0,
  minDigits: 0,
  minDigitRun: 0,
  minDottedGroups: 0,
  needsRun: false,
  keyword: false,
  literals: [],
  ...detector,
}));

/** The gates that only a profile decides (no scan of the text). */
function profileAllows(detector: CompiledDetector, profile: TextProfile): boolean {
  return (
    (profile.marks & detector.marks) === detector.marks &&
    (detector.anyMarks === 0 || (profile.marks & detector.anyMarks) !== 0) &&
    profile.digits >= detector.minDigits &&
    profile.digitRun >= detector.minDigitRun &&
    profile.dottedGroups >= detector.minDottedGroups &&
    (!detector.needsRun || profile.runs.length > 0)
  );
}

function mayMatch(detector: CompiledDetector, text: string, profile: TextProfile, hasKeyword: () => boolean): boolean {
  if (!profileAllows(detector, profile)) return false;
  if (detector.keyword && !hasKeyword()) return false;
  if (detector.literals.length > 0 && !detector.literals.some((literal) => text.includes(literal))) return false;
  return detector.hint === undefined || detector.hint.test(text);
}

// Reused between calls (detection is synchronous): a flat list of [start, end) pairs, grown as needed.
const spans: number[] = [];

function runDetectors(text: string, profile: TextProfile, gated: boolean, issuedTokens: IssuedTokenCheck | undefined): DetectorMatch[] {
  let chosen: DetectorMatch[] = [];
  let keyword: boolean | undefined;
  let confirmed = false;
  const hasKeyword = () => (keyword ??= CREDENTIAL_KEYWORD.test(text));
  for (const detector of COMPILED) {
    if (gated && !mayMatch(detector, text, profile, hasKeyword)) continue;
    const first = spans.length;
    (gated ? detector.find : (detector.reference ?? detector.find))(text, profile, spans, chosen);
    const valueLike = issuedTokens !== undefined && VALUE_LIKE_TYPES.has(detector.name) ? (detector.name as ValueLikeTokenType) : undefined;
    for (let i = first; i + 1 < spans.length; i += 2) {
      const start = spans[i] ?? 0;
      const end = spans[i + 1] ?? 0;
      if (end <= start || overlapsTaken(chosen, start, end)) continue;
      const value = valueLike === undefined ? '' : text.slice(start, end);
      if (valueLike !== undefined && hasTokenShape(valueLike, value) && issuedTokens!(valueLike, value)) {
        // One of the gate's own tokens: it holds its span, so no later detector reads into it.
        chosen.push({ detector: ISSUED_TOKEN, kind: 'pii', start, end });
        confirmed = true;
        continue;
      }
      chosen.push({ detector: detector.name, kind: detector.kind, start, end });
    }
  }
  if (spans.length > 0) spans.length = 0;
  if (confirmed) chosen = chosen.filter((match) => match.detector !== ISSUED_TOKEN);
  return chosen.length > 1 ? chosen.sort((a, b) => a.start - b.start) : chosen;
}

/** Runs the detectors over one text as it reads, without decoding anything in it. */
function detectSurface(text: string, profile: TextProfile, gated: boolean, depth: number, issuedTokens: IssuedTokenCheck | undefined): DetectorMatch[] {
  // Set before each text rather than restored after: a throw leaves it at the stricter setting.
  base64TextDecodedBelow = depth < MAX_DECODE_DEPTH;
  return runDetectors(
    text,
    gated ? profile : { ...profile, digits: Number.MAX_SAFE_INTEGER, digitRun: Number.MAX_SAFE_INTEGER, dottedGroups: Number.MAX_SAFE_INTEGER, marks: ~0 },
    gated,
    issuedTokens,
  );
}

/** Whether the profiled text can hold an encoded span at all (`findEncodedSpans` would find none otherwise). */
function mayHoldEncoded(profile: TextProfile): boolean {
  return profile.base64Runs.length > 0 || (profile.marks & (MARK_PERCENT | MARK_BACKSLASH)) !== 0;
}

/**
 * The findings without the high-entropy ones that lie inside an encoded span: a run like `u003a8b42…`
 * of an escaped hash, or `oEMZ…%3D`, is judged by what it decodes to, a layer down, not by its look.
 */
function deferToDecoded(text: string, profile: TextProfile, matches: DetectorMatch[]): DetectorMatch[] {
  // A loop, not `some`: this runs for every text, and a callback costs an allocation each time.
  let entropy = false;
  for (const match of matches) if (match.detector === 'high-entropy') entropy = true;
  if (!entropy || !mayHoldEncoded(profile)) return matches;
  const spans = findEncodedSpans(text, profile.base64Runs, matches.filter((match) => match.detector !== 'high-entropy'));
  if (spans.length === 0) return matches;
  return matches.filter((match) => match.detector !== 'high-entropy' || !spans.some((span) => span.start <= match.start && match.end <= span.end));
}

/** Findings in `text` and, down to `MAX_DECODE_DEPTH` layers, in what its encoded spans decode to (reported over the span). */
function detectLayers(text: string, gated: boolean, depth: number, issuedTokens: IssuedTokenCheck | undefined): DetectorMatch[] {
  const profile = profileText(text);
  const surface = detectSurface(text, profile, gated, depth, issuedTokens);
  if (depth >= MAX_DECODE_DEPTH) return surface;
  if (!mayHoldEncoded(profile)) return surface;
  const matches = deferToDecoded(text, profile, surface);
  // What a finding already covers is not decoded: the finding stands for it.
  const spans = findEncodedSpans(text, profile.base64Runs, matches);
  if (spans.length === 0) return matches;
  for (const span of spans) {
    const inner = detectLayers(span.decoded, gated, depth + 1, issuedTokens);
    const first = inner[0];
    if (first === undefined) continue;
    const kind = inner.some((match) => match.kind === 'secret') ? 'secret' : first.kind;
    matches.push({ detector: first.detector, kind, start: span.start, end: span.end });
  }
  return matches.sort((a, b) => a.start - b.start);
}

/**
 * Runs every detector over `text` and over what its encoded parts decode to (JSON string escapes,
 * percent and form encoding, base64 of text; see `findEncodedSpans`); returns non-overlapping findings
 * sorted by position. A finding inside an encoded part covers that part. One pass profiles each text
 * first, so a detector whose pattern cannot occur costs a bit test.
 */
export function detect(text: string, options: DetectOptions = {}): DetectorMatch[] {
  return detectLayers(text, true, 0, options.issuedTokens);
}

/**
 * The same detection the slow way: every gate, literal and hint off, a profile that claims every digit
 * and mark, and plain regex scans where `detect` takes a shortcut. It exists so tests can show that the
 * fast path never changes a result.
 */
export function detectUngated(text: string, options: DetectOptions = {}): DetectorMatch[] {
  return detectLayers(text, false, 0, options.issuedTokens);
}

const TOKEN_TYPE_OF = new Map(DETECTORS.map((detector) => [detector.name, detector.tokenType]));

/** What `redactText` replaced: hit counts per detector, the raw texts replaced, and the raw values found in decoded form with their replacement. */
export interface Redaction {
  text: string;
  hits: Map<string, number>;
  /** Every raw text replaced, in every form it had (a decoded value and the encoded span that held it), for the egress set. */
  found: string[];
  /** Values found only once decoded, with what replaced them, so the gate can replace them where they recur as plain text. */
  decoded: Map<string, string>;
}

/** The secret parts of a credential finding (the password of `Basic <base64 user:password>` or of URL userinfo), decoded. */
function credentialSecrets(detector: string, value: string): string[] {
  if (detector === 'basic-auth') {
    const pair = Buffer.from(value, 'base64').toString('utf8');
    const colon = pair.indexOf(':');
    return colon < 0 || /[\x00-\x1f\x7f\ufffd]/.test(pair) ? [] : [pair, pair.slice(colon + 1)];
  }
  if (detector === 'url-credentials') {
    const password = value.slice(value.indexOf(':') + 1);
    let decoded = password;
    try {
      decoded = decodeURIComponent(password);
    } catch {
      // Not percent-encoding after all: the password reads as written.
    }
    return decoded === password ? [password] : [password, decoded];
  }
  return [];
}

function redactLayers(text: string, tokenizer: Tokenizer, depth: number, into: Redaction, issuedTokens: IssuedTokenCheck | undefined): string {
  const profile = profileText(text);
  const surface = detectSurface(text, profile, true, depth, issuedTokens);
  const matches = depth < MAX_DECODE_DEPTH ? deferToDecoded(text, profile, surface) : surface;
  let out = '';
  if (matches.length === 0) out = text;
  else {
    let cursor = 0;
    for (const match of matches) {
      const tokenType = TOKEN_TYPE_OF.get(match.detector);
      const value = text.slice(match.start, match.end);
      const replacement = tokenType === undefined ? `[redacted:${match.detector}]` : tokenizer.token(value, tokenType);
      into.found.push(value);
      if (depth > 0) into.decoded.set(value, replacement);
      for (const secret of credentialSecrets(match.detector, value)) {
        into.found.push(secret);
        into.decoded.set(secret, replacement);
      }
      out += text.slice(cursor, match.start) + replacement;
      cursor = match.end;
      into.hits.set(match.detector, (into.hits.get(match.detector) ?? 0) + 1);
    }
    out += text.slice(cursor);
  }
  if (depth >= MAX_DECODE_DEPTH) return out;
  const spans = findEncodedSpans(out, out === text ? profile.base64Runs : undefined);
  if (spans.length === 0) return out;
  let rebuilt = '';
  let cursor = 0;
  for (const span of spans) {
    const inner = redactLayers(span.decoded, tokenizer, depth + 1, into, issuedTokens);
    if (inner === span.decoded) continue;
    into.found.push(out.slice(span.start, span.end));
    rebuilt += out.slice(cursor, span.start) + span.encode(inner);
    cursor = span.end;
  }
  return cursor === 0 ? out : rebuilt + out.slice(cursor);
}

/**
 * Replaces every finding (personal data by its token, secrets by `[redacted:<detector>]`), in the text
 * and inside its encoded parts: a part whose decoded form changed is encoded back the way it was
 * (same base64 alphabet and padding, same percent-encoding, same JSON escapes), so it keeps its shape.
 */
export function redactText(text: string, tokenizer: Tokenizer, options: DetectOptions = {}): Redaction {
  const into: Redaction = { text, hits: new Map(), found: [], decoded: new Map() };
  // A token issued in an encoded part is met again when the layer above is scanned: it is the call's own.
  const own = issuedTokenSet();
  const recording: Tokenizer = {
    ...tokenizer,
    token(value, type) {
      const token = tokenizer.token(value, type);
      own.add(type, token);
      return token;
    },
  };
  const given = options.issuedTokens;
  const issued: IssuedTokenCheck = given === undefined ? own.has : (type, value) => own.has(type, value) || given(type, value);
  into.text = redactLayers(text, recording, 0, into, issued);
  return into;
}

const SECRET_KEY_NAME = /(?:^|[^a-z])(?:pass(?:word|wd)?|pwd|secret|token|api[-_]?key|private[-_]?key|credentials?|authorization|cookie|session|jsessionid|phpsessid|sessid|sid|cftoken)(?:$|[^a-z])/i;

/** True for key names whose string values are credentials whatever they look like (`password`, `x-api-key`, `paymentToken`). */
export function isSecretKeyName(key: string): boolean {
  const spaced = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2');
  return SECRET_KEY_NAME.test(spaced);
}
