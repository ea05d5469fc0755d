export { postAlert, startFixtureGitHub, startStack } from './stack';
export type { FixtureGitHub, Stack } from './stack';
