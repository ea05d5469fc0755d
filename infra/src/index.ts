export { findWorkspaceRoot, freePort, LOCAL_TEMPORAL_ADDRESS, stateDir, temporalCliPath } from './local-stack';
