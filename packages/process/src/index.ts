export { describeExit, endStream, runCommand } from './run-command';
export type { CommandResult, RunAs, RunCommandOptions, WritableEnd } from './run-command';
