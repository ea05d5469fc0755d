import { createHash } from 'node:crypto';

/** A JSON value as the envelope carries it (entry bodies, arguments, payloads). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object, keys in their original order. */
export type JsonObject = { [key: string]: JsonValue };

/**
 * JSON text with object keys sorted at every depth, so equal values give equal text whatever their key
 * order. `undefined` and bigints get their own spellings; functions and symbols have no content to hash
 * and throw (give `ddmin` a `keyOf` for such items).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : String(value);
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
  }
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return `${value}n`;
  throw new TypeError(`cannot hash a ${typeof value} by content`);
}

/** SHA-256 (hex) of a candidate's canonical JSON: the cache key of a judgement. */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

export function isJsonObject(value: JsonValue): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
