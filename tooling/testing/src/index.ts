export { findWorkspaceRoot, freePort, startTemporalDevServer, temporalCliPath } from './temporal-dev-server';
export type { StartTemporalDevServerOptions, TemporalDevServer } from './temporal-dev-server';
