import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout: the nearest ancestor of `from` (default: this package) holding pnpm-workspace.yaml. */
export function findWorkspaceRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no pnpm-workspace.yaml above ${from}`);
    dir = parent;
  }
  return dir;
}

/**
 * Where `infra/temporal-dev.sh` serves the project's Temporal dev server (its default port), and so
 * the default Temporal address of the worker, the gateway and the CLI.
 */
export const LOCAL_TEMPORAL_ADDRESS = '127.0.0.1:7233';

/** Project-local, git-ignored state: the Temporal database, logs, pid files, the bootstrap's links. */
export function stateDir(root: string = findWorkspaceRoot()): string {
  return join(root, '.tracemend');
}

/** The temporal CLI the bootstrap linked into the state folder, else `temporal` on PATH. */
export function temporalCliPath(root: string = findWorkspaceRoot()): string {
  const linked = join(stateDir(root), 'bin', 'temporal');
  return existsSync(linked) ? linked : 'temporal';
}

/** Asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
