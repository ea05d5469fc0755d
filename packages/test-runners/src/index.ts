export { readReportedTests, runnerAdapter, SUPPORTED_RUNNERS, withReporter } from './adapters';
export type { ModuleSyntax, ReportKind, RunnerAdapter, RunOutput } from './adapters';
export { expandGlob, resolveBin, resolveTestCommand, splitScript } from './command';
export type { ResolveContext, ResolvedCommand } from './command';
export { detectTestConventions, moduleSpecifier } from './conventions';
export type { TestConventions } from './conventions';
export { MAX_FAILURE_CHARS, mochaJsonFromStdout, parseJestStyleJson, parseMochaJson, parseTap, readTapErrorFields, SANDBOX_WORK_ROOT, tapErrorText } from './report';
export type { TapErrorFields, TestOutcome } from './report';
