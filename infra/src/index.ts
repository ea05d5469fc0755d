export { findWorkspaceRoot, freePort, stateDir, temporalCliPath } from './local-stack';
