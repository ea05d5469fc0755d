// OTLP/HTTP protobuf bodies (the OpenTelemetry exporters' default encoding) decoded into the same
// in-memory shape the OTLP/JSON path reads (ids as lowercase hex, timestamps as decimal text,
// AnyValue and kvlist as in the JSON mapping), so one envelope builder serves both encodings.
// Field numbers follow opentelemetry-proto v1 (collector/{trace,logs}/v1, trace/v1, logs/v1, common/v1).
import type { OtlpAnyValue, OtlpEvent, OtlpKeyValue, OtlpLogRecord, OtlpLogs, OtlpResource, OtlpSpan, OtlpTraces } from './otlp';
import { WireReader, WireType, type MessageFields } from './protobuf-wire';

/** Bounds checked while decoding, before the decoded value grows: the same meaning as for OTLP/JSON bodies. */
export interface OtlpProtobufLimits {
  /** Nesting depth, counted as in the OTLP/JSON mapping (a message is one level, a repeated field one more). */
  maxDepth: number;
  /** KeyValues in `attributes` fields plus `kvlistValue.values`, summed over the export. */
  maxAttributes: number;
}

export const DEFAULT_OTLP_PROTOBUF_LIMITS: OtlpProtobufLimits = { maxDepth: 64, maxAttributes: 10_000 };

const { VARINT, I64, LEN } = WireType;

const TRACES_REQUEST: MessageFields = { 1: ['resourceSpans', LEN] };
const RESOURCE_SPANS: MessageFields = { 1: ['resource', LEN], 2: ['scopeSpans', LEN] };
const SCOPE_SPANS: MessageFields = { 2: ['spans', LEN] };
const LOGS_REQUEST: MessageFields = { 1: ['resourceLogs', LEN] };
const RESOURCE_LOGS: MessageFields = { 1: ['resource', LEN], 2: ['scopeLogs', LEN] };
const SCOPE_LOGS: MessageFields = { 2: ['logRecords', LEN] };
const RESOURCE: MessageFields = { 1: ['attributes', LEN] };
const SPAN: MessageFields = {
  1: ['traceId', LEN],
  2: ['spanId', LEN],
  4: ['parentSpanId', LEN],
  5: ['name', LEN],
  6: ['kind', VARINT],
  7: ['startTimeUnixNano', I64],
  8: ['endTimeUnixNano', I64],
  9: ['attributes', LEN],
  11: ['events', LEN],
  15: ['status', LEN],
};
const EVENT: MessageFields = { 1: ['timeUnixNano', I64], 2: ['name', LEN], 3: ['attributes', LEN] };
const STATUS: MessageFields = { 2: ['message', LEN], 3: ['code', VARINT] };
const LOG_RECORD: MessageFields = {
  1: ['timeUnixNano', I64],
  2: ['severityNumber', VARINT],
  3: ['severityText', LEN],
  5: ['body', LEN],
  6: ['attributes', LEN],
  9: ['traceId', LEN],
  10: ['spanId', LEN],
  11: ['observedTimeUnixNano', I64],
};
const KEY_VALUE: MessageFields = { 1: ['key', LEN], 2: ['value', LEN] };
const ANY_VALUE: MessageFields = {
  1: ['stringValue', LEN],
  2: ['boolValue', VARINT],
  3: ['intValue', VARINT],
  4: ['doubleValue', I64],
  5: ['arrayValue', LEN],
  6: ['kvlistValue', LEN],
  7: ['bytesValue', LEN],
};
const VALUES: MessageFields = { 1: ['values', LEN] };

/** Decoding state shared by the whole body: the limits and the attributes counted so far. */
class Budget {
  private attributes = 0;
  constructor(readonly limits: OtlpProtobufLimits) {}

  nested(r: WireReader, index?: number): WireReader {
    return r.nested(index, this.limits.maxDepth);
  }

  /** Counts one more attribute before it is decoded, refusing the body as soon as the count passes the limit. */
  countAttribute(r: WireReader): void {
    this.attributes += 1;
    if (this.attributes > this.limits.maxAttributes) {
      r.fail('too-many-attributes', `the body carries more than ${this.limits.maxAttributes} attributes; the limit is ${this.limits.maxAttributes} attributes per export`, this.limits.maxAttributes);
    }
  }
}

function keyValue(r: WireReader, budget: Budget): OtlpKeyValue {
  const kv: OtlpKeyValue = { key: '' };
  r.forEachField(KEY_VALUE, (name) => {
    if (name === 'key') {
      kv.key = r.string();
      // The decoded attributes become object keys downstream; "__proto__" would reach the prototype.
      if (kv.key === '__proto__') r.fail('forbidden-key', 'the body uses "__proto__" as an attribute name; such keys are refused');
    } else kv.value = anyValue(budget.nested(r), budget);
  });
  return kv;
}

/** Reads a repeated KeyValue field entry (attributes or kvlist values), counting it against the limit first. */
function pushKeyValue(r: WireReader, budget: Budget, list: OtlpKeyValue[]): void {
  budget.countAttribute(r);
  list.push(keyValue(budget.nested(r, list.length), budget));
}

function anyValue(r: WireReader, budget: Budget): OtlpAnyValue {
  // A oneof: the last member on the wire wins, as protobuf decoders do.
  let value: OtlpAnyValue = {};
  r.forEachField(ANY_VALUE, (name) => {
    switch (name) {
      case 'stringValue':
        value = { stringValue: r.string() };
        break;
      case 'boolValue':
        value = { boolValue: r.bool() };
        break;
      case 'intValue':
        value = { intValue: r.int64() };
        break;
      case 'doubleValue':
        value = { doubleValue: r.double() };
        break;
      case 'arrayValue': {
        const values: OtlpAnyValue[] = [];
        const list = budget.nested(r);
        list.forEachField(VALUES, () => values.push(anyValue(budget.nested(list, values.length), budget)));
        value = { arrayValue: { values } };
        break;
      }
      case 'kvlistValue': {
        const values: OtlpKeyValue[] = [];
        const list = budget.nested(r);
        list.forEachField(VALUES, () => pushKeyValue(list, budget, values));
        value = { kvlistValue: { values } };
        break;
      }
      default:
        value = { bytesValue: r.base64() };
    }
  });
  return value;
}

function resource(r: WireReader, budget: Budget): OtlpResource {
  const attributes: OtlpKeyValue[] = [];
  r.forEachField(RESOURCE, () => pushKeyValue(r, budget, attributes));
  return { attributes };
}

function event(r: WireReader, budget: Budget): OtlpEvent {
  const out: OtlpEvent = { name: '', attributes: [] };
  const attributes: OtlpKeyValue[] = [];
  r.forEachField(EVENT, (name) => {
    if (name === 'timeUnixNano') out.timeUnixNano = r.fixed64Text();
    else if (name === 'name') out.name = r.string();
    else pushKeyValue(r, budget, attributes);
  });
  out.attributes = attributes;
  return out;
}

function span(r: WireReader, budget: Budget): OtlpSpan {
  const out: OtlpSpan = { traceId: '', spanId: '', name: '', kind: 0 };
  const attributes: OtlpKeyValue[] = [];
  const events: OtlpEvent[] = [];
  r.forEachField(SPAN, (name) => {
    switch (name) {
      case 'traceId':
        out.traceId = r.hex();
        break;
      case 'spanId':
        out.spanId = r.hex();
        break;
      case 'parentSpanId': {
        const parent = r.hex();
        if (parent === '') delete out.parentSpanId;
        else out.parentSpanId = parent;
        break;
      }
      case 'name':
        out.name = r.string();
        break;
      case 'kind':
        out.kind = r.int32();
        break;
      case 'startTimeUnixNano':
        out.startTimeUnixNano = r.fixed64Text();
        break;
      case 'endTimeUnixNano':
        out.endTimeUnixNano = r.fixed64Text();
        break;
      case 'attributes':
        pushKeyValue(r, budget, attributes);
        break;
      case 'events':
        events.push(event(budget.nested(r, events.length), budget));
        break;
      default: {
        const status: { code?: number; message?: string } = {};
        const s = budget.nested(r);
        s.forEachField(STATUS, (field) => {
          if (field === 'code') status.code = s.int32();
          else status.message = s.string();
        });
        out.status = status;
      }
    }
  });
  return { ...out, attributes, events };
}

function logRecord(r: WireReader, budget: Budget): OtlpLogRecord {
  const out: OtlpLogRecord = {};
  const attributes: OtlpKeyValue[] = [];
  r.forEachField(LOG_RECORD, (name) => {
    switch (name) {
      case 'timeUnixNano':
        out.timeUnixNano = r.fixed64Text();
        break;
      case 'observedTimeUnixNano':
        out.observedTimeUnixNano = r.fixed64Text();
        break;
      case 'severityNumber':
        out.severityNumber = r.int32();
        break;
      case 'severityText':
        out.severityText = r.string();
        break;
      case 'body':
        out.body = anyValue(budget.nested(r), budget);
        break;
      case 'attributes':
        pushKeyValue(r, budget, attributes);
        break;
      case 'traceId':
      case 'spanId': {
        const id = r.hex();
        if (id !== '') out[name] = id;
        break;
      }
    }
  });
  return { ...out, attributes };
}

/**
 * Decodes an OTLP ExportTraceServiceRequest in protobuf. Throws a ProtobufDecodeError (INVALID_INPUT)
 * naming the problem, byte offset and field path for a cut-off or malformed body, a wrong wire type,
 * or a body past `limits`; nothing beyond the limits is allocated.
 */
export function decodeOtlpTracesProtobuf(bytes: Uint8Array, limits: OtlpProtobufLimits = DEFAULT_OTLP_PROTOBUF_LIMITS): OtlpTraces {
  const budget = new Budget(limits);
  const top = WireReader.of(bytes);
  const resourceSpans: NonNullable<OtlpTraces['resourceSpans']> = [];
  top.forEachField(TRACES_REQUEST, () => {
    const r = budget.nested(top, resourceSpans.length);
    const item: { resource?: OtlpResource; scopeSpans: { spans: OtlpSpan[] }[] } = { scopeSpans: [] };
    r.forEachField(RESOURCE_SPANS, (name) => {
      if (name === 'resource') item.resource = resource(budget.nested(r), budget);
      else {
        const scope = budget.nested(r, item.scopeSpans.length);
        const spans: OtlpSpan[] = [];
        scope.forEachField(SCOPE_SPANS, () => spans.push(span(budget.nested(scope, spans.length), budget)));
        item.scopeSpans.push({ spans });
      }
    });
    resourceSpans.push(item);
  });
  return { resourceSpans };
}

/** Decodes an OTLP ExportLogsServiceRequest in protobuf, with the same checks as `decodeOtlpTracesProtobuf`. */
export function decodeOtlpLogsProtobuf(bytes: Uint8Array, limits: OtlpProtobufLimits = DEFAULT_OTLP_PROTOBUF_LIMITS): OtlpLogs {
  const budget = new Budget(limits);
  const top = WireReader.of(bytes);
  const resourceLogs: NonNullable<OtlpLogs['resourceLogs']> = [];
  top.forEachField(LOGS_REQUEST, () => {
    const r = budget.nested(top, resourceLogs.length);
    const item: { resource?: OtlpResource; scopeLogs: { logRecords: OtlpLogRecord[] }[] } = { scopeLogs: [] };
    r.forEachField(RESOURCE_LOGS, (name) => {
      if (name === 'resource') item.resource = resource(budget.nested(r), budget);
      else {
        const scope = budget.nested(r, item.scopeLogs.length);
        const logRecords: OtlpLogRecord[] = [];
        scope.forEachField(SCOPE_LOGS, () => logRecords.push(logRecord(budget.nested(scope, logRecords.length), budget)));
        item.scopeLogs.push({ logRecords });
      }
    });
    resourceLogs.push(item);
  });
  return { resourceLogs };
}
