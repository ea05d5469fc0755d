// Reading an alert body safely: strict UTF-8, JSON errors that name where they are, and a bounded
// scan of the parsed value (depth, attribute and key counts, prototype keys) before any code walks it.
import { HttpError } from './http';

/** Structural limits of an accepted body (its byte size is limited by `maxBodyBytes`). */
export interface BodyLimits {
  /** Objects and arrays nested deeper than this are refused (422 JSON_TOO_DEEP). */
  maxDepth: number;
  /** OTLP attributes (`attributes` entries and `kvlistValue.values`) summed over the export (413 TOO_MANY_ATTRIBUTES). */
  maxAttributes: number;
  /** Keys of any one JSON object (413 TOO_MANY_KEYS). */
  maxKeysPerObject: number;
}

export const DEFAULT_BODY_LIMITS: BodyLimits = { maxDepth: 64, maxAttributes: 10_000, maxKeysPerObject: 10_000 };

/** The offset of the first byte that is not part of well-formed UTF-8, or -1. */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] ?? 0;
    if (lead < 0x80) {
      i += 1;
      continue;
    }
    let need: number;
    let low = 0x80;
    let high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) need = 1;
    else if (lead === 0xe0) [need, low] = [2, 0xa0];
    else if (lead === 0xed) [need, high] = [2, 0x9f];
    else if (lead >= 0xe1 && lead <= 0xef) need = 2;
    else if (lead === 0xf0) [need, low] = [3, 0x90];
    else if (lead === 0xf4) [need, high] = [3, 0x8f];
    else if (lead >= 0xf1 && lead <= 0xf3) need = 3;
    else return i;
    for (let k = 1; k <= need; k += 1) {
      const next = bytes[i + k];
      if (next === undefined || next < (k === 1 ? low : 0x80) || next > (k === 1 ? high : 0xbf)) return i;
    }
    i += need + 1;
  }
  return -1;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The body as text; 400 INVALID_UTF8 naming the first bad byte when it is not UTF-8 (RFC 8259 §8.1). */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    const offset = invalidUtf8Offset(bytes);
    throw new HttpError(400, 'INVALID_UTF8', `the body is not valid UTF-8: byte ${offset} (0x${(bytes[offset] ?? 0).toString(16).padStart(2, '0')}) starts no well-formed sequence; JSON bodies must be UTF-8`, {
      offset,
    });
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** The end of the JSON string starting at `start` (past its closing quote), or `-(offset + 1)` of its first error. */
function scanString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === 0x22) return i + 1;
    if (code < 0x20) return -(i + 1);
    if (code === 0x5c) {
      const escape = text[i + 1];
      if (escape === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return -(i + 1);
        i += 6;
      } else if (escape !== undefined && '"\\/bfnrt'.includes(escape)) i += 2;
      else return -(i + 1);
    } else i += 1;
  }
  return -(text.length + 1);
}

/**
 * Where JSON.parse gave up: the offset of the first character that cannot continue a JSON text
 * (the length when the text ends early), or -1 when the text is valid.
 */
export function jsonErrorOffset(text: string): number {
  const open: ('{' | '[')[] = [];
  let state: 'value' | 'firstValue' | 'after' | 'key' | 'firstKey' | 'colon' = 'value';
  let i = 0;
  for (;;) {
    while (i < text.length && ' \t\n\r'.includes(text.charAt(i))) i += 1;
    if (i >= text.length) return state === 'after' && open.length === 0 ? -1 : text.length;
    const ch = text.charAt(i);
    if (state === 'value' || state === 'firstValue') {
      if (state === 'firstValue' && ch === ']') {
        open.pop();
        i += 1;
        state = 'after';
      } else if (ch === '{' || ch === '[') {
        open.push(ch);
        i += 1;
        state = ch === '{' ? 'firstKey' : 'firstValue';
      } else if (ch === '"') {
        const end = scanString(text, i);
        if (end < 0) return -end - 1;
        i = end;
        state = 'after';
      } else {
        const literal = ['true', 'false', 'null'].find((word) => word.startsWith(ch));
        if (literal !== undefined) {
          for (let k = 0; k < literal.length; k += 1) if (text[i + k] !== literal[k]) return Math.min(i + k, text.length);
          i += literal.length;
        } else {
          NUMBER.lastIndex = i;
          const number = NUMBER.exec(text)?.[0];
          if (!number) return i;
          i += number.length;
        }
        state = 'after';
      }
    } else if (state === 'after') {
      const top = open[open.length - 1];
      if (top === undefined) return i;
      if (ch === ',') state = top === '{' ? 'key' : 'value';
      else if ((ch === '}' && top === '{') || (ch === ']' && top === '[')) open.pop();
      else return i;
      i += 1;
    } else if (state === 'key' || state === 'firstKey') {
      if (state === 'firstKey' && ch === '}') {
        open.pop();
        i += 1;
        state = 'after';
        continue;
      }
      if (ch !== '"') return i;
      const end = scanString(text, i);
      if (end < 0) return -end - 1;
      i = end;
      state = 'colon';
    } else {
      if (ch !== ':') return i;
      i += 1;
      state = 'value';
    }
  }
}

/** Parses the body; 400 INVALID_JSON quoting the parser and naming the position, line and column. */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const offset = jsonErrorOffset(text);
    const at = offset < 0 ? offset : Math.min(offset, text.length);
    const before = text.slice(0, Math.max(at, 0));
    const line = before.split('\n').length;
    const column = at - before.lastIndexOf('\n');
    const where = at < 0 ? '' : at === text.length ? ` at position ${at} (line ${line}, column ${column}): the body ends before the JSON does; was it cut off?` : ` at position ${at} (line ${line}, column ${column})`;
    throw new HttpError(400, 'INVALID_JSON', `the body is not valid JSON: ${(error as Error).message.slice(0, 300)}${where}`, at < 0 ? {} : { position: at, line, column });
  }
}

interface Frame {
  container: object;
  keys: string[] | undefined;
  length: number;
  index: number;
  name: string | number | undefined;
}

function pathOf(stack: readonly Frame[], last?: string | number): string {
  const names = [...stack.slice(1).map((frame) => frame.name), ...(last === undefined ? [] : [last])];
  const parts = names.map((name) => (typeof name === 'number' ? `[${name}]` : /^[A-Za-z_$][\w$]*$/.test(name ?? '') ? `.${name}` : `[${JSON.stringify(name)}]`));
  const path = `$${parts.join('')}`;
  return path.length > 300 ? `${path.slice(0, 140)}…${path.slice(-140)}` : path;
}

/**
 * Walks a parsed body without recursion and refuses it before anything else reads it when it nests
 * deeper than `maxDepth`, carries more OTLP attributes than `maxAttributes` or an object with more
 * keys than `maxKeysPerObject`, or uses `__proto__` as a key or attribute name.
 */
export function checkBodyStructure(value: unknown, limits: BodyLimits = DEFAULT_BODY_LIMITS): void {
  const stack: Frame[] = [];
  let attributes = 0;
  const enter = (node: object, name: string | number | undefined): void => {
    if (stack.length + 1 > limits.maxDepth) {
      const path = pathOf(stack, name);
      throw new HttpError(422, 'JSON_TOO_DEEP', `the body nests objects and arrays deeper than ${limits.maxDepth} levels (at ${path}); the depth limit is ${limits.maxDepth}`, {
        limit: limits.maxDepth,
        path,
      });
    }
    if (Array.isArray(node)) {
      stack.push({ container: node, keys: undefined, length: node.length, index: 0, name });
      return;
    }
    const keys = Object.keys(node);
    const frame: Frame = { container: node, keys, length: keys.length, index: 0, name };
    stack.push(frame);
    if (keys.length > limits.maxKeysPerObject) {
      const path = pathOf(stack);
      throw new HttpError(413, 'TOO_MANY_KEYS', `the object at ${path} has ${keys.length} keys; the limit is ${limits.maxKeysPerObject} keys per object`, { limit: limits.maxKeysPerObject, path });
    }
    const record = node as Record<string, unknown>;
    const forbidden = Object.hasOwn(record, '__proto__') ? '__proto__' : record.key === '__proto__' && 'value' in record ? 'key' : undefined;
    if (forbidden !== undefined) {
      const path = pathOf(stack, forbidden === 'key' ? 'key' : undefined);
      throw new HttpError(422, 'FORBIDDEN_KEY', `the body uses "__proto__" as ${forbidden === 'key' ? 'an attribute name' : 'a key'} (at ${path}); such keys are refused`, { path });
    }
    const counted = Array.isArray(record.attributes) ? record.attributes.length : 0;
    const kvlist = name === 'kvlistValue' && Array.isArray(record.values) ? record.values.length : 0;
    attributes += counted + kvlist;
    if (attributes > limits.maxAttributes) {
      const path = pathOf(stack, counted > 0 ? 'attributes' : 'values');
      throw new HttpError(413, 'TOO_MANY_ATTRIBUTES', `the body carries more than ${limits.maxAttributes} attributes (passed at ${path}); the limit is ${limits.maxAttributes} attributes per export`, {
        limit: limits.maxAttributes,
        path,
      });
    }
  };
  if (value === null || typeof value !== 'object') return;
  enter(value, undefined);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Frame;
    if (frame.index >= frame.length) {
      stack.pop();
      continue;
    }
    const name = frame.keys ? (frame.keys[frame.index] as string) : frame.index;
    frame.index += 1;
    const child = (frame.container as Record<string | number, unknown>)[name];
    if (child !== null && typeof child === 'object') enter(child, name);
  }
}
