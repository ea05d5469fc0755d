import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { SEARCH_ATTRIBUTES } from '@tracemend/contracts';

export interface TemporalDevServer {
  /** host:port of the frontend gRPC service. */
  address: string;
  namespace: string;
  stop(): Promise<void>;
}

export interface StartTemporalDevServerOptions {
  /** Register tracemend's custom search attributes (default true). */
  searchAttributes?: boolean;
  /** Milliseconds to wait for the frontend to accept connections (default 60 s). */
  readyTimeoutMs?: number;
}

/** Finds the workspace root: the nearest ancestor holding pnpm-workspace.yaml. */
export function findWorkspaceRoot(from: string = process.cwd()): string {
  let dir = from;
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no pnpm-workspace.yaml above ${from}`);
    dir = parent;
  }
  return dir;
}

/** The temporal CLI: the one the bootstrap linked into .tracemend/bin, else `temporal` on PATH. */
export function temporalCliPath(root: string = findWorkspaceRoot()): string {
  const linked = join(root, '.tracemend', 'bin', 'temporal');
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

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`temporal dev server exited with ${child.exitCode}: ${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1');
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`temporal dev server did not listen on 127.0.0.1:${port} within ${timeoutMs} ms: ${output()}`);
}

/** Starts an in-memory, headless Temporal dev server on free loopback ports. */
export async function startTemporalDevServer(options: StartTemporalDevServerOptions = {}): Promise<TemporalDevServer> {
  const port = await freePort();
  const args = ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'error'];
  args.push('--http-port', String(await freePort()), '--metrics-port', String(await freePort()));
  if (options.searchAttributes ?? true) {
    for (const { name, type } of Object.values(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  }
  const child = spawn(temporalCliPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const spawnError = new Promise<never>((_, reject) => child.once('error', (error) => reject(new Error(`cannot run the temporal CLI: ${error.message}; run infra/bootstrap.sh`))));
  await Promise.race([waitForPort(port, child, options.readyTimeoutMs ?? 60_000, () => output), spawnError]);
  return {
    address: `127.0.0.1:${port}`,
    namespace: 'default',
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
