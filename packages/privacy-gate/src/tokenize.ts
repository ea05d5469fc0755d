import { createHmac } from 'node:crypto';
import { TracemendError } from '@tracemend/contracts';

/** The HMAC key tokens are derived from; it lives outside the pipeline and is never logged or stored. */
export interface TokenKey {
  id: string;
  secret: string | Uint8Array;
}

/** Token formats: each keeps the value valid for the validators a replay meets. */
export const TOKEN_TYPES = ['email', 'phone', 'name', 'uuid', 'ip', 'card', 'date', 'text', 'number'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];

const MIN_SECRET_BYTES = 32;

/** Deterministic, format-preserving tokens and keyed hashes under one key. */
export interface Tokenizer {
  readonly keyId: string;
  /** Tokenizes a string as `type`; a value that does not parse as that type becomes a text token. */
  token(value: string, type: TokenType): string;
  /** Tokenizes a number keeping its sign and digit count. */
  numberToken(value: number): number;
  /** `sha256:<hex16>`, keyed, over the value's JSON form. */
  hash(value: unknown): string;
}

/**
 * Every key tokens may be under. `current` makes every new token and hash; `previous` keys make none
 * but stay so that a token from before a rotation can still be traced to the key that made it.
 */
export interface TokenKeyring {
  current: TokenKey;
  previous?: readonly TokenKey[];
}

/** Tokenizers for every key of a ring. */
export interface Keyring {
  /** The tokenizer of the current key: the only one the gate uses. */
  readonly current: Tokenizer;
  /** Key ids, current first. */
  readonly keyIds: readonly string[];
  tokenizer(keyId: string): Tokenizer | undefined;
  /**
   * The id of the key under which `value` becomes `token` (as `type`, or as a keyed hash for
   * `'hash'`), or undefined when no key of the ring made it.
   */
  keyIdOf(value: string, type: TokenType | 'hash', token: string): string | undefined;
}

/** True when `key` is a keyring rather than a single key. */
export function isTokenKeyring(key: TokenKey | TokenKeyring): key is TokenKeyring {
  return 'current' in key;
}

/** Builds the tokenizers of a keyring; key ids must be distinct and no secret may repeat under another id. */
export function createKeyring(ring: TokenKeyring): Keyring {
  const keys = [ring.current, ...(ring.previous ?? [])];
  const tokenizers = new Map<string, Tokenizer>();
  const secrets = new Map<string, string>();
  for (const key of keys) {
    if (tokenizers.has(key.id)) throw new TracemendError('INVALID_INPUT', `token key id ${key.id} appears twice in the keyring`);
    const tokenizer = createTokenizer(key);
    // The keyed hash of a fixed text tells equal secrets apart without keeping them.
    const fingerprint = tokenizer.hash('keyring');
    const twin = secrets.get(fingerprint);
    if (twin !== undefined) throw new TracemendError('INVALID_INPUT', `token keys ${twin} and ${key.id} share one secret`);
    secrets.set(fingerprint, key.id);
    tokenizers.set(key.id, tokenizer);
  }
  const current = tokenizers.get(ring.current.id) as Tokenizer;
  return {
    current,
    keyIds: [...tokenizers.keys()],
    tokenizer: (keyId) => tokenizers.get(keyId),
    keyIdOf(value, type, token) {
      for (const [id, tokenizer] of tokenizers) {
        if ((type === 'hash' ? tokenizer.hash(value) : tokenizer.token(value, type)) === token) return id;
      }
      return undefined;
    },
  };
}

/** Builds a tokenizer; the secret must hold at least 32 bytes. */
export function createTokenizer(key: TokenKey): Tokenizer {
  const secret = typeof key.secret === 'string' ? Buffer.from(key.secret, 'utf8') : Buffer.from(key.secret);
  if (key.id.length === 0) throw new TracemendError('INVALID_INPUT', 'token key id is empty');
  if (secret.length < MIN_SECRET_BYTES) {
    throw new TracemendError('INVALID_INPUT', `token key ${key.id} is shorter than ${MIN_SECRET_BYTES} bytes`);
  }
  const mac = (domain: string, value: string): Buffer =>
    createHmac('sha256', secret).update(domain).update('\u001f').update(value).digest();

  return {
    keyId: key.id,
    token(value, type) {
      switch (type) {
        case 'email':
          return emailToken(value, mac) ?? textToken(value, mac);
        case 'phone':
          return phoneToken(value, mac) ?? textToken(value, mac);
        case 'name':
          return `Name ${mac('name', value.trim().toLowerCase()).toString('hex').slice(0, 6)}`;
        case 'uuid':
          return uuidToken(value, mac) ?? textToken(value, mac);
        case 'ip':
          return ipToken(value, mac) ?? textToken(value, mac);
        case 'card':
          return cardToken(value, mac) ?? textToken(value, mac);
        case 'date':
          return dateToken(value, mac) ?? textToken(value, mac);
        case 'number': {
          const parsed = Number(value);
          return Number.isFinite(parsed) && value.trim() !== '' ? String(numberToken(parsed, mac)) : textToken(value, mac);
        }
        case 'text':
          return textToken(value, mac);
      }
    },
    numberToken: (value) => numberToken(value, mac),
    hash: (value) => `sha256:${mac('hash', JSON.stringify(value) ?? 'undefined').toString('hex').slice(0, 16)}`,
  };
}

type Mac = (domain: string, value: string) => Buffer;

function textToken(value: string, mac: Mac): string {
  return `tok_${mac('text', value).toString('hex').slice(0, 12)}`;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function emailToken(value: string, mac: Mac): string | undefined {
  const normalized = value.trim().toLowerCase();
  if (!EMAIL.test(normalized)) return undefined;
  return `u${mac('email', normalized).toString('hex').slice(0, 8)}@example.com`;
}

/** Digits of a phone number written in E.164 or a common international format, or undefined. */
export function phoneDigits(value: string): string | undefined {
  const trimmed = value.trim();
  if (!/^\+?[\d\s().-]+$/.test(trimmed)) return undefined;
  const digits = trimmed.replace(/\D/g, '');
  return digits.length >= 7 && digits.length <= 15 ? digits : undefined;
}

// NANP reserves 555-0100..0199 in every area code for fiction: +1 NPA 555 01XX.
function phoneToken(value: string, mac: Mac): string | undefined {
  const digits = phoneDigits(value);
  if (digits === undefined) return undefined;
  const bytes = mac('phone', digits);
  const areaCode = 201 + (bytes.readUInt16BE(0) % 789);
  const line = bytes.readUInt8(2) % 100;
  return `+1${areaCode}55501${String(line).padStart(2, '0')}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuidToken(value: string, mac: Mac): string | undefined {
  if (!UUID.test(value.trim())) return undefined;
  const bytes = mac('uuid', value.trim().toLowerCase()).subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const DOC_V4_NETS = ['192.0.2', '198.51.100', '203.0.113'] as const;

function ipToken(value: string, mac: Mac): string | undefined {
  const trimmed = value.trim();
  if (IPV4.test(trimmed)) {
    const bytes = mac('ipv4', trimmed);
    const net = DOC_V4_NETS[(bytes[0] ?? 0) % DOC_V4_NETS.length];
    return `${net}.${1 + ((bytes[1] ?? 0) % 254)}`;
  }
  if (trimmed.includes(':') && /^[0-9a-f:.]+$/i.test(trimmed)) {
    const hex = mac('ipv6', trimmed.toLowerCase()).toString('hex');
    const groups = [0, 1, 2, 3, 4, 5].map((i) => hex.slice(i * 4, i * 4 + 4).replace(/^0+(?=.)/, ''));
    return `2001:db8:${groups.join(':')}`;
  }
  return undefined;
}

/** True when the digit string passes the Luhn check. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return digits.length > 0 && sum % 10 === 0;
}

function luhnCheckDigit(partial: string): string {
  for (let check = 0; check <= 9; check++) if (luhnValid(`${partial}${check}`)) return String(check);
  return '0';
}

/** Card tokens start with the well-known test prefix 424242, so they are never a real card. */
export const CARD_TOKEN_PREFIX = '424242';

function cardToken(value: string, mac: Mac): string | undefined {
  const trimmed = value.trim();
  if (!/^[\d -]+$/.test(trimmed)) return undefined;
  const digits = trimmed.replace(/\D/g, '');
  if (digits.length < 12 || digits.length > 19) return undefined;
  const bytes = mac('card', digits);
  let body = CARD_TOKEN_PREFIX;
  for (let i = 0; body.length < 15; i++) body += String((bytes[i] ?? 0) % 10);
  const token = body + luhnCheckDigit(body);
  if (digits.length !== 16) return token;
  // Keep the original grouping (spaces or dashes) of a 16-digit number.
  let out = '';
  let next = 0;
  for (const char of trimmed) out += /\d/.test(char) ? token[next++] : char;
  return out;
}

function numberToken(value: number, mac: Mac): number {
  if (!Number.isFinite(value)) return value;
  const magnitude = Math.trunc(Math.abs(value));
  const digits = String(magnitude).length;
  const bytes = mac('number', String(value));
  let text = '';
  for (let i = 0; i < digits; i++) {
    const digit = (bytes[i % bytes.length] ?? 0) % 10;
    text += i === 0 && digits > 1 ? String(1 + (digit % 9)) : String(digit);
  }
  return (value < 0 ? -1 : 1) * Number(text);
}

/**
 * Date tokens move every date under one key by the same number of whole weeks, at least
 * DATE_SHIFT_MIN_WEEKS and at most DATE_SHIFT_MAX_WEEKS, earlier or later (7 to 182 days). One
 * offset per key keeps the order of and the intervals between the dates of an incident, whole
 * weeks keep the weekday, and the time of day and zone are left as written, so date logic in a
 * replay sees what it saw in production, only on other days.
 */
export const DATE_SHIFT_MIN_WEEKS = 1;
export const DATE_SHIFT_MAX_WEEKS = 26;

const DAY_MS = 86_400_000;
// YYYY-MM-DD, optionally followed by a time (T or space), optional seconds and fraction, and an optional zone.
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})((?:[T ])(?:[01]\d|2[0-3]):[0-5]\d(?::(?:[0-5]\d|60)(?:\.\d{1,9})?)?(?:Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?)?$/i;

/** The keyed shift of date tokens in days (a non-zero multiple of 7 within the documented range). */
function dateShiftDays(mac: Mac): number {
  const bytes = mac('date', 'offset');
  const span = DATE_SHIFT_MAX_WEEKS - DATE_SHIFT_MIN_WEEKS + 1;
  const weeks = DATE_SHIFT_MIN_WEEKS + (bytes.readUInt16BE(0) % span);
  return ((bytes[2] ?? 0) & 1 ? 1 : -1) * weeks * 7;
}

function dateToken(value: string, mac: Mac): string | undefined {
  const match = ISO_DATE.exec(value.trim());
  if (match === null) return undefined;
  const [, year = '', month = '', day = '', time = ''] = match;
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  // A date that does not exist (2026-02-30) is no date: Date would roll it over.
  if (date.getUTCFullYear() !== Number(year) || date.getUTCMonth() !== Number(month) - 1 || date.getUTCDate() !== Number(day)) return undefined;
  const shifted = new Date(date.getTime() + dateShiftDays(mac) * DAY_MS);
  const shiftedYear = shifted.getUTCFullYear();
  if (shiftedYear < 0 || shiftedYear > 9999) return undefined;
  const pad = (number: number, width = 2): string => String(number).padStart(width, '0');
  return `${pad(shiftedYear, 4)}-${pad(shifted.getUTCMonth() + 1)}-${pad(shifted.getUTCDate())}${time}`;
}
