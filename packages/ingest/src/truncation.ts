// Values the capture cut short. The capture package (and any recorder following the same convention)
// writes `<name>.truncated = true` beside a value it capped at its `maxBytes`, and `<name>.size` with
// the full size where it knows it (`http.request.body.content` → `http.request.body.truncated`,
// `faas.event` → `faas.event.truncated`). A replay of a cut JSON body sends text that no longer
// parses, so the value's provenance says so and how to record it whole.
import type { InputProvenance } from '@tracemend/contracts';
import type { JsonValue } from './otlp';

/** The capture option that raises the cap, as a reader configures it. */
const CAPTURE_CAP_OPTION = 'the capture option maxBytes (applyCapture(instrumentations, { maxBytes }), or captureHttp/captureUndici/captureLambda/captureKafkajs({ maxBytes }); default 16 KiB)';

/** The attribute name a value's truncation marker and size hang off: `http.request.body.content` → `http.request.body`. */
function payloadName(key: string): string {
  return key.endsWith('.content') ? key.slice(0, -'.content'.length) : key;
}

function byteLength(value: JsonValue | undefined): number {
  return Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value ?? null));
}

/**
 * The truncation of the value recorded under attribute `key`, from the markers beside it, as
 * provenance fields (`truncated` and a `note` naming the sizes and the option that raises the cap);
 * empty when the value was recorded whole.
 */
export function truncationOf(attributes: Readonly<Record<string, JsonValue>>, key: string): { capture?: Pick<InputProvenance, 'truncated' | 'note'> } {
  const name = payloadName(key);
  const marker = `${name}.truncated`;
  if (attributes[marker] !== true && attributes[marker] !== 'true') return {};
  const recordedBytes = byteLength(attributes[key]);
  const size = attributes[`${name}.size`];
  const sizeBytes = typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? size : undefined;
  const of = sizeBytes === undefined ? '' : ` of ${sizeBytes}`;
  const above = sizeBytes === undefined ? 'above the value\'s size' : `to at least ${sizeBytes}`;
  return {
    capture: {
      truncated: { marker, recordedBytes, ...(sizeBytes === undefined ? {} : { sizeBytes }) },
      note: `${key} was cut short when recorded (${marker}): ${recordedBytes}${of} bytes kept, so the replay gets an incomplete value; raise ${CAPTURE_CAP_OPTION} ${above} bytes to record it whole`,
    },
  };
}
