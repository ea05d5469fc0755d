export { postAlert, startFixtureGitHub, startPipeline, startStack } from './stack';
export type { FixtureGitHub, GitHubSide, PipelineStack, Stack } from './stack';
