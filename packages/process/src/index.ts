export { describeExit, endStream, runCommand } from './run-command';
export type { CommandResult, RunAs, RunCommandOptions, WritableEnd } from './run-command';
export { copyTreeInside, isInsideTree, readFileInside, readTextInside, resolveInside, treeRelativePath, writeFileInside } from './safe-fs';
export type { CopyTreeOptions, ReadInsideOptions, ResolvedInside } from './safe-fs';
export { MAX_SOURCE_BYTES, readSourceFiles } from './source-files';
export { deriveSealingKey, seal, SEAL_NONCE_BYTES, SEAL_TAG_BYTES, unseal } from './sealing';
export type { Sealed } from './sealing';
export { readOrCreateSecretFile } from './secret-file';
