export { postAlert, startStack } from './stack';
export type { Stack } from './stack';
