// A bounded reader of the protobuf wire format (https://protobuf.dev/programming-guides/encoding/).
// OTLP bodies arrive from the network, so every length is checked against the bytes that are left,
// every message knows how deep it sits, and every error names the field path and byte offset where
// the body stopped making sense, instead of a generic "index out of range" from generated code.
import { TracemendError } from '@tracemend/contracts';

/** The wire types of the protobuf encoding; 3 and 4 are the deprecated groups, which OTLP never uses. */
export const WireType = { VARINT: 0, I64: 1, LEN: 2, SGROUP: 3, EGROUP: 4, I32: 5 } as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

const WIRE_TYPE_NAMES = ['varint', '64-bit', 'length-delimited', 'start-group', 'end-group', '32-bit'];

/** Why a protobuf body was refused; a caller maps these to answers (a gateway: 400, 413 or 422). */
export type ProtobufProblem = 'truncated' | 'wire-type' | 'malformed' | 'too-deep' | 'too-many-attributes' | 'forbidden-key' | 'invalid-utf8';

/** A field on the way from the top-level message to where decoding stopped: a name, or an index into a repeated field. */
export interface FieldPath {
  readonly parent: FieldPath | undefined;
  readonly name: string | number;
}

/** `resourceSpans[0].scopeSpans[1].spans[2]` for a path; `$` for the top-level message. */
export function formatFieldPath(path: FieldPath | undefined): string {
  const parts: string[] = [];
  for (let node = path; node !== undefined; node = node.parent) parts.push(typeof node.name === 'number' ? `[${node.name}]` : `.${node.name}`);
  const text = parts.reverse().join('').replace(/^\./, '');
  if (text === '') return '$';
  return text.length > 300 ? `${text.slice(0, 140)}…${text.slice(-140)}` : text;
}

/** A protobuf body that cannot be decoded: INVALID_INPUT with the problem, byte offset and field path. */
export class ProtobufDecodeError extends TracemendError {
  readonly problem: ProtobufProblem;
  readonly offset: number;
  readonly path: string;
  readonly limit: number | undefined;

  constructor(problem: ProtobufProblem, message: string, where: { offset: number; path: FieldPath | undefined; limit?: number }) {
    const path = formatFieldPath(where.path);
    super('INVALID_INPUT', `${message} (at byte ${where.offset}, field ${path})`, {
      details: { problem, offset: where.offset, path, ...(where.limit === undefined ? {} : { limit: where.limit }) },
    });
    this.problem = problem;
    this.offset = where.offset;
    this.path = path;
    this.limit = where.limit;
  }
}

/** Field number → [name, wire type] of the fields a decoder reads; other fields are skipped (forward compatible). */
export type MessageFields = Readonly<Record<number, readonly [string, WireType]>>;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads one message's fields from `bytes[start, end)`. Nested messages get their own reader that
 * cannot read past the nested message's declared end, so a wrong length is caught where it occurs.
 */
export class WireReader {
  private pos: number;
  /** The field being read, for error messages. */
  private field: FieldPath | undefined;

  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    private readonly end: number,
    readonly path: FieldPath | undefined,
    /** How deep this message sits, counted as in the JSON mapping of the same data (see `nested`). */
    readonly depth: number,
  ) {
    this.pos = start;
    this.field = path;
  }

  /** A reader of a whole body. */
  static of(bytes: Uint8Array): WireReader {
    return new WireReader(bytes, 0, bytes.length, undefined, 1);
  }

  fail(problem: ProtobufProblem, message: string, limit?: number, offset = this.pos): never {
    throw new ProtobufDecodeError(problem, message, { offset, path: this.field, ...(limit === undefined ? {} : { limit }) });
  }

  /**
   * Calls `read(name)` for every known field of the message, after checking its wire type, and skips
   * unknown fields. Field number 0, wire types 6 and 7 and groups are refused.
   */
  forEachField(fields: MessageFields, read: (name: string) => void): void {
    while (this.pos < this.end) {
      const offset = this.pos;
      const key = this.length();
      const number = Math.floor(key / 8);
      const wireType = key % 8;
      if (number === 0 || number > 536_870_911) this.fail('malformed', `field number ${number} is not a valid protobuf field number; is this really a protobuf body?`, undefined, offset);
      if (wireType > WireType.I32) this.fail('wire-type', `wire type ${wireType} of field ${number} does not exist in protobuf; is this really a protobuf body?`, undefined, offset);
      if (wireType === WireType.SGROUP || wireType === WireType.EGROUP) this.fail('wire-type', `field ${number} uses a protobuf group (wire type ${wireType}), which OTLP never sends`, undefined, offset);
      const known = fields[number];
      if (known === undefined) {
        this.skip(wireType as WireType);
        continue;
      }
      const [name, expected] = known;
      this.field = { parent: this.path, name };
      if (wireType !== expected) {
        this.fail('wire-type', `field ${number} (${name}) arrived as ${WIRE_TYPE_NAMES[wireType] ?? wireType} but is ${WIRE_TYPE_NAMES[expected]} in the schema`, undefined, offset);
      }
      read(name);
      this.field = this.path;
    }
  }

  /**
   * The nested message of the current length-delimited field. `index` is its position when the field
   * is repeated; a repeated field is an array in the JSON mapping, so it costs one more level of depth.
   */
  nested(index: number | undefined, maxDepth: number): WireReader {
    const { start, end } = this.span();
    const field = this.field;
    const path: FieldPath | undefined = index === undefined ? field : { parent: field, name: index };
    const depth = this.depth + (index === undefined ? 1 : 2);
    if (depth > maxDepth) {
      throw new ProtobufDecodeError('too-deep', `the body nests messages deeper than ${maxDepth} levels (counted as in the OTLP/JSON mapping); the depth limit is ${maxDepth}`, {
        offset: start,
        path,
        limit: maxDepth,
      });
    }
    return new WireReader(this.bytes, start, end, path, depth);
  }

  /** An unsigned varint of up to 10 bytes (64 bits). */
  varint(): bigint {
    const start = this.pos;
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) this.fail('truncated', 'the body ends inside a varint; was it cut off?', undefined, start);
      const byte = this.bytes[this.pos] ?? 0;
      this.pos += 1;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    return this.fail('malformed', 'a varint runs longer than 10 bytes', undefined, start);
  }

  /**
   * A varint that is a tag or a length: read with numbers (tags and lengths are small, and BigInt
   * arithmetic would dominate decoding), exact up to 2^53; longer ones fall back to `varint`.
   */
  private length(): number {
    const start = this.pos;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 7 && this.pos < this.end; i += 1) {
      const byte = this.bytes[this.pos] ?? 0;
      this.pos += 1;
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      scale *= 128;
    }
    this.pos = start;
    const value = this.varint();
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
  }

  /** A varint read as a 32-bit unsigned number (uint32 fields). */
  uint32(): number {
    return Number(BigInt.asUintN(32, this.varint()));
  }

  /** A varint read as a signed 32-bit number (enum fields; negative values use ten bytes). */
  int32(): number {
    return Number(BigInt.asIntN(32, this.varint()));
  }

  /** A signed int64 varint as a number when it is a safe integer, else as its decimal text (as OTLP/JSON does). */
  int64(): number | string {
    const value = BigInt.asIntN(64, this.varint());
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : String(value);
  }

  bool(): boolean {
    return this.varint() !== 0n;
  }

  private take(size: number, what: string): number {
    const start = this.pos;
    if (this.end - start < size) this.fail('truncated', `the body ends inside a ${what}: ${size} bytes are needed, ${this.end - start} remain; was it cut off?`, undefined, start);
    this.pos += size;
    return start;
  }

  /** A fixed64 as its unsigned decimal text (OTLP timestamps in nanoseconds). */
  fixed64Text(): string {
    const start = this.take(8, '64-bit field');
    return new DataView(this.bytes.buffer, this.bytes.byteOffset + start, 8).getBigUint64(0, true).toString();
  }

  double(): number {
    const start = this.take(8, '64-bit field');
    return new DataView(this.bytes.buffer, this.bytes.byteOffset + start, 8).getFloat64(0, true);
  }

  /** The bounds of the current length-delimited field's payload. */
  private span(): { start: number; end: number } {
    const offset = this.pos;
    const length = this.length();
    const left = this.end - this.pos;
    if (length > left) {
      this.fail('truncated', `a length-delimited field declares ${length} bytes but only ${left} remain in its message; was the body cut off?`, undefined, offset);
    }
    const start = this.pos;
    this.pos += length;
    return { start, end: this.pos };
  }

  bytesField(): Uint8Array {
    const { start, end } = this.span();
    return this.bytes.subarray(start, end);
  }

  /** A string field; protobuf strings must be UTF-8, anything else is refused. */
  string(): string {
    const { start, end } = this.span();
    try {
      return utf8.decode(this.bytes.subarray(start, end));
    } catch {
      return this.fail('invalid-utf8', 'a string field is not valid UTF-8, as protobuf requires', undefined, start);
    }
  }

  /** Lowercase hex of a bytes field (trace and span ids, as OTLP/JSON writes them). */
  hex(): string {
    return Buffer.from(this.bytesField()).toString('hex');
  }

  /** Base64 of a bytes field (AnyValue.bytes_value, as the protobuf JSON mapping writes it). */
  base64(): string {
    return Buffer.from(this.bytesField()).toString('base64');
  }

  private skip(wireType: WireType): void {
    if (wireType === WireType.VARINT) this.varint();
    else if (wireType === WireType.I64) this.take(8, '64-bit field');
    else if (wireType === WireType.I32) this.take(4, '32-bit field');
    else this.span();
  }
}
