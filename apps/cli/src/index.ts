export { runCli, USAGE } from './cli';
export { doctorPassed, formatDoctor, runDoctor } from './doctor';
export type { CheckResult, CheckStatus, DoctorDeps } from './doctor';
export { defaultSandboxImage, loadCliConfig } from './env';
export type { CliConfig } from './env';
export type { CliIo } from './io';
