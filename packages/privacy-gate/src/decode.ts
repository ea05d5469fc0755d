/** How a span of text is encoded: `json-string` is a JSON string literal with escapes, `percent` a URL or form component. */
export type Encoding = 'json-string' | 'percent' | 'base64';

/** A [start, end) range of a text. */
export interface Span {
  start: number;
  end: number;
}

/** One encoded span of a text: where it is, what it decodes to and how to encode a changed decoded text the same way. */
export interface EncodedSpan {
  encoding: Encoding;
  start: number;
  end: number;
  decoded: string;
  encode(decoded: string): string;
}

/** Layers of encoding decoded below a text (base64 in a JSON string in a log body is two). */
export const MAX_DECODE_DEPTH = 3;
/** Longer encoded spans are judged as they look: decoding them would cost more than the texts the gate is sized for. */
export const MAX_ENCODED_LENGTH = 1 << 20;
/** Shorter base64 runs decode to at most 11 bytes: too short to carry a value, too common as plain words. */
export const BASE64_MIN_LENGTH = 16;

/** Char codes of `[A-Za-z0-9+/_-]`, the body of a base64 or base64url run. */
const BASE64_BODY = new Uint8Array(128);
/** Char codes a percent-encoded URL or form component stops at. */
const COMPONENT_END = new Uint8Array(128);
for (let code = 0; code < 128; code++) {
  const char = String.fromCharCode(code);
  BASE64_BODY[code] = /[A-Za-z0-9+/_-]/.test(char) ? 1 : 0;
  // Not `(` and `)`: `encodeURIComponent` leaves them raw, so they sit inside components (`%2B1%20(847)%20…`).
  COMPONENT_END[code] = /[\s"'<>\\&=?#;,/[\]{}|^`]/.test(char) ? 1 : 0;
}
/** The 6-bit value of each base64 and base64url character. */
const BASE64_VALUE = new Uint8Array(128);
[...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'].forEach((char, value) => (BASE64_VALUE[char.charCodeAt(0)] = value));
BASE64_VALUE[43] = BASE64_VALUE[45] = 62; // + and -
BASE64_VALUE[47] = BASE64_VALUE[95] = 63; // / and _
const isBase64Body = (code: number): boolean => code < 128 && BASE64_BODY[code] === 1;

/**
 * Whether the first three bytes a base64 run encodes can start UTF-8 text (no control character, no
 * stray continuation byte). Decoding nothing, it turns most binary and hex ids away before any copy.
 */
function mayStartText(text: string, start: number): boolean {
  const v0 = BASE64_VALUE[text.charCodeAt(start)] ?? 0;
  const v1 = BASE64_VALUE[text.charCodeAt(start + 1)] ?? 0;
  const v2 = BASE64_VALUE[text.charCodeAt(start + 2)] ?? 0;
  const v3 = BASE64_VALUE[text.charCodeAt(start + 3)] ?? 0;
  let continuations = 0;
  // No closures or arrays here: this runs for every long run of every text.
  for (let k = 0; k < 3; k++) {
    const byte = k === 0 ? (v0 << 2) | (v1 >> 4) : k === 1 ? ((v1 & 15) << 4) | (v2 >> 2) : ((v2 & 3) << 6) | v3;
    if (continuations > 0) {
      if ((byte & 0xc0) !== 0x80) return false;
      continuations--;
    } else if (byte < 0x80) {
      if ((byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) || byte === 0x7f) return false;
    } else if (byte >= 0xc2 && byte <= 0xdf) continuations = 1;
    else if (byte >= 0xe0 && byte <= 0xef) continuations = 2;
    else if (byte >= 0xf0 && byte <= 0xf4) continuations = 3;
    else return false;
  }
  return true;
}
const endsComponent = (code: number): boolean => code < 128 && COMPONENT_END[code] === 1;

/**
 * The bytes as text when they are valid UTF-8 without control characters (tab and line breaks aside);
 * otherwise undefined. Checked byte by byte, so binary is refused at its first telling byte.
 */
function printableText(bytes: Uint8Array): string | undefined {
  const length = bytes.length;
  for (let i = 0; i < length; ) {
    const byte = bytes[i] ?? 0;
    if (byte < 0x80) {
      if ((byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) || byte === 0x7f) return undefined;
      i++;
      continue;
    }
    // Lead bytes C2–DF, E0–EF and F0–F4 start 2, 3 and 4 byte sequences; overlong and surrogate forms are refused.
    const size = byte >= 0xc2 && byte <= 0xdf ? 2 : byte >= 0xe0 && byte <= 0xef ? 3 : byte >= 0xf0 && byte <= 0xf4 ? 4 : 0;
    if (size === 0 || i + size > length) return undefined;
    const second = bytes[i + 1] ?? 0;
    const low = byte === 0xe0 ? 0xa0 : byte === 0xf0 ? 0x90 : 0x80;
    const high = byte === 0xed ? 0x9f : byte === 0xf4 ? 0x8f : 0xbf;
    if (second < low || second > high) return undefined;
    for (let k = 2; k < size; k++) if (((bytes[i + k] ?? 0) & 0xc0) !== 0x80) return undefined;
    // C1 controls (U+0080–U+009F) mean the bytes were not text to begin with.
    if (byte === 0xc2 && second < 0xa0) return undefined;
    i += size;
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** The base64 flavour of a run, so a changed text is encoded back in the same one. */
interface Base64Form {
  url: boolean;
  padded: boolean;
}

function encodeBase64(bytes: Buffer, form: Base64Form): string {
  const bare = bytes.toString(form.url ? 'base64url' : 'base64').replace(/=+$/, '');
  return form.padded ? bare + '='.repeat((4 - (bare.length % 4)) % 4) : bare;
}

/**
 * The text a base64 or base64url run stands for, when the run is canonical (it encodes back to itself)
 * and decodes to printable UTF-8; undefined for anything else (binary, hex ids, words, mixed alphabets).
 */
export function decodeBase64Text(run: string): { text: string; form: Base64Form } | undefined {
  if (run.length < BASE64_MIN_LENGTH || run.length > MAX_ENCODED_LENGTH) return undefined;
  const padded = run.endsWith('=');
  const body = padded ? run.replace(/=+$/, '') : run;
  if (padded ? run.length % 4 !== 0 : body.length % 4 === 1) return undefined;
  const url = /[-_]/.test(body);
  if (url && /[+/]/.test(body)) return undefined;
  const bytes = Buffer.from(body, url ? 'base64url' : 'base64');
  const text = printableText(bytes);
  if (text === undefined) return undefined;
  const form = { url, padded };
  return encodeBase64(bytes, form) === run ? { text, form } : undefined;
}

/** The base64 run around [start, end): `[A-Za-z0-9+/_-]` on both sides, then up to two `=` of padding. */
export function base64RunAround(text: string, start: number, end: number): { start: number; end: number } {
  let from = start;
  let to = end;
  while (from > 0 && isBase64Body(text.charCodeAt(from - 1))) from--;
  while (to < text.length && isBase64Body(text.charCodeAt(to))) to++;
  for (let pad = 0; pad < 2 && text.charCodeAt(to) === 61; pad++) to++;
  return { start: from, end: to };
}

/** The base64 run around [start, end) when it stands on its own and decodes to printable text (what `findEncodedSpans` decodes). */
export function isBase64TextAround(text: string, start: number, end: number): boolean {
  const run = base64RunAround(text, start, end);
  return !isBase64Body(text.charCodeAt(run.end)) && decodeBase64Text(text.slice(run.start, run.end)) !== undefined;
}

/** Leading bytes of file formats that travel as base64 (images, PDF): content, not a key. */
const FILE_SIGNATURES: readonly (readonly number[])[] = [
  [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], // PNG
  [0xff, 0xd8, 0xff], // JPEG
  [0x47, 0x49, 0x46, 0x38], // GIF8
  [0x25, 0x50, 0x44, 0x46, 0x2d], // %PDF-
  [0x00, 0x00, 0x01, 0x00], // ICO
];

/** True when the base64 run around [start, end) holds a file of a known format (a PNG, a JPEG, a PDF): binary that is no secret. */
export function isBase64FileAround(text: string, start: number, end: number): boolean {
  const run = base64RunAround(text, start, end);
  if (run.end - run.start < BASE64_MIN_LENGTH) return false;
  const head = text.slice(run.start, run.start + 16);
  const bytes = Buffer.from(head, /[-_]/.test(head) ? 'base64url' : 'base64');
  const webp = bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP';
  return webp || FILE_SIGNATURES.some((signature) => signature.every((byte, index) => bytes[index] === byte));
}

/** The [start, end) pairs of the runs of `[A-Za-z0-9+/_-]` of at least `BASE64_MIN_LENGTH` characters, padding not included. */
export function base64Runs(text: string): number[] {
  const runs: number[] = [];
  let runStart = -1;
  for (let i = 0; i <= text.length; i++) {
    if (i < text.length && isBase64Body(text.charCodeAt(i))) {
      if (runStart < 0) runStart = i;
    } else if (runStart >= 0) {
      if (i - runStart >= BASE64_MIN_LENGTH) runs.push(runStart, i);
      runStart = -1;
    }
  }
  return runs;
}

function findBase64(text: string, runs: readonly number[], skip: readonly Span[], out: EncodedSpan[]): void {
  for (let r = 0; r + 1 < runs.length; r += 2) {
    const start = runs[r] ?? 0;
    let end = runs[r + 1] ?? 0;
    const bodyEnd = end;
    for (let pad = 0; pad < 2 && text.charCodeAt(end) === 61; pad++) end++;
    // A run that continues past its padding (`abc==def`) is not one base64 value.
    if (end > bodyEnd && isBase64Body(text.charCodeAt(end))) continue;
    if (!mayStartText(text, start) || overlaps(skip, start, end) || overlaps(out, start, end)) continue;
    const decoded = decodeBase64Text(text.slice(start, end));
    if (decoded === undefined) continue;
    const { form } = decoded;
    out.push({ encoding: 'base64', start, end, decoded: decoded.text, encode: (changed) => encodeBase64(Buffer.from(changed, 'utf8'), form) });
  }
}

const PERCENT_ESCAPE = /%[0-9A-Fa-f]{2}/g;
const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * Percent-encodes `decoded` as `source` was: characters `source` held raw stay raw, unreserved ones
 * too, and in a form component a space becomes `+`. Escapes keep the case of the first one in `source`.
 */
function encodePercent(decoded: string, source: string, form: boolean): string {
  const upper = !/%[0-9a-f]*[a-f]/.test(source);
  const raw = new Set(source.replace(PERCENT_ESCAPE, '').replace(form ? /\+/g : /(?!)/, ''));
  let out = '';
  for (const char of decoded) {
    if (UNRESERVED.test(char) || (raw.has(char) && char !== '%')) out += char;
    else if (form && char === ' ') out += '+';
    else {
      for (const byte of Buffer.from(char, 'utf8')) {
        const hex = byte.toString(16).padStart(2, '0');
        out += `%${upper ? hex.toUpperCase() : hex}`;
      }
    }
  }
  return out;
}

function findPercent(text: string, skip: readonly Span[], out: EncodedSpan[]): void {
  PERCENT_ESCAPE.lastIndex = 0;
  let after = 0;
  for (let match = PERCENT_ESCAPE.exec(text); match !== null; match = PERCENT_ESCAPE.exec(text)) {
    if (match.index < after) continue;
    let start = match.index;
    while (start > 0 && !endsComponent(text.charCodeAt(start - 1))) start--;
    let end = match.index + 3;
    while (end < text.length && !endsComponent(text.charCodeAt(end))) end++;
    after = end;
    PERCENT_ESCAPE.lastIndex = end;
    if (end - start > MAX_ENCODED_LENGTH || overlaps(skip, start, end) || overlaps(out, start, end)) continue;
    const source = text.slice(start, end);
    // A query or form component (`?a=…&b=…`, a form body) writes a space as `+`.
    const before = start > 0 ? text[start - 1] : '';
    const form = before === '=' || before === '&' || before === '?';
    let decoded: string;
    try {
      decoded = decodeURIComponent(form ? source.replace(/\+/g, ' ') : source);
    } catch {
      continue;
    }
    if (decoded === source) continue;
    out.push({ encoding: 'percent', start, end, decoded, encode: (changed) => encodePercent(changed, source, form) });
  }
}

const JSON_STRING = /"(?:[^"\\\n\r]|\\.)*"/g;

const unicodeEscape = (char: string): string => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * `decoded` as a JSON string literal escaped the way `source` was: characters `source` wrote as
 * `\uXXXX` are written so again, `/` as `\/` when `source` did that, and all of non-ASCII as `\uXXXX`
 * when `source` kept to ASCII.
 */
function encodeJsonString(decoded: string, source: string): string {
  const escaped = new Set<string>();
  for (const match of source.matchAll(/\\u([0-9a-fA-F]{4})/g)) escaped.add(String.fromCharCode(Number.parseInt(match[1] ?? '0', 16)));
  const slash = source.includes('\\/');
  const asciiOnly = escaped.size > 0 && /^[\x00-\x7f]*$/.test(source);
  let out = '"';
  for (let i = 0; i < decoded.length; i++) {
    const char = decoded[i] ?? '';
    if (escaped.has(char) || (asciiOnly && char.charCodeAt(0) > 0x7f)) out += unicodeEscape(char);
    else if (slash && char === '/') out += '\\/';
    else out += JSON.stringify(char).slice(1, -1);
  }
  return `${out}"`;
}

function findJsonStrings(text: string, skip: readonly Span[], out: EncodedSpan[]): void {
  JSON_STRING.lastIndex = 0;
  for (let match = JSON_STRING.exec(text); match !== null; match = JSON_STRING.exec(text)) {
    const source = match[0];
    // Without an escape a string reads the same decoded; detection on the text already saw it.
    if (!source.includes('\\') || source.length > MAX_ENCODED_LENGTH || overlaps(skip, match.index, match.index + source.length)) continue;
    let decoded: unknown;
    try {
      decoded = JSON.parse(source);
    } catch {
      continue;
    }
    if (typeof decoded !== 'string' || decoded === source) continue;
    out.push({
      encoding: 'json-string',
      start: match.index,
      end: match.index + source.length,
      decoded,
      encode: (changed) => encodeJsonString(changed, source),
    });
  }
}

/**
 * The encoded spans of a text that decode to something else, outermost first and never overlapping:
 * JSON string literals with escapes, then percent-encoded URL and form components, then base64 and
 * base64url runs of printable UTF-8 text. A span's content can hold further layers. `runs` are the
 * text's `base64Runs`, when a pass over the text already found them; nothing overlapping `skip` is decoded.
 */
export function findEncodedSpans(text: string, runs: readonly number[] = base64Runs(text), skip: readonly Span[] = []): EncodedSpan[] {
  const found: EncodedSpan[] = [];
  if (text.includes('\\')) findJsonStrings(text, skip, found);
  if (text.includes('%')) findPercent(text, skip, found);
  if (runs.length > 0) findBase64(text, runs, skip, found);
  return found.length > 1 ? found.sort((a, b) => a.start - b.start) : found;
}

function overlaps(spans: readonly Span[], start: number, end: number): boolean {
  for (const span of spans) if (start < span.end && span.start < end) return true;
  return false;
}
