import { z } from 'zod';
import { AlertFormat, FailureEnvelope } from './envelope';
import { boundedString, HexId, Identifier, IsoDateTime, LIMITS, SchemaVersion } from './primitives';

/** A raw alert as the gateway stored it: the workflow carries this reference, never the raw body. */
export const RawAlertRef = z.object({
  schemaVersion: SchemaVersion,
  alertId: HexId,
  format: AlertFormat,
  receivedAt: IsoDateTime,
  sizeBytes: z.number().int().nonnegative(),
  serviceHint: Identifier.optional(),
});
export type RawAlertRef = z.infer<typeof RawAlertRef>;

/**
 * What ingest hands on: a reference to the ungated envelope in the worker's evidence store plus the
 * identity fields that are safe to show (service, error type, fingerprint).
 */
export const EnvelopeRef = z.object({
  schemaVersion: SchemaVersion,
  envelopeId: HexId,
  fingerprint: HexId,
  service: Identifier,
  errorType: Identifier,
  version: Identifier,
});
export type EnvelopeRef = z.infer<typeof EnvelopeRef>;

export const PrivacyAction = z.enum(['allow', 'drop', 'hash', 'tokenize', 'redact']);
export type PrivacyAction = z.infer<typeof PrivacyAction>;

export const Sensitivity = z.enum(['public', 'internal', 'secret']);
export type Sensitivity = z.infer<typeof Sensitivity>;

/** The gate's decision for one field path. */
export const PrivacyDecision = z.object({
  path: boundedString(1_024),
  action: PrivacyAction,
  sensitivity: Sensitivity,
  basis: z.enum(['contract', 'default-deny', 'detector']),
  detector: boundedString(64).optional(),
});
export type PrivacyDecision = z.infer<typeof PrivacyDecision>;

/** Where the incident's audit record sits in the hash-chained audit log. */
export const AuditReference = z.object({
  auditId: Identifier,
  sequence: z.number().int().nonnegative(),
  recordHash: HexId,
});
export type AuditReference = z.infer<typeof AuditReference>;

/** The envelope after the privacy gate: the only form any later stage, model or PR may see. */
export const GatedEnvelope = z.object({
  schemaVersion: SchemaVersion,
  envelope: FailureEnvelope,
  privacy: z.object({
    contract: z.object({ id: Identifier, version: z.number().int().positive() }),
    decisions: z.array(PrivacyDecision).max(4_096),
    droppedUnknown: z.array(boundedString(1_024)).max(4_096),
    detectorHits: z
      .array(z.object({ detector: boundedString(64), path: boundedString(1_024), count: z.number().int().positive() }))
      .max(LIMITS.records),
    tokenKeyId: Identifier,
    audit: AuditReference,
  }),
});
export type GatedEnvelope = z.infer<typeof GatedEnvelope>;
