// A minimal protobuf writer for tests that need bodies a real SDK never sends: cut off, with wrong wire
// types, unknown fields, deep nesting or huge attribute counts. Real exports come from the SDK.

export function varint(value: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v === 0n ? byte : byte | 0x80);
  } while (v !== 0n);
  return Buffer.from(out);
}

export function tag(field: number, wireType: number): Buffer {
  return varint((field << 3) | wireType);
}

/** A length-delimited field: a nested message, a string or bytes. */
export function len(field: number, payload: Buffer | string): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([tag(field, 2), varint(bytes.length), bytes]);
}

export function uint(field: number, value: number | bigint): Buffer {
  return Buffer.concat([tag(field, 0), varint(value)]);
}

export function fixed64(field: number, value: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(value);
  return Buffer.concat([tag(field, 1), b]);
}

export function double(field: number, value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(value);
  return Buffer.concat([tag(field, 1), b]);
}

/** OTLP KeyValue with a string value. */
export function stringAttribute(field: number, key: string, value: string): Buffer {
  return len(field, Buffer.concat([len(1, key), len(2, len(1, value))]));
}

/** An ExportTraceServiceRequest with one resource, one scope and the given encoded spans. */
export function tracesRequest(spans: Buffer[], resourceAttributes: Buffer[] = [stringAttribute(1, 'service.name', 'orders-api')]): Buffer {
  const scopeSpans = len(2, Buffer.concat(spans.map((span) => len(2, span))));
  return len(1, Buffer.concat([len(1, Buffer.concat(resourceAttributes)), scopeSpans]));
}

/** A span's fields: ids, name and kind (server), plus `extra` encoded fields. */
export function spanFields(extra: Buffer[] = []): Buffer {
  return Buffer.concat([len(1, Buffer.from('5a0eeaa87bb73009cbe623d48deae07b', 'hex')), len(2, Buffer.from('2b599ffe255ad2a5', 'hex')), len(5, 'POST /v1/orders'), uint(6, 2), ...extra]);
}
