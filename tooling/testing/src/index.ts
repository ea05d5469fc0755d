export { startTemporalDevServer } from './temporal-dev-server';
export type { StartTemporalDevServerOptions, TemporalDevServer } from './temporal-dev-server';
export { eventually } from './eventually';
