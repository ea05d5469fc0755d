import { casesOf, chars, entries, repeat, type CaseTable } from './contract-cases';
import {
  InputProvenance,
  AlertFormat,
  DownstreamCall,
  Entry,
  FailureEnvelope,
  Frame,
  FunctionEntry,
  HttpEntry,
  LogExcerpt,
  MessageEntry,
  Provenance,
  RuntimeEnvironment,
  SpanExcerpt,
  Symptom,
  Timing,
  TraceProvenance,
} from './envelope';
import { exampleFailureEnvelope } from './examples';

const envelope = exampleFailureEnvelope;
const [appFrame, nodeFrame] = envelope.symptom.frames as [Frame, Frame];
const [span] = envelope.spans as [SpanExcerpt];
const httpEntry = envelope.entry as HttpEntry;
/** Over the JSON byte bound (LIMITS.jsonBytes). */
const hugeJson = { blob: chars(262_144) };

const functionEntry: FunctionEntry = {
  kind: 'function',
  module: 'src/handlers/create-user.ts',
  export: 'createUser',
  args: [{ name: 'tok_name_7f3a', preferences: { newsletter: true } }, null],
};

const messageEntry: MessageEntry = {
  kind: 'message',
  module: 'src/consumers/user-created.ts',
  export: 'onUserCreated',
  topic: 'users.created',
  payload: { userId: 'u_7f3a', at: '2026-11-20T09:15:02.123Z' },
};

const downstreamCall: DownstreamCall = {
  method: 'GET',
  urlTemplate: 'http://billing.internal/v1/accounts/{id}',
  url: 'http://billing.internal/v1/accounts/acc_7f3a',
  status: 404,
  responseHeaders: { 'content-type': 'application/json' },
  responseBody: { error: 'not found' },
  durationMs: 3.2,
};

const traceProvenance: TraceProvenance = {
  joined: true,
  services: ['orders-api', 'users-api'],
  parentChain: [span.spanId, 'a1b2c3d4e5f60718'],
  criticalPath: ['a1b2c3d4e5f60718', span.spanId],
  downstreamSpans: ['0f1e2d3c4b5a6978'],
  missingSpanIds: ['9988776655443322'],
  missingSpanCount: 1,
};

const untracedProvenance: TraceProvenance = {
  joined: false,
  services: [],
  parentChain: [],
  criticalPath: [],
  downstreamSpans: [],
  missingSpanIds: [],
  missingSpanCount: 0,
};

const inputProvenance: InputProvenance = { path: 'entry.body', signal: 'span-attribute', source: 'http.request.body.content on span 1a2b3c4d5e6f7a8b' };
const spanWithEvents: SpanExcerpt = {
  ...span,
  events: [{ name: 'http.request.body', time: '2026-11-20T09:15:02Z', attributes: { 'http.request.body.content': '{"name":"x"}' } }],
};

const logExcerpt: LogExcerpt = {
  timestamp: '2026-11-20T09:15:02.130Z',
  severity: 'error',
  body: 'createUser failed',
  traceId: span.traceId,
  spanId: span.spanId,
  attributes: { 'exception.type': 'TypeError' },
};

/** The example envelope with four frames, so a failing path can point into the middle of the stack. */
const fourFrameEnvelope: FailureEnvelope = {
  ...envelope,
  symptom: { ...envelope.symptom, frames: [appFrame, appFrame, nodeFrame, appFrame] },
  downstream: [downstreamCall],
  logs: [logExcerpt],
};

export const envelopeCases: CaseTable = {
  Frame: casesOf(Frame, [appFrame, nodeFrame, { file: 'a.ts', line: 0, function: '', inApp: true }], (change) => [
    change.missing(['file']),
    change.missing(['inApp']),
    change.wrongType(['line'], '21'),
    change.wrongType(['inApp'], 'yes'),
    change.overBound(['file'], chars(1_025)),
    change.overBound(['function'], chars(257)),
    change.outOfDomain(['line'], -1, /Too small/),
    change.outOfDomain(['column'], 1.5, /expected int/),
  ]),
  Symptom: casesOf(Symptom, [envelope.symptom, { ...envelope.symptom, frames: repeat(64, appFrame), errorCode: 'E_USER' }], (change) => [
    change.missing(['messageHash']),
    change.missing(['frames', 1, 'function']),
    change.wrongType(['frames'], appFrame),
    change.overBound(['frames'], repeat(65, appFrame)),
    change.overBound(['message'], chars(4_097)),
    change.outOfDomain(['messageHash'], 'not-hex', /lowercase hex/),
  ]),
  HttpEntry: casesOf(HttpEntry, [httpEntry, { ...httpEntry, body: undefined }], (change) => [
    change.missing(['headers']),
    change.wrongType(['query'], 'a=1'),
    change.overBound(['path'], chars(2_049)),
    change.overBound(['headers'], entries(257, 'x')),
    change.overBound(['body'], hugeJson, /at most 262144 bytes/),
    change.outOfDomain(['method'], 'TRACE'),
  ]),
  FunctionEntry: casesOf(FunctionEntry, [functionEntry, { ...functionEntry, args: repeat(32, 1) }], (change) => [
    change.missing(['export']),
    change.wrongType(['args'], { 0: 1 }),
    change.overBound(['args'], repeat(33, 1)),
    change.overBound(['args', 0], hugeJson),
    change.outOfDomain(['export'], '', /Too small/),
  ]),
  MessageEntry: casesOf(MessageEntry, [messageEntry, { ...messageEntry, payload: 'plain text' }], (change) => [
    change.missing(['topic']),
    change.missing(['payload'], /Invalid input/),
    change.wrongType(['module'], ['src/consumers/user-created.ts']),
    change.overBound(['topic'], chars(257)),
    change.overBound(['payload'], hugeJson),
  ]),
  Entry: casesOf(Entry, [httpEntry, functionEntry, messageEntry], (change) => [
    change.missing(['kind'], /Invalid discriminator/),
    change.missing(['route']),
    change.wrongType(['method'], 1),
    change.overBound(['route'], chars(1_025)),
    change.outOfDomain(['kind'], 'grpc', /Invalid discriminator/),
  ]),
  RuntimeEnvironment: casesOf(
    RuntimeEnvironment,
    [envelope.environment, { featureFlags: { rollout: 0.5, cohort: 'b' }, env: {}, configHash: 'abcdef12', runtime: { name: 'node', version: '22.1.0' } }],
    (change) => [
      change.missing(['runtime', 'version']),
      change.missing(['env']),
      change.wrongType(['featureFlags', 'newSignup'], null),
      change.overBound(['featureFlags'], entries(257, true)),
      change.overBound(['env', 'NODE_ENV'], chars(4_097)),
      change.overBound(['timezone'], chars(65)),
      change.outOfDomain(['runtime', 'name'], 'deno'),
    ],
  ),
  Timing: casesOf(Timing, [envelope.timing, { recordedAt: '2026-11-20T10:15:02+01:00', randomSeed: -7 }], (change) => [
    change.missing(['recordedAt']),
    change.wrongType(['durationMs'], '12.5'),
    change.overBound(['recordedAt'], `2026-11-20T09:15:02.${chars(44, '1')}Z`),
    change.outOfDomain(['durationMs'], -1, /Too small/),
    change.outOfDomain(['recordedAt'], '20 Nov 2026', /datetime/),
  ]),
  DownstreamCall: casesOf(DownstreamCall, [downstreamCall, { ...downstreamCall, responseBody: undefined, durationMs: undefined }], (change) => [
    change.missing(['urlTemplate']),
    change.wrongType(['status'], '404'),
    change.overBound(['url'], chars(2_049)),
    change.overBound(['responseBody'], hugeJson),
    change.overBound(['status'], 600),
  ]),
  InputProvenance: casesOf(
    InputProvenance,
    [
      inputProvenance,
      { path: 'downstream[0].responseBody', signal: 'inferred', source: 'status 404', guessed: true },
      { ...inputProvenance, truncated: { marker: 'http.request.body.truncated', recordedBytes: 16_384, sizeBytes: 40_210 }, note: 'cut at 16384 of 40210 bytes' },
    ],
    (change) => [
      change.missing(['signal']),
      change.wrongType(['guessed'], 'yes'),
      change.overBound(['source'], chars(4_097)),
      change.outOfDomain(['signal'], 'baggage'),
      change.wrongType(['truncated'], true),
      change.overBound(['note'], chars(4_097)),
    ],
  ),
  SpanExcerpt: casesOf(SpanExcerpt, [span, { ...span, parentSpanId: 'aabbccdd00112233', attributes: {} }, spanWithEvents], (change) => [
    change.missing(['status', 'code']),
    change.missing(['endTime']),
    change.wrongType(['attributes'], []),
    change.overBound(['name'], chars(257)),
    change.overBound(['attributes'], entries(257, 'v')),
    change.overBound(['status', 'message'], chars(4_097)),
    change.outOfDomain(['kind'], 'SERVER'),
    change.overBound(['events'], repeat(257, { name: 'log', time: '2026-11-20T09:15:02Z', attributes: {} })),
  ]),
  LogExcerpt: casesOf(LogExcerpt, [logExcerpt, { ...logExcerpt, traceId: undefined, spanId: undefined }], (change) => [
    change.missing(['severity']),
    change.wrongType(['body'], { text: 'createUser failed' }),
    change.overBound(['body'], chars(4_097)),
    change.overBound(['attributes', 'exception.type'], chars(4_097)),
    change.outOfDomain(['severity'], 'critical'),
  ]),
  AlertFormat: casesOf(AlertFormat, ['otlp-traces-json', 'alertmanager', 'log-lines'], (change) => [
    change.missing([], /Invalid option/),
    change.wrongType([], 1),
    change.outOfDomain([], 'pagerduty'),
  ]),
  TraceProvenance: casesOf(TraceProvenance, [traceProvenance, untracedProvenance], (change) => [
    change.missing(['joined']),
    change.missing(['missingSpanCount']),
    change.wrongType(['joined'], 'false'),
    change.wrongType(['missingSpanCount'], '1'),
    change.overBound(['services'], repeat(257, 'users-api')),
    change.overBound(['parentChain'], repeat(201, span.spanId)),
    change.overBound(['criticalPath'], repeat(201, span.spanId)),
    change.overBound(['downstreamSpans'], repeat(51, span.spanId)),
    change.overBound(['missingSpanIds'], repeat(257, span.spanId)),
    change.outOfDomain(['parentChain', 0], 'ABCDEF0123456789', /lowercase hex/),
    change.outOfDomain(['services', 0], '', /Too small/),
    change.outOfDomain(['missingSpanCount'], -1, /Too small/),
    change.outOfDomain(['missingSpanCount'], 0, /smaller than the number of missingSpanIds/),
  ]),
  Provenance: casesOf(Provenance, [{ ...envelope.provenance, trace: traceProvenance }, envelope.provenance, { ...envelope.provenance, notes: ['no logs in the alert'] }], (change) => [
    change.wrongType(['trace'], 'joined'),
    change.overBound(['trace', 'criticalPath'], repeat(201, span.spanId)),
    change.outOfDomain(['trace', 'missingSpanIds', 0], 'not-hex', /lowercase hex/),
    change.missing(['sources', 0, 'format']),
    change.wrongType(['sources', 0, 'items'], '1'),
    change.overBound(['sources'], repeat(257, envelope.provenance.sources[0])),
    change.overBound(['notes'], repeat(257, 'note')),
    change.outOfDomain(['sources'], [], /Too small/),
  ]),
  FailureEnvelope: casesOf(
    FailureEnvelope,
    [
      fourFrameEnvelope,
      envelope,
      { ...envelope, entry: functionEntry },
      { ...envelope, entry: messageEntry },
      { ...envelope, identity: { ...envelope.identity, version: '1.4.2', revision: '3f2a9c1' } },
    ],
    (change) => [
      change.missing(['schemaVersion'], /expected 1/),
      change.missing(['identity', 'service']),
      change.missing(['symptom', 'frames', 3, 'file']),
      change.wrongType(['identity', 'occurrences'], '1'),
      change.wrongType(['symptom', 'frames', 2, 'inApp'], 'false'),
      change.overBound(['symptom', 'frames', 3, 'file'], chars(1_025)),
      change.overBound(['symptom', 'frames'], repeat(65, appFrame)),
      change.overBound(['spans'], repeat(201, span)),
      change.overBound(['logs'], repeat(201, logExcerpt)),
      change.overBound(['downstream'], repeat(51, downstreamCall)),
      change.overBound(['entry', 'body'], hugeJson),
      change.overBound(['spans', 0, 'attributes', 'http.route'], chars(4_097)),
      change.outOfDomain(['schemaVersion'], 2, /expected 1/),
      change.outOfDomain(['identity', 'occurrences'], 0, /Too small/),
      change.outOfDomain(['identity', 'revision'], 'main', /lowercase hex/),
      change.wrongType(['identity', 'revision'], 1234567),
    ],
  ),
};
