import { spawn, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { SEARCH_ATTRIBUTES } from '@tracemend/contracts';
import { freePort, temporalCliPath } from '@tracemend/infra';

export interface TemporalDevServer {
  /** host:port of the frontend gRPC service. */
  address: string;
  namespace: string;
  /** The Web UI's base URL when the server was started with `ui: true`. */
  uiUrl?: string;
  stop(): Promise<void>;
}

export interface StartTemporalDevServerOptions {
  /** Register tracemend's custom search attributes (default true). */
  searchAttributes?: boolean;
  /** Milliseconds to wait for the frontend to accept connections (default 60 s). */
  readyTimeoutMs?: number;
  /** Serve the Temporal Web UI on a free loopback port (default false: headless). */
  ui?: boolean;
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

/** Starts an in-memory Temporal dev server on free loopback ports, headless unless `ui` is set. */
export async function startTemporalDevServer(options: StartTemporalDevServerOptions = {}): Promise<TemporalDevServer> {
  const port = await freePort();
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'error'];
  args.push('--http-port', String(await freePort()), '--metrics-port', String(await freePort()));
  const uiPort = options.ui ? await freePort() : undefined;
  if (uiPort === undefined) args.push('--headless');
  else args.push('--ui-ip', '127.0.0.1', '--ui-port', String(uiPort), '--ui-disable-news-fetch');
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
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  await Promise.race([waitForPort(port, child, readyTimeoutMs, () => output), spawnError]);
  if (uiPort !== undefined) await waitForPort(uiPort, child, readyTimeoutMs, () => output);
  return {
    address: `127.0.0.1:${port}`,
    namespace: 'default',
    ...(uiPort === undefined ? {} : { uiUrl: `http://127.0.0.1:${uiPort}` }),
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
