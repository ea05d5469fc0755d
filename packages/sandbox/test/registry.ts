/** A registry address nothing listens on: any request to it fails at once, and nothing leaves the machine. */
export const UNREACHABLE_REGISTRY = 'http://127.0.0.1:9/';

/** Runs `run` with the npm registry the host-side package managers are given set to `registry`. */
export async function withRegistry<T>(registry: string, run: () => Promise<T>): Promise<T> {
  const before = process.env.npm_config_registry;
  process.env.npm_config_registry = registry;
  try {
    return await run();
  } finally {
    if (before === undefined) delete process.env.npm_config_registry;
    else process.env.npm_config_registry = before;
  }
}
