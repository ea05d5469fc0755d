// The span graph of one trace export: parent and child links across services, the failing span, and
// the causal excerpt around it (parent chain, critical path, outbound calls), tolerating spans that
// were sampled away or lost.
import { LIMITS, type TraceProvenance } from '@tracemend/contracts';
import { attributesToJson, nanosToMs, spanKindName, statusCodeName, type JsonValue, type OtlpSpan, type OtlpTraces } from './otlp';

/** One span with the service and resource that reported it. */
export interface IndexedSpan {
  span: OtlpSpan;
  /** Lowercase span id, the graph's key. */
  id: string;
  /** Lowercase parent span id, if the span names one. */
  parentId?: string;
  service: string;
  resource: Record<string, JsonValue>;
  attributes: Record<string, JsonValue>;
}

/** The spans of an export indexed by id, with children lists, in export order. */
export interface SpanGraph {
  spans: Map<string, IndexedSpan>;
  children: Map<string, IndexedSpan[]>;
}

/** The causal excerpt of a failing span, as span-graph nodes and as the provenance it reports. */
export interface CausalExcerpt {
  /** Failing span first, then its parents up to the topmost reachable span. */
  chain: IndexedSpan[];
  /** The failing service's own part of the chain: the failing span up to its service's entry span. */
  ownChain: IndexedSpan[];
  criticalPath: IndexedSpan[];
  downstream: IndexedSpan[];
  provenance: TraceProvenance;
}

function text(value: JsonValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Indexes the spans of an OTLP trace export; spans without a string trace id and span id are skipped. */
export function indexSpans(traces: OtlpTraces): SpanGraph {
  const spans = new Map<string, IndexedSpan>();
  for (const resourceSpans of traces.resourceSpans ?? []) {
    const resource = attributesToJson(resourceSpans.resource?.attributes);
    const service = text(resource['service.name']) || 'unknown_service';
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        if (typeof span.spanId !== 'string' || typeof span.traceId !== 'string') continue;
        const id = span.spanId.toLowerCase();
        const parentId = typeof span.parentSpanId === 'string' && span.parentSpanId !== '' ? span.parentSpanId.toLowerCase() : undefined;
        spans.set(id, { span, id, ...(parentId ? { parentId } : {}), service, resource, attributes: attributesToJson(span.attributes) });
      }
    }
  }
  const children = new Map<string, IndexedSpan[]>();
  for (const item of spans.values()) {
    if (item.parentId === undefined || item.parentId === item.id) continue;
    const siblings = children.get(item.parentId);
    if (siblings) siblings.push(item);
    else children.set(item.parentId, [item]);
  }
  return { spans, children };
}

/** The parents of a span, nearest first, up to the first one the export lacks (cycles stop too). */
export function ancestors(graph: SpanGraph, start: IndexedSpan): IndexedSpan[] {
  const chain: IndexedSpan[] = [];
  const seen = new Set([start.id]);
  let current = start.parentId ? graph.spans.get(start.parentId) : undefined;
  while (current && !seen.has(current.id) && chain.length < graph.spans.size) {
    chain.push(current);
    seen.add(current.id);
    current = current.parentId ? graph.spans.get(current.parentId) : undefined;
  }
  return chain;
}

/** Every span below `root`, breadth first, in export order within a level. */
export function descendants(graph: SpanGraph, root: IndexedSpan): IndexedSpan[] {
  const out: IndexedSpan[] = [];
  const seen = new Set([root.id]);
  const queue = [root.id];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const child of graph.children.get(next) ?? []) {
      if (seen.has(child.id)) continue;
      seen.add(child.id);
      out.push(child);
      queue.push(child.id);
    }
  }
  return out;
}

/** Whether the span's own code reported an exception (an OTel `exception` event). */
export function hasExceptionEvent(item: IndexedSpan): boolean {
  return item.span.events?.some((event) => event.name === 'exception') ?? false;
}

interface Candidate {
  item: IndexedSpan;
  /** The topmost span reachable through parent links: candidates with the same top share a fragment. */
  top: string;
  /** Whether that top span names a parent the export lacks: its fragment hangs below a lost span. */
  orphan: boolean;
  depth: number;
  error: boolean;
  /** When the span reported the failure (its exception event, else its start), in ms. */
  at: number;
}

function candidateOf(graph: SpanGraph, item: IndexedSpan): Candidate {
  const chain = ancestors(graph, item);
  const exception = item.span.events?.find((event) => event.name === 'exception');
  const top = chain[chain.length - 1] ?? item;
  return {
    item,
    top: top.id,
    orphan: top.parentId !== undefined,
    depth: chain.length,
    error: statusCodeName(item.span.status?.code) === 'error',
    at: nanosToMs(exception?.timeUnixNano) ?? nanosToMs(item.span.startTimeUnixNano) ?? 0,
  };
}

/** Within one connected fragment: deeper, then error status, then earlier, then lower id. */
function deeper(a: Candidate, b: Candidate): boolean {
  if (a.depth !== b.depth) return a.depth > b.depth;
  if (a.error !== b.error) return a.error;
  if (a.at !== b.at) return a.at < b.at;
  return a.item.id < b.item.id;
}

/**
 * How far apart two reports must be to be ordered across fragments. The OpenTelemetry JS SDK anchors
 * each span's clock to Date.now() at its start, so two spans' event times are only good to a
 * millisecond: a callee's exception is often stamped up to 1 ms after its caller's.
 */
const REPORT_CLOCK_RESOLUTION_MS = 1;

/**
 * Across fragments depths are not comparable: the earliest report wins, since a caller fails after
 * its callee. Reports within the clock's resolution of the earliest are simultaneous; among them a
 * fragment that hangs below a lost span wins over the trace's root fragment (which holds the callers),
 * then the deeper span, then the earlier, then the lower id.
 */
function firstReported(candidates: readonly Candidate[]): Candidate | undefined {
  const earliest = Math.min(...candidates.map((candidate) => candidate.at));
  let best: Candidate | undefined;
  for (const candidate of candidates) {
    if (candidate.at - earliest > REPORT_CLOCK_RESOLUTION_MS) continue;
    if (best === undefined || (candidate.orphan !== best.orphan ? candidate.orphan : deeper(candidate, best))) best = candidate;
  }
  return best;
}

/**
 * The failing span: the deepest span that reports a failure of its own code — an `exception` event,
 * or an error log line joined to it (`reported`). A span deeper in the chain wins because the
 * callers' exceptions and error statuses are usually consequences of it; among equally deep spans
 * one with an error status wins, then the earliest, then the lowest id, so the choice is stable.
 * When missing spans split the trace into fragments, depths are not comparable across them and the
 * fragment winner that reported first wins (see firstReported).
 */
export function failingSpan(graph: SpanGraph, reported: ReadonlySet<string> = new Set()): IndexedSpan | undefined {
  const winners = new Map<string, Candidate>();
  for (const item of graph.spans.values()) {
    if (!hasExceptionEvent(item) && !reported.has(item.id)) continue;
    const candidate = candidateOf(graph, item);
    const best = winners.get(candidate.top);
    if (best === undefined || deeper(candidate, best)) winners.set(candidate.top, candidate);
  }
  return firstReported([...winners.values()])?.item;
}

/** From `top` down, at each step the child that finished last: the spans that bounded the request's duration. */
export function criticalPath(graph: SpanGraph, top: IndexedSpan): IndexedSpan[] {
  const path = [top];
  const seen = new Set([top.id]);
  let current = top;
  while (path.length < LIMITS.spans) {
    let last: IndexedSpan | undefined;
    for (const child of graph.children.get(current.id) ?? []) {
      if (seen.has(child.id)) continue;
      if (last === undefined || (nanosToMs(child.span.endTimeUnixNano) ?? 0) > (nanosToMs(last.span.endTimeUnixNano) ?? 0)) last = child;
    }
    if (last === undefined) break;
    path.push(last);
    seen.add(last.id);
    current = last;
  }
  return path;
}

/**
 * The outbound calls the failing span's service made beneath it: client and producer spans reached
 * through the service's own spans, in start order (what the code called, not what the callee did).
 */
export function downstreamSpans(graph: SpanGraph, failing: IndexedSpan): IndexedSpan[] {
  const out: IndexedSpan[] = [];
  const queue = [failing];
  const seen = new Set([failing.id]);
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const child of graph.children.get(next.id) ?? []) {
      if (seen.has(child.id) || child.service !== failing.service) continue;
      seen.add(child.id);
      const kind = spanKindName(child.span.kind);
      if (kind === 'client' || kind === 'producer') out.push(child);
      else queue.push(child);
    }
  }
  return out.sort((a, b) => (nanosToMs(a.span.startTimeUnixNano) ?? 0) - (nanosToMs(b.span.startTimeUnixNano) ?? 0));
}

/** Parent span ids that some span names but the export does not hold, sorted. */
function missingParents(graph: SpanGraph): string[] {
  const missing = new Set<string>();
  for (const item of graph.spans.values()) if (item.parentId !== undefined && !graph.spans.has(item.parentId)) missing.add(item.parentId);
  return [...missing].sort();
}

const HEX_ID = /^[0-9a-f]{7,128}$/;

/** The causal excerpt of `failing`: where it sits in the trace, what bounded the request, what it called, and what is missing. */
export function causalExcerpt(graph: SpanGraph, failing: IndexedSpan): CausalExcerpt {
  const chain = [failing, ...ancestors(graph, failing)];
  const top = chain[chain.length - 1] ?? failing;
  const ownEnd = chain.findIndex((item) => item.service !== failing.service);
  const ownChain = ownEnd === -1 ? chain : chain.slice(0, ownEnd);
  const path = criticalPath(graph, top);
  const downstream = downstreamSpans(graph, failing);
  const missing = missingParents(graph).filter((id) => HEX_ID.test(id));
  const ids = (items: IndexedSpan[], max: number) => items.map((item) => item.id).filter((id) => HEX_ID.test(id)).slice(0, max);
  return {
    chain,
    ownChain,
    criticalPath: path,
    downstream,
    provenance: {
      joined: true,
      services: [...new Set([...graph.spans.values()].map((item) => item.service.slice(0, LIMITS.shortText)))].sort().slice(0, LIMITS.records),
      parentChain: ids(chain, LIMITS.spans),
      criticalPath: ids(path, LIMITS.spans),
      downstreamSpans: ids(downstream, LIMITS.downstream),
      missingSpanIds: missing.slice(0, LIMITS.records),
      missingSpanCount: missing.length,
    },
  };
}

/** The provenance of an envelope built without a trace. */
export const NO_TRACE: TraceProvenance = { joined: false, services: [], parentChain: [], criticalPath: [], downstreamSpans: [], missingSpanIds: [], missingSpanCount: 0 };
