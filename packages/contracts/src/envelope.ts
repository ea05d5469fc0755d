import { z } from 'zod';
import {
  Attributes,
  boundedJson,
  boundedRecord,
  boundedString,
  HexId,
  Identifier,
  IsoDateTime,
  LIMITS,
  SchemaVersion,
} from './primitives';
import { FaasEventShape, MessageEnvelopeShape } from './entry-config';

/** One stack frame; `inApp` marks frames in the service's own code (not node_modules, not Node internals). */
export const Frame = z.object({
  file: boundedString(1_024),
  line: z.number().int().nonnegative(),
  column: z.number().int().nonnegative().optional(),
  function: boundedString(),
  inApp: z.boolean(),
});
export type Frame = z.infer<typeof Frame>;

/** What broke, as the runtime reported it. */
export const Symptom = z.object({
  errorType: Identifier,
  message: boundedString(LIMITS.text),
  messageHash: HexId,
  frames: z.array(Frame).max(LIMITS.frames),
  errorCode: boundedString().optional(),
});
export type Symptom = z.infer<typeof Symptom>;

const HttpMethod = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Drive the failing code with an HTTP request. */
export const HttpEntry = z.object({
  kind: z.literal('http'),
  method: HttpMethod,
  route: boundedString(1_024),
  path: boundedString(2_048),
  query: boundedRecord(boundedString(LIMITS.text)),
  headers: boundedRecord(boundedString(LIMITS.text)),
  body: boundedJson().optional(),
});
export type HttpEntry = z.infer<typeof HttpEntry>;

/**
 * Drive the failing code by calling an exported function. For a FaaS invocation `args` is
 * `[event, context]`; an empty `module` means telemetry could not name the handler and the
 * catalog's `functionHandler` does.
 */
export const FunctionEntry = z.object({
  kind: z.literal('function'),
  module: boundedString(1_024),
  export: Identifier,
  args: z.array(boundedJson()).max(32),
  /** `faas.trigger` of the invocation (http, pubsub, timer, datasource, other), when recorded. */
  trigger: z.enum(['http', 'pubsub', 'timer', 'datasource', 'other']).optional(),
  /** The event shape recognised in the recorded event (API Gateway v1/v2, SQS, SNS, EventBridge, scheduled). */
  eventShape: FaasEventShape.exclude(['auto']).optional(),
});
export type FunctionEntry = z.infer<typeof FunctionEntry>;

/**
 * Drive the failing code by delivering a queue message to its handler. An empty `module` means the
 * catalog's `messageHandler` names the handler; `envelope` is how the handler receives the payload.
 */
export const MessageEntry = z.object({
  kind: z.literal('message'),
  module: boundedString(1_024),
  export: Identifier,
  topic: boundedString(),
  payload: boundedJson(),
  /** `messaging.system` (aws_sqs, kafka, rabbitmq, …), when recorded. */
  system: boundedString(64).optional(),
  /** The envelope recognised from the trace; the catalog's `messageHandler.envelope` overrides it. */
  envelope: MessageEnvelopeShape.exclude(['auto']).optional(),
  /** Message key, id and headers/attributes, when recorded. */
  key: boundedString(LIMITS.text).optional(),
  messageId: boundedString().optional(),
  headers: boundedRecord(boundedString(LIMITS.text)).optional(),
});
export type MessageEntry = z.infer<typeof MessageEntry>;

/** How to drive the failing code: one of http, function, message. */
export const Entry = z.discriminatedUnion('kind', [HttpEntry, FunctionEntry, MessageEntry]);
export type Entry = z.infer<typeof Entry>;

/** The runtime conditions the failure happened under. */
export const RuntimeEnvironment = z.object({
  featureFlags: boundedRecord(z.union([z.boolean(), z.string().max(LIMITS.shortText), z.number()])),
  env: boundedRecord(boundedString(LIMITS.text)),
  configHash: HexId.optional(),
  locale: boundedString(64).optional(),
  timezone: boundedString(64).optional(),
  runtime: z.object({ name: z.enum(['node']), version: boundedString(64) }),
});
export type RuntimeEnvironment = z.infer<typeof RuntimeEnvironment>;

/**
 * When it happened. Replays freeze the clock at `recordedAt` (it moves only when a timer fires, to that
 * timer's due time) and seed randomness from `randomSeed`, else from `recordedAt`.
 */
export const Timing = z.object({
  recordedAt: IsoDateTime,
  durationMs: z.number().nonnegative().optional(),
  randomSeed: z.number().int().optional(),
});
export type Timing = z.infer<typeof Timing>;

/** A recorded outbound call, served back to the code on replay. */
export const DownstreamCall = z.object({
  method: HttpMethod,
  urlTemplate: boundedString(2_048),
  url: boundedString(2_048),
  status: z.number().int().min(100).max(599),
  responseHeaders: boundedRecord(boundedString(LIMITS.text)),
  responseBody: boundedJson().optional(),
  durationMs: z.number().nonnegative().optional(),
  /** True when no response body was recorded and the one served is inferred from the status. */
  guessed: z.boolean().optional(),
});
export type DownstreamCall = z.infer<typeof DownstreamCall>;

/** One span of the causal excerpt. */
export const SpanExcerpt = z.object({
  traceId: HexId,
  spanId: HexId,
  parentSpanId: HexId.optional(),
  name: boundedString(),
  kind: z.enum(['internal', 'server', 'client', 'producer', 'consumer', 'unspecified']),
  service: Identifier,
  startTime: IsoDateTime,
  endTime: IsoDateTime,
  status: z.object({ code: z.enum(['unset', 'ok', 'error']), message: boundedString(LIMITS.text).optional() }),
  attributes: Attributes,
  /** Every span event (exceptions, recorded payloads, flag evaluations …), so the privacy gate governs them. */
  events: z
    .array(z.object({ name: boundedString(), time: IsoDateTime, attributes: Attributes }))
    .max(LIMITS.records)
    .optional(),
});
export type SpanExcerpt = z.infer<typeof SpanExcerpt>;

/** One log record of the causal excerpt. */
export const LogExcerpt = z.object({
  timestamp: IsoDateTime,
  severity: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'unspecified']),
  body: boundedString(LIMITS.text),
  traceId: HexId.optional(),
  spanId: HexId.optional(),
  attributes: Attributes,
});
export type LogExcerpt = z.infer<typeof LogExcerpt>;

/** The raw alert formats tracemend reads. */
export const AlertFormat = z.enum([
  'otlp-traces-json',
  'otlp-logs-json',
  'otlp-traces-protobuf',
  'otlp-logs-protobuf',
  'alertmanager',
  'sentry-event',
  'sentry-envelope',
  'log-lines',
]);
export type AlertFormat = z.infer<typeof AlertFormat>;

/**
 * How the trace behind an envelope was read: whether one was joined at all, the services it crossed,
 * the causal excerpt (span ids that also appear in `spans`) and the spans it references but lacks
 * (sampled away or lost), so a reader knows how much of the story is missing.
 */
export const TraceProvenance = z
  .object({
    /** False when the envelope was built without a trace (from log lines or an event alone). */
    joined: z.boolean(),
    /** Every service that contributed a span, sorted. */
    services: z.array(Identifier).max(LIMITS.records),
    /** From the failing span up to the topmost span reachable through parent links. */
    parentChain: z.array(HexId).max(LIMITS.spans),
    /** From that top span down along the child that finished last at each step. */
    criticalPath: z.array(HexId).max(LIMITS.spans),
    /** The outbound (client and producer) spans the failing span's service made beneath it. */
    downstreamSpans: z.array(HexId).max(LIMITS.downstream),
    /** Parent span ids referenced by a span of the trace but absent from it, sorted. */
    missingSpanIds: z.array(HexId).max(LIMITS.records),
    /** How many such ids there are; can exceed the listed ones. */
    missingSpanCount: z.number().int().nonnegative(),
  })
  .refine((trace) => trace.missingSpanCount >= trace.missingSpanIds.length, {
    message: 'missingSpanCount is smaller than the number of missingSpanIds',
    path: ['missingSpanCount'],
  });
export type TraceProvenance = z.infer<typeof TraceProvenance>;

/** Where one value of the envelope came from (see docs/instrumenting.md for the precedence). */
export const InputProvenance = z.object({
  /** The envelope path the value fills: `entry.body`, `entry.headers`, `downstream[2].responseBody`, … */
  path: boundedString(),
  /** The kind of signal that carried it. */
  signal: z.enum(['span-attribute', 'span-event', 'log-record', 'log-line', 'sentry-event', 'alert', 'catalog', 'inferred']),
  /** The attribute, event or record it was read from, e.g. `http.request.body.content` on span 1a2b…. */
  source: boundedString(LIMITS.text),
  /** True when nothing carried the value and it was inferred (e.g. a response body from its status). */
  guessed: z.boolean().optional(),
  /**
   * Set when the recording was cut short (the capture's `<name>.truncated` marker): the bytes the
   * signal kept, and the value's full size when the signal says it (`<name>.size`).
   */
  truncated: z
    .object({
      marker: boundedString(256),
      recordedBytes: z.number().int().nonnegative(),
      sizeBytes: z.number().int().nonnegative().optional(),
    })
    .optional(),
  /** What a reader needs to know about the value, e.g. why it is incomplete and how to record it whole. */
  note: boundedString(LIMITS.text).optional(),
});
export type InputProvenance = z.infer<typeof InputProvenance>;

/** Which raw signals contributed, and what was missing. */
export const Provenance = z.object({
  sources: z
    .array(
      z.object({
        alertId: HexId,
        format: AlertFormat,
        receivedAt: IsoDateTime,
        items: z.number().int().nonnegative(),
      }),
    )
    .min(1)
    .max(LIMITS.records),
  notes: z.array(boundedString(LIMITS.text)).max(LIMITS.records),
  /** Where each replay input came from; absent on envelopes built before inputs were tracked. */
  inputs: z.array(InputProvenance).max(LIMITS.records).optional(),
  /** Absent on envelopes from sources that carry no trace structure (Sentry events). */
  trace: TraceProvenance.optional(),
});
export type Provenance = z.infer<typeof Provenance>;

/** The normalized unit of debugging: everything needed to replay one production failure. */
export const FailureEnvelope = z.object({
  schemaVersion: SchemaVersion,
  identity: z.object({
    fingerprint: HexId,
    traceId: HexId.optional(),
    spanId: HexId.optional(),
    service: Identifier,
    version: Identifier,
    /**
     * The commit a `vcs.*`/git resource attribute (or a Sentry `commit` tag) names, full or short, when
     * the service reports one besides its version; triage prefers it to resolving `version`.
     */
    revision: HexId.optional(),
    environment: Identifier,
    firstSeen: IsoDateTime,
    lastSeen: IsoDateTime,
    occurrences: z.number().int().positive(),
  }),
  symptom: Symptom,
  entry: Entry,
  environment: RuntimeEnvironment,
  timing: Timing,
  downstream: z.array(DownstreamCall).max(LIMITS.downstream),
  spans: z.array(SpanExcerpt).max(LIMITS.spans),
  logs: z.array(LogExcerpt).max(LIMITS.logs),
  provenance: Provenance,
});
export type FailureEnvelope = z.infer<typeof FailureEnvelope>;
