import type { PayloadKind } from './options.js';

/** Where a value sits: the payload kind and the key path inside it ([] for the whole payload). */
export interface RedactContext {
  kind: PayloadKind;
  path: readonly (string | number)[];
}

/**
 * Returns the value to record instead of `value`: `value` itself keeps it (and descends into objects),
 * `undefined` drops it (for the whole payload: nothing is recorded).
 */
export type Redactor = (value: unknown, context: RedactContext) => unknown;

/** The replacement the default redactor writes. */
export const REDACTED = '[REDACTED]';

// Key names that hold credentials in practically every service; matched against the last path segment.
const SECRET_KEY = /passw(?:or)?d|^pwd$|secret|token|authori[sz]ation|cookie|api[-_]?key|private[-_]?key|credential|session[-_]?id|^auth$/i;
const SECRET_KEY_SOURCE = String.raw`[^"=&\s]*(?:passw(?:or)?d|secret|token|authori[sz]ation|cookie|api[-_]?key|private[-_]?key|credential|session[-_]?id)[^"=&\s]*`;
const JSON_SECRET_PAIR = new RegExp(String.raw`("${SECRET_KEY_SOURCE}"\s*:\s*)(?:"(?:[^"\\]|\\.)*"?|-?\d[\d.eE+-]*)`, 'gi');
const FORM_SECRET_PAIR = new RegExp(String.raw`(^|&)(${SECRET_KEY_SOURCE})=[^&]*`, 'gi');
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;

/** True when a key name looks like it holds a credential (authorization, cookie, password, token, secret, api key …). */
export function isSecretKey(key: string | number): boolean {
  return typeof key === 'string' && SECRET_KEY.test(key);
}

/**
 * Masks values under secret-looking keys; on a whole text payload (also a cut-off JSON or form body
 * that cannot be parsed) it masks `"key": "…"`, `key=…` and bearer/basic credentials.
 */
export const defaultRedactor: Redactor = (value, { path }) => {
  const key = path[path.length - 1];
  if (key !== undefined && isSecretKey(key) && value !== null && value !== undefined) return REDACTED;
  if (path.length === 0 && typeof value === 'string') return redactText(value);
  return value;
};

/** Masks credentials in unstructured text with the default key patterns. */
export function redactText(text: string): string {
  return text
    .replace(JSON_SECRET_PAIR, `$1"${REDACTED}"`)
    .replace(FORM_SECRET_PAIR, `$1$2=${REDACTED}`)
    .replace(BEARER, `$1 ${REDACTED}`);
}

/** Applies a redactor to every node of a JSON-shaped value, root first; a replaced node is not descended into. */
export function redactValue(value: unknown, kind: PayloadKind, redact: Redactor, path: (string | number)[] = []): unknown {
  const replaced = redact(value, { kind, path });
  if (replaced !== value) return replaced;
  if (Array.isArray(value)) return value.map((item, index) => redactValue(item, kind, redact, [...path, index]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = redactValue(item, kind, redact, [...path, key]);
    return out;
  }
  return value;
}
