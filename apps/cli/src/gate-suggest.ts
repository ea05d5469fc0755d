import { formatIssues, TracemendError, type FailureEnvelope, type PrivacyAction, type Sensitivity } from '@tracemend/contracts';
import { DATA_ROOTS, DataContract, isSecretKeyName, parsePattern, previewGate, type DataContractField, type GatePreview, type TokenType } from '@tracemend/privacy-gate';
import { Document, type YAMLMap, type YAMLSeq } from 'yaml';
import { envelopeForDryRun } from './gate-dry-run';
import type { CliIo } from './io';

/** What `tracemend gate --suggest` reads: the alert or envelope text and the service the contract is for. */
export interface GateSuggestOptions {
  text: string;
  /** The contract's `service`; the envelope's `identity.service` when left out. */
  service?: string;
  json: boolean;
}

/** One proposed contract field and why it is proposed so. */
export interface SuggestedField {
  path: string;
  action: PrivacyAction;
  sensitivity: Sensitivity;
  type?: TokenType;
  why: string;
}

/** A draft data contract: the contract itself and the reason behind each field. */
export interface ContractSuggestion {
  service: string;
  /** The service the envelope reports, when `--service` named another. */
  envelopeService: string;
  contract: DataContract;
  fields: SuggestedField[];
  /** Detector findings outside the data-bearing parts (messages, frames): the gate scrubs them whatever the contract says. */
  structuralHits: { path: string; detectors: string[] }[];
}

/** The token format a detector's finding keeps when the whole field is tokenized. */
const DETECTOR_TOKEN_TYPES: Record<string, TokenType> = { email: 'email', phone: 'phone', card: 'card', ipv4: 'ip', ipv6: 'ip' };

type Proposal = Omit<SuggestedField, 'path'>;

/**
 * OpenTelemetry semantic-convention attributes (and their older names) by what they say about a
 * request. The first match wins, so the personal and secret ones come first.
 */
const SEMANTIC_CONVENTIONS: readonly [RegExp, Proposal][] = [
  [/^(?:user\.email|enduser\.email)$/, { action: 'tokenize', sensitivity: 'internal', type: 'email', why: 'semantic convention: a user email address (personal)' }],
  [/^(?:user\.(?:full_)?name|enduser\.name)$/, { action: 'tokenize', sensitivity: 'internal', type: 'name', why: 'semantic convention: a user name (personal)' }],
  [/^(?:user\.(?:id|hash)|enduser\.(?:id|pseudo\.id)|session\.(?:id|previous_id))$/, { action: 'tokenize', sensitivity: 'internal', type: 'text', why: 'semantic convention: identifies a user or session (personal); set type uuid or number if the ids have that format' }],
  [/^(?:user\.roles|enduser\.(?:role|scope))$/, { action: 'allow', sensitivity: 'internal', why: 'semantic convention: the roles or scopes of the user, no identity' }],
  [/^(?:client\.address|source\.address|network\.peer\.address|net\.peer\.ip|net\.sock\.peer\.addr|http\.client_ip)$/, { action: 'tokenize', sensitivity: 'internal', type: 'ip', why: "semantic convention: the client's network address (personal)" }],
  [/^(?:client\.port|source\.port|network\.peer\.port|net\.peer\.port|net\.sock\.peer\.port)$/, { action: 'allow', sensitivity: 'internal', why: "semantic convention: the client's port, no identity" }],
  [/^http\.(?:request|response)\.header\.(?:authorization|proxy-authorization|cookie|set-cookie|x-api-key)$/, { action: 'drop', sensitivity: 'secret', why: 'semantic convention: a credential header' }],
  [/^http\.(?:request|response)\.body\.content$/, { action: 'allow', sensitivity: 'internal', why: "the body the instrumentation recorded, needed to replay the request; the gate replaces in it the values this contract removes elsewhere and its detectors' findings" }],
  [/^http\.(?:request|response)\.header\.(?:content-type|content-length|content-encoding|accept(?:-[\w-]+)?|x-request-id|x-correlation-id|traceparent|tracestate|user-agent)$/, { action: 'allow', sensitivity: 'internal', why: 'semantic convention: a recorded protocol header, no personal data' }],
  [/^(?:db\.statement|db\.query\.text)$/, { action: 'redact', sensitivity: 'internal', why: 'semantic convention: a database query, which can quote the values it reads and writes' }],
  [/^(?:url\.full|url\.query|http\.url|http\.target)$/, { action: 'allow', sensitivity: 'internal', why: 'semantic convention: the request URL, needed to replay it; the gate scrubs values its detectors find in it' }],
  [/^(?:user_agent\.original|http\.user_agent)$/, { action: 'allow', sensitivity: 'internal', why: 'semantic convention: the client software, not a person' }],
  [/^(?:exception\.message|exception\.stacktrace|error\.message)$/, { action: 'allow', sensitivity: 'internal', why: 'semantic convention: the error being repaired; the gate scrubs values its detectors find in it' }],
  [
    /^(?:http\.(?:request\.method|method|route|response\.status_code|status_code|scheme|flavor|(?:request|response)\.(?:body\.)?size|request\.resend_count)|url\.(?:scheme|path|route)|server\.(?:address|port)|network\.(?:protocol\.\w+|transport|type)|net\.(?:host\.\w+|transport)|rpc\.\w+(?:\.\w+)*|messaging\.\w+(?:\.\w+)*|faas\.\w+|cloud\.\w+(?:\.\w+)*|db\.(?:system(?:\.name)?|operation(?:\.name)?|collection\.name|namespace|name)|code\.\w+(?:\.\w+)*|exception\.(?:type|escaped)|error\.type|otel\.\w+(?:\.\w+)*|thread\.\w+|service\.\w+|telemetry\.\w+(?:\.\w+)*|process\.runtime\.\w+|feature_flag\.(?:key|provider_name|variant|set\.id|context\.id|result\.(?:variant|value|reason))|aws\.\w+(?:\.\w+)*|event\.name)$/,
    { action: 'allow', sensitivity: 'public', why: 'semantic convention: describes the operation, not its data' },
  ],
];

/** Data keys whose names say what they hold, for fields no detector flagged in the sample. */
const KEY_NAMES: readonly [RegExp, Proposal][] = [
  [/e-?mail/i, { action: 'tokenize', sensitivity: 'internal', type: 'email', why: 'the key names an email address (personal)' }],
  [/phone|mobile|msisdn|^tel$/i, { action: 'tokenize', sensitivity: 'internal', type: 'phone', why: 'the key names a phone number (personal)' }],
  [/^(?:first|last|full|given|family|sur|middle|display|customer|holder|contact|user|recipient|sender)[-_]?name$|^name$/i, { action: 'tokenize', sensitivity: 'internal', type: 'name', why: "the key names a person's name (personal)" }],
  [/(?:^|[-_])ip(?:[-_]?addr(?:ess)?)?$|client[-_]?ip|remote[-_]?addr|x-forwarded-for|x-real-ip/i, { action: 'tokenize', sensitivity: 'internal', type: 'ip', why: 'the key names a network address (personal)' }],
  [/birth|^dob$|ssn|social[-_]?security|national[-_]?id|passport|tax[-_]?id|iban|card[-_]?number|^pan$|cvv|cvc|account[-_]?number/i, { action: 'drop', sensitivity: 'secret', why: 'the key names an identity or payment document number' }],
  [/address|street|line[12]$|postal|zip/i, { action: 'redact', sensitivity: 'internal', why: 'the key names a postal address (personal)' }],
  [/(?:user|customer|account|member|person|client|patient|employee|subscriber)[-_]?id$/i, { action: 'tokenize', sensitivity: 'internal', type: 'text', why: 'the key names the id of a person; set type uuid or number if the ids have that format' }],
];

/** Keys and paths whose values are free text: a finding inside them is part of a sentence, not the whole value. */
const FREE_TEXT_KEY = /^(?:message|msg|body|text|description|details?|note|notes|comment|reason|error|err|stack|exception\.message|exception\.stacktrace|log\.record\.original)$/i;

const OPEN_BODY = /^(?:entry\.(?:body|query|payload|args)|downstream\.\*\.responseBody|logs\.\*\.attributes|spans\.\*\.(?:events\.\*\.)?attributes)/;

/** Allows every data-bearing leaf so the preview reports each path once, with the detectors' findings on its value. */
function surveyContract(service: string): DataContract {
  const fields: DataContractField[] = DATA_ROOTS.map((root) => ({ path: [...root, '**'].join('.'), action: 'allow', sensitivity: 'internal' }));
  return { service, version: 1, fields };
}

/** The last key of a path (array positions skipped) and whether it names an attribute (`…attributes["http.route"]`). */
function lastKey(path: string): { key: string; attribute: boolean } {
  const segments = parsePattern(path).map((segment) => (segment.kind === 'literal' ? segment.value : '*'));
  for (let index = segments.length - 1; index >= 0; index--) {
    const segment = segments[index] ?? '*';
    if (segment !== '*' && !/^\d+$/.test(segment)) return { key: segment, attribute: segments[index - 1] === 'attributes' };
  }
  return { key: '', attribute: false };
}

/** The proposal for one field path from the detector findings on its value, its key and the attribute's meaning. */
export function proposeField(path: string, findings: readonly { detector: string; action: PrivacyAction; count: number }[]): Proposal {
  const { key, attribute } = lastKey(path);
  const header = /^entry\.headers\.|^downstream\.\*\.responseHeaders\./.test(path);
  const isLogBody = /^logs\.\*\.body$/.test(path);
  const freeText = isLogBody || FREE_TEXT_KEY.test(key);
  const secrets = findings.filter((finding) => finding.action === 'redact');
  const personal = findings.filter((finding) => finding.action !== 'redact');
  const counted = (list: typeof findings): string => list.map((finding) => `${finding.detector} (${finding.count})`).join(', ');
  if (secrets.length > 0) {
    // The gate's key-name rule counts as a finding on every string under a credential key.
    const byKey = secrets.every((finding) => finding.detector === 'secret-key-name');
    return { action: 'drop', sensitivity: 'secret', why: byKey ? 'the key names a credential' : `detector hit in the sample: ${counted(secrets)}` };
  }
  if (personal.length > 0) {
    const types = new Set(personal.map((finding) => DETECTOR_TOKEN_TYPES[finding.detector]));
    const [type] = types;
    if (freeText || types.size !== 1 || type === undefined) {
      return { action: 'redact', sensitivity: 'internal', why: `detector hit in the sample: ${counted(personal)} inside free text; allow it instead only if the gate's detectors tokenizing each finding is enough` };
    }
    return { action: 'tokenize', sensitivity: 'internal', type, why: `detector hit in the sample: ${counted(personal)}; a format-preserving token keeps replays valid` };
  }
  if (key !== '' && isSecretKeyName(key)) return { action: 'drop', sensitivity: 'secret', why: 'the key names a credential' };
  if (attribute) {
    for (const [pattern, proposal] of SEMANTIC_CONVENTIONS) if (pattern.test(key)) return proposal;
  }
  if (header) {
    if (/^(?:content-type|content-length|accept(?:-\w+)?|x-request-id|x-correlation-id|traceparent|tracestate|host|user-agent)$/.test(key)) {
      return { action: 'allow', sensitivity: key === 'user-agent' || key === 'host' ? 'internal' : 'public', why: 'a protocol header, no personal data' };
    }
  }
  // camelCase keys read as words: `sourceIp` as `source_Ip`, `customerEmail` as `customer_Email`.
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2');
  for (const [pattern, proposal] of KEY_NAMES) if (pattern.test(words)) return proposal;
  if (isLogBody) return { action: 'allow', sensitivity: 'internal', why: "a log message with no detector hit in the sample; the gate's detectors still run on it" };
  return {
    action: 'allow',
    sensitivity: 'internal',
    why: `no detector hit in the sample and the ${OPEN_BODY.test(path) ? 'key' : 'header'} names no personal or secret data; the gate's detectors still run on it`,
  };
}

/**
 * Drafts a data contract from one envelope: every data-bearing field path the gate would see, each
 * with an action and the reason for it. The walk and the detectors are the gate's own (a preview under
 * a contract that allows everything), so a path appears here exactly as the gate reports it and the
 * suggestion never holds a value.
 */
export function suggestContract(envelope: FailureEnvelope, service?: string): ContractSuggestion {
  const envelopeService = envelope.identity.service;
  const preview: GatePreview = previewGate({ envelope, contract: surveyContract(envelopeService) });
  const hits = new Map(preview.detectorHits.map((hit) => [`${hit.path}\u0000${hit.detector}`, hit.count]));
  const paths = [...new Set(preview.decisions.filter((decision) => decision.basis === 'contract').map((decision) => decision.path))];
  const findingsAt = new Map<string, { detector: string; action: PrivacyAction; count: number }[]>();
  for (const decision of preview.decisions) {
    if (decision.basis !== 'detector' || decision.detector === undefined) continue;
    const list = findingsAt.get(decision.path) ?? [];
    list.push({ detector: decision.detector, action: decision.action, count: hits.get(`${decision.path}\u0000${decision.detector}`) ?? 1 });
    findingsAt.set(decision.path, list);
  }
  const dataPaths = new Set(paths);
  const fields = paths.sort().map((path): SuggestedField => ({ path, ...proposeField(path, findingsAt.get(path) ?? []) }));
  const structuralHits = [...findingsAt]
    .filter(([path]) => !dataPaths.has(path))
    .map(([path, findings]) => ({ path, detectors: findings.map((finding) => finding.detector) }))
    .sort((a, b) => a.path.localeCompare(b.path));
  const parsed = DataContract.safeParse({
    service: service ?? envelopeService,
    version: 1,
    fields: fields.map(({ path, action, sensitivity, type }) => ({ path, action, sensitivity, ...(type === undefined ? {} : { type }) })),
  });
  if (!parsed.success) {
    // In practice an alert wider than a contract may be (its field count is bounded).
    throw new TracemendError(
      'INVALID_INPUT',
      `the ${fields.length} field paths of this alert make no valid data contract (${formatIssues(parsed.error.issues)}): suggest from a smaller sample, or label whole subtrees with ** by hand`,
    );
  }
  return { service: parsed.data.service, envelopeService, contract: parsed.data, fields, structuralHits };
}

/** The draft as a contract file: one flow-style line per field with its reason in `note`, a header saying what to review. */
export function formatContractSuggestion(suggestion: ContractSuggestion): string {
  const document = new Document({
    service: suggestion.service,
    version: 1,
    fields: suggestion.fields.map(({ path, action, sensitivity, type, why }) => ({ path, action, sensitivity, ...(type === undefined ? {} : { type }), note: why })),
  });
  for (const item of (document.get('fields', true) as YAMLSeq<YAMLMap>).items) item.flow = true;
  const counts = new Map<string, number>();
  for (const field of suggestion.fields) counts.set(field.action, (counts.get(field.action) ?? 0) + 1);
  document.commentBefore = [
    ` Draft data contract for ${suggestion.service}, suggested from one sample alert by tracemend gate --suggest.`,
    ` ${suggestion.fields.length} field paths: ${[...counts].map(([action, count]) => `${count} ${action}`).join(', ')}. Review each line before use: a path the sample`,
    ' did not carry is dropped by default deny, and a value the sample held may not show what others hold.',
    ...(suggestion.service !== suggestion.envelopeService
      ? [` The alert comes from service ${suggestion.envelopeService}: the gate applies this contract only to envelopes from ${suggestion.service}.`]
      : []),
    ...(suggestion.structuralHits.length > 0
      ? [' Detector hits outside the data-bearing parts, which the gate scrubs whatever this contract says:', ...suggestion.structuralHits.map((hit) => `   ${hit.path}: ${hit.detectors.join(', ')}`)]
      : []),
  ].join('\n');
  return document.toString({ lineWidth: 0 });
}

/** `tracemend gate --suggest`: prints a draft data contract for the service of one alert or envelope; never a value. */
export async function runGateSuggest(options: GateSuggestOptions, io: CliIo): Promise<number> {
  const envelope = await envelopeForDryRun(options.text);
  const suggestion = suggestContract(envelope, options.service);
  io.out(options.json ? JSON.stringify(suggestion, null, 2) : formatContractSuggestion(suggestion));
  return 0;
}
