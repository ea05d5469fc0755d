export { buildBaseImage, sandboxImageTag } from './image/build-base-image';
export type { BuildBaseImageOptions, BuildBaseImageResult } from './image/build-base-image';
export { DEFAULT_RUN_LIMITS } from './driver';
export type { ReapOptions, RunOptions, RunResult, RunSpec, SandboxDriver } from './driver';
export { DockerSandboxDriver, SANDBOX_LABEL, reapOrphans } from './docker-driver';
export type { DockerSandboxDriverOptions } from './docker-driver';
export { installDependencies } from './dependencies';
export type { InstallDependenciesOptions, InstalledDependencies } from './dependencies';
