export { DEFAULT_BODY_LIMITS } from './body';
export type { BodyLimits } from './body';
export { DEFAULT_MAX_BODY_BYTES, createGateway } from './gateway';
export type { Gateway, GatewayOptions } from './gateway';
export { loadGatewayConfig } from './env';
export type { GatewayConfig } from './env';
export { ACCEPTED_FORMATS, mediaTypeOfFormat } from './formats';
export type { AcceptedFormat } from './formats';
export type { AttachStatus } from './incidents';
