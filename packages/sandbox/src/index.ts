export { buildBaseImage, sandboxImageTag } from './image/build-base-image';
export type { BuildBaseImageOptions, BuildBaseImageResult } from './image/build-base-image';
export { DEFAULT_RUN_LIMITS, nodeHeapExhausted } from './driver';
export type { ReapOptions, RunOptions, RunResult, RunSpec, SandboxDriver } from './driver';
export { DockerSandboxDriver, FORBIDDEN_MOUNT_SOURCES, SANDBOX_LABEL, reapOrphans } from './docker-driver';
export type { DockerSandboxDriverOptions } from './docker-driver';
export { describeDependencies, installDependencies } from './dependencies';
export { detectPackageManager, LOCKFILES, type CheckoutManifests, type LockfileName, type PackageManagerPlan } from './package-manager';
export type { InstallDependenciesOptions, InstalledDependencies } from './dependencies';
export type { ReadOnlyMount, SandboxProcess, StartSpec } from './driver';
export { TOOLCHAIN_NODE_MODULES, resolveTypeScriptLoader } from './loader';
export type { TypeScriptLoader } from './loader';
export { HARNESS_DIR, ObservedError, RESULT_MARKER, ResidentHarness, ScriptCoverage, harnessJobLine, harnessLaunch } from './replay';
export type { HarnessLaunch, HarnessLoader, HttpApp, ReplayJob, ReplayResult, ResidentHarnessOptions } from './replay';
export { PREPARED_JS_ROOT, compiledName, prepareJsTree } from './prepared-js';
export type { PrepareJsTreeOptions, PreparedJsTree } from './prepared-js';
export {
  adaptEvent,
  eventOfShape,
  entryHandlersOf,
  eventPayload,
  invocationOf,
  isFaasInvocation,
  lambdaContextFields,
  messageArgument,
  resolveEntry,
  snsEvent,
  sqsRecord,
} from './invocation';
export type { EntryHandlers, Invocation } from './invocation';
export { SIGNATURE_FRAMES, describeSignature, failureSignature, signaturesMatch } from './signature';
export type { SignatureFrame, SignatureInput } from './signature';
export { lineCoverageOf } from './coverage';
export type { FunctionSpan, LineCounts } from './coverage';
export {
  DEFAULT_REPRODUCTION_RUNS,
  DEFAULT_REPRODUCTION_THRESHOLD,
  mismatchReason,
  observedSignature,
  replayJob,
  replayJobFromEnvelope,
  reproduce,
} from './reproduce';
export type { ReplayInput, ReproduceOptions } from './reproduce';
export { flagEnvironment } from './flags';
export { REPLAY_SUPPORT_NAME, replaySupportFiles } from './replay-support';
export type { SupportFormat } from './replay-support';
export { commitDateOf, copyCheckout, grantSandboxAccess, prepareCheckout } from './checkout';
export { HostCommandError, runHostCommand, untrustedWorkUser } from './host-command';
export type { HostCommandOptions, HostCommandResult, HostUser } from './host-command';
export { SANDBOX_GID, SANDBOX_UID } from './image/build-base-image';
export { INCIDENT_LABEL, NODE_FOLDER, createSandboxActivities, createWorkspace, harnessStarter, imageFor, startHarnessFrom } from './activities';
export { POOL_LABEL, WarmPool, poolKey } from './warm-pool';
export type { PoolTarget, TakeOptions, WarmPoolOptions } from './warm-pool';
export type { PreparedTarget, SandboxStageDeps, StageCallContext, Workspace, WorkspaceOptions } from './activities';
export { anySignal, cancellableDriver, cancellableWorkspace } from './cancellation';
export { ensureDependencyMountPoint } from './shared-checkout';
export { SHARED_FILESYSTEM_ENV, connectDocker, engineLocation, mountModeFor, mountModeOf, usableEngineLocation } from './engine';
export type { EngineLocation, MountMode } from './engine';
export { TREE_LABEL, WORK_VOLUME_LABEL } from './remote-volumes';
export { DEFAULT_EXTRACT_LIMITS, extractArchiveInto } from './tar-extract';
export type { ExtractLimits, ExtractOptions, ExtractResult, KnownFile } from './tar-extract';
export {
  HARNESS_MIN_NODE,
  LTS_CODENAMES,
  NODE_BINARY_PACKAGE,
  NODE_VERSION_FILES,
  chooseNodeVersion,
  describeRequirementSource,
  nodeRangeOf,
  publishedNodeVersions,
  readNodeRequirement,
  resolveNodeVersion,
} from './node-version';
export type { NodeChoice, NodeRequirement, NodeVersionFile, PublishedNodeVersionsOptions, ResolveNodeVersionOptions } from './node-version';
export { ensureNodeBinary, ensureNodeImage } from './node-runtime';
export type { NodeBinary, NodeImage } from './node-runtime';
