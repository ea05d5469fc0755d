// A FaaS invocation (AWS Lambda and peers) as a function entry: the handler is called with the
// recorded event and a context built from the `faas.*` and `cloud.*` attributes.
import type { FunctionEntry } from '@tracemend/contracts';
import type { IndexedSpan } from './causal';
import { fromAttributes, fromEvents, fromRecords, missingNote, pick, recordGuess, text, type InputTrail, type JoinedRecord } from './inputs';
import type { JsonValue } from './otlp';

type EventShape = NonNullable<FunctionEntry['eventShape']>;
type Trigger = NonNullable<FunctionEntry['trigger']>;

const TRIGGERS: ReadonlySet<string> = new Set(['http', 'pubsub', 'timer', 'datasource', 'other']);

/** True for a span that reports a FaaS invocation. */
export function isFaasSpan(item: IndexedSpan): boolean {
  return ['faas.invocation_id', 'faas.execution', 'faas.trigger', 'faas.name', 'faas.coldstart'].some((key) => item.attributes[key] !== undefined);
}

function record(value: JsonValue | undefined): Record<string, JsonValue> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
}

/** The AWS event shape of a recorded invocation event; `raw` when none fits. */
export function eventShapeOf(event: JsonValue | undefined): EventShape {
  const e = record(event);
  if (e === undefined) return 'raw';
  const requestContext = record(e.requestContext);
  if (e.version === '2.0' && record(requestContext?.http)) return 'api-gateway-v2';
  if (typeof e.httpMethod === 'string' && requestContext !== undefined) return 'api-gateway-v1';
  const first = Array.isArray(e.Records) ? record(e.Records[0]) : undefined;
  if (first?.eventSource === 'aws:sqs') return 'sqs';
  if (first?.EventSource === 'aws:sns') return 'sns';
  if (typeof e['detail-type'] === 'string' && typeof e.source === 'string') return e['detail-type'] === 'Scheduled Event' ? 'scheduled' : 'eventbridge';
  return 'raw';
}

/** A recorded event worth replaying when a log record's whole body is one. */
function looksLikeEvent(body: JsonValue): boolean {
  return eventShapeOf(body) !== 'raw';
}

const SHAPE_TRIGGER: Record<EventShape, Trigger | undefined> = {
  'api-gateway-v1': 'http',
  'api-gateway-v2': 'http',
  sqs: 'pubsub',
  sns: 'pubsub',
  eventbridge: 'pubsub',
  scheduled: 'timer',
  raw: undefined,
};

/** An ARN's region and account: `arn:aws:lambda:<region>:<account>:function:<name>`. */
function arnParts(arn: string | undefined): { region?: string; account?: string; name?: string } {
  const parts = arn?.split(':') ?? [];
  if (parts[0] !== 'arn' || parts.length < 6) return {};
  return { ...(parts[3] ? { region: parts[3] } : {}), ...(parts[4] ? { account: parts[4] } : {}), ...(parts[5] === 'function' && parts[6] ? { name: parts[6] } : {}) };
}

/**
 * The scheduled event a timer trigger delivers, for an invocation whose event was not recorded: its
 * time is the recorded start; id, account and region come from the invocation when known.
 */
export function scheduledEvent(at: string, invocation: { id?: string; account?: string; region?: string; rule?: string }): JsonValue {
  return {
    version: '0',
    id: invocation.id ?? '00000000-0000-0000-0000-000000000000',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: invocation.account ?? '000000000000',
    time: `${at.slice(0, 19)}Z`,
    region: invocation.region ?? 'us-east-1',
    resources: invocation.rule ? [invocation.rule] : [],
    detail: {},
  };
}

const EVENT_ATTRIBUTES = ['faas.event', 'aws.lambda.event'] as const;
const EVENT_EVENTS = ['faas.event', 'faas.invocation'] as const;
const EVENT_RECORD_FIELDS = ['faas.event', 'event'] as const;

/**
 * The function entry of a FaaS invocation span: `args` is `[event, context]`. The event comes from
 * the span's attributes, then its span events, then log records of the invocation; a timer trigger
 * without one gets a synthesized scheduled event (guessed). The handler is left for the catalog's
 * `functionHandler` to name (`module` '', `export` 'handler').
 */
export function functionEntry(faas: IndexedSpan, own: readonly IndexedSpan[], records: readonly JoinedRecord[], startedAt: string, trail: InputTrail): FunctionEntry {
  const a = faas.attributes;
  const r = faas.resource;
  const found = pick(trail, 'entry.args[0]', [
    ...fromAttributes(faas, EVENT_ATTRIBUTES),
    ...fromEvents([faas, ...own.filter((item) => item !== faas)], EVENT_EVENTS, ['faas.event', 'event']),
    ...fromRecords(records, new Set(own.map((item) => item.id)), EVENT_RECORD_FIELDS, looksLikeEvent),
  ]);
  const triggerSpan = [faas, ...own].find((item) => TRIGGERS.has(text(item.attributes['faas.trigger']) ?? ''));
  const recordedTrigger = triggerSpan ? (text(triggerSpan.attributes['faas.trigger']) as Trigger) : undefined;
  const arn = text(a['cloud.resource_id']) ?? text(r['cloud.resource_id']) ?? text(a['faas.id']) ?? text(r['faas.id']);
  const fromArn = arnParts(arn);
  const invocationId = text(a['faas.invocation_id']) ?? text(a['faas.execution']);
  const account = text(a['cloud.account.id']) ?? text(r['cloud.account.id']) ?? fromArn.account;
  const region = text(a['cloud.region']) ?? text(r['cloud.region']) ?? fromArn.region;
  const name = text(a['faas.name']) ?? text(r['faas.name']) ?? fromArn.name;

  let event: JsonValue = found?.value ?? null;
  if (found === undefined) {
    if (recordedTrigger === 'timer') {
      event = scheduledEvent(startedAt, { ...(invocationId ? { id: invocationId } : {}), ...(account ? { account } : {}), ...(region ? { region } : {}) });
      recordGuess(trail, 'entry.args[0]', `a scheduled event synthesized for the timer trigger at ${startedAt}`);
      trail.notes.push(`entry.args[0]: the invocation event was not recorded; the timer trigger is replayed with a synthesized scheduled event at ${startedAt} (guessed)`);
    } else {
      trail.notes.push(
        missingNote(
          `entry.args[0] (the invocation event of span ${faas.id})`,
          [
            `attributes ${EVENT_ATTRIBUTES.join(', ')} on the invocation span`,
            `span events ${EVENT_EVENTS.join(', ')} (attribute faas.event, else event)`,
            `log records of the invocation with ${EVENT_RECORD_FIELDS.join(' or ')}, or whose body is the event`,
          ],
          'The replay calls the handler with a null event',
        ),
      );
    }
  }
  const eventShape = eventShapeOf(event);
  const trigger = recordedTrigger ?? SHAPE_TRIGGER[eventShape];
  if (triggerSpan !== undefined) trail.inputs.push({ path: 'entry.trigger', signal: 'span-attribute', source: `attribute faas.trigger on span ${triggerSpan.id}` });
  else if (trigger !== undefined) recordGuess(trail, 'entry.trigger', `inferred from the ${eventShape} event shape`);

  const context: Record<string, JsonValue> = {
    ...(invocationId ? { awsRequestId: invocationId } : {}),
    ...(name ? { functionName: name } : {}),
    ...(arn ? { invokedFunctionArn: arn } : {}),
    ...(account ? { accountId: account } : {}),
  };
  const contextSources = [
    ['faas.invocation_id', invocationId],
    ['faas.name', name],
    ['cloud.resource_id', arn],
    ['cloud.account.id', account],
  ].filter(([, value]) => value !== undefined);
  if (contextSources.length > 0) trail.inputs.push({ path: 'entry.args[1]', signal: 'span-attribute', source: `attributes ${contextSources.map(([key]) => key).join(', ')} of span ${faas.id} and its resource` });
  return {
    kind: 'function',
    module: '',
    export: 'handler',
    args: [event, context],
    ...(trigger ? { trigger } : {}),
    ...(eventShape !== 'raw' ? { eventShape } : {}),
  };
}
