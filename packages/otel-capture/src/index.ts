export { applyCapture, SUPPORTED_INSTRUMENTATIONS, type ConfigurableInstrumentation } from './apply.js';
export { captureHttp, type HttpCaptureHooks } from './http.js';
export { captureLambda, withLambdaEvent, type LambdaCaptureHooks } from './lambda.js';
export {
  captureKafkajs,
  withKafkaMessage,
  withSqsRecord,
  type KafkaMessageLike,
  type KafkajsCaptureHooks,
  type SqsCaptureOptions,
  type SqsRecordLike,
} from './messaging.js';
export { DEFAULT_MAX_BYTES, type CaptureOptions, type PayloadKind } from './options.js';
export { payloadAttributes, recordPayload } from './payload.js';
export { defaultRedactor, isSecretKey, REDACTED, redactText, type RedactContext, type Redactor } from './redact.js';
export { captureUndici, type UndiciCaptureHooks, type UndiciRequestLike, type UndiciResponseLike } from './undici.js';
