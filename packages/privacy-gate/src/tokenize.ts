import { createHmac } from 'node:crypto';
import { TracemendError } from '@tracemend/contracts';

/** The HMAC key tokens are derived from; it lives outside the pipeline and is never logged or stored. */
export interface TokenKey {
  id: string;
  secret: string | Uint8Array;
}

/** Token formats: each keeps the value valid for the validators a replay meets. */
export const TOKEN_TYPES = ['email', 'phone', 'name', 'uuid', 'ip', 'card', 'text', 'number'] as const;
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
