import { z } from 'zod';

/** Bounds shared by every contract: one place to read how large anything crossing a stage may be. */
export const LIMITS = {
  shortText: 256,
  text: 4_096,
  longText: 65_536,
  fileContent: 262_144,
  jsonBytes: 262_144,
  records: 256,
  frames: 64,
  spans: 200,
  logs: 200,
  downstream: 50,
  suspects: 50,
  candidates: 20,
  edits: 20,
  stages: 128,
} as const;

/** A string of at most `max` characters (UTF-16 code units). */
export function boundedString(max: number = LIMITS.shortText) {
  return z.string().max(max);
}

/** A non-empty identifier-like string. */
export const Identifier = z.string().min(1).max(LIMITS.shortText);

/** An ISO-8601 timestamp with a UTC offset, as JSON carries dates (the cap bounds fractional digits). */
export const IsoDateTime = z.iso.datetime({ offset: true }).max(64);

/** A hex digest or id (git SHA, content hash, trace id). */
export const HexId = z
  .string()
  .min(7)
  .max(128)
  .regex(/^[0-9a-f]+$/, 'expected lowercase hex');

/** A full git commit SHA (SHA-1 or SHA-256). */
export const GitSha = z.string().regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/, 'expected a full git commit SHA');

/** A record with string keys and at most `maxEntries` entries. */
export function boundedRecord<V extends z.ZodType>(value: V, maxEntries: number = LIMITS.records) {
  return z
    .record(z.string().max(LIMITS.shortText), value)
    .refine((record) => Object.keys(record).length <= maxEntries, {
      message: `expected at most ${maxEntries} entries`,
    });
}

/** UTF-8 length without Buffer: contracts also load inside Temporal's workflow sandbox. */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Any JSON value whose serialized form is at most `maxBytes` long. */
export function boundedJson(maxBytes: number = LIMITS.jsonBytes) {
  return z.json().refine((value) => utf8ByteLength(JSON.stringify(value) ?? '') <= maxBytes, {
    message: `expected at most ${maxBytes} bytes of JSON`,
  });
}

/** An OpenTelemetry-style attribute value. */
export const AttributeValue = z.union([
  z.string().max(LIMITS.text),
  z.number(),
  z.boolean(),
  z.array(z.union([z.string().max(LIMITS.text), z.number(), z.boolean()])).max(LIMITS.records),
]);
export type AttributeValue = z.infer<typeof AttributeValue>;

/** Bounded attributes of a span, log record or resource. */
export const Attributes = boundedRecord(AttributeValue);
export type Attributes = z.infer<typeof Attributes>;

/** The schema version every contract carries today. */
export const SCHEMA_VERSION = 1 as const;
export const SchemaVersion = z.literal(SCHEMA_VERSION);
