// Which Docker engine the sandbox talks to, and how host folders reach its containers: bind mounts
// when the engine sees this machine's filesystem, volumes filled over the engine API when it does not.
import Docker from 'dockerode';
import { TracemendError } from '@tracemend/contracts';

/** Where `DOCKER_HOST` points: this machine (over its socket or loopback TCP) or another one. */
export type EngineLocation =
  | { readonly kind: 'local-socket'; readonly socketPath: string }
  | { readonly kind: 'local-tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'remote'; readonly host: string };

const DEFAULT_SOCKET = '/var/run/docker.sock';
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1']);
/** Set to 1 when a remote engine mounts the worker's state folder at the same path (e.g. a VM sharing it). */
export const SHARED_FILESYSTEM_ENV = 'TRACEMEND_DOCKER_SHARED_FS';

/**
 * How the driver gives containers the checkout, dependencies and harness: `bind` mounts host folders
 * (the engine shares this machine's files), `volume` uploads them into Docker volumes through the
 * engine's archive API and copies /work back after each container.
 */
export type MountMode = 'bind' | 'volume';

/** Reads `DOCKER_HOST` (unset means the local socket); INVALID_INPUT naming the value when it is not an engine address. */
export function engineLocation(dockerHost: string | undefined): EngineLocation {
  if (dockerHost === undefined || dockerHost === '') return { kind: 'local-socket', socketPath: DEFAULT_SOCKET };
  let url: URL;
  try {
    url = new URL(dockerHost);
  } catch {
    throw new TracemendError('INVALID_INPUT', `DOCKER_HOST ${JSON.stringify(dockerHost.slice(0, 200))} is not an engine address; use unix:///path/to/docker.sock, tcp://host:port or ssh://user@host`);
  }
  if (url.protocol === 'unix:') return { kind: 'local-socket', socketPath: url.pathname };
  if (url.protocol === 'tcp:' || url.protocol === 'http:' || url.protocol === 'https:') {
    const port = url.port === '' ? (url.protocol === 'https:' ? 2376 : 2375) : Number(url.port);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    return LOOPBACK_HOSTS.has(host) ? { kind: 'local-tcp', host, port } : { kind: 'remote', host };
  }
  if (url.protocol === 'ssh:') return { kind: 'remote', host: url.hostname };
  throw new TracemendError('INVALID_INPUT', `DOCKER_HOST uses ${url.protocol.slice(0, 20)}, which the sandbox does not support; use unix://, tcp:// or ssh://`);
}

/** The engine location of `env` (`DOCKER_HOST`); INVALID_INPUT naming the value when it is not an engine address. */
export function usableEngineLocation(env: NodeJS.ProcessEnv = process.env): EngineLocation {
  return engineLocation(env.DOCKER_HOST);
}

/**
 * The mount mode for an engine: bind mounts on this machine, or on another one that mounts the state
 * folder at the same path (TRACEMEND_DOCKER_SHARED_FS=1); volumes for any other remote engine, whose
 * bind mounts would otherwise be empty folders.
 */
export function mountModeFor(location: EngineLocation, env: NodeJS.ProcessEnv = process.env): MountMode {
  return location.kind === 'remote' && env[SHARED_FILESYSTEM_ENV] !== '1' ? 'volume' : 'bind';
}

/** `mountModeFor` an already built client, judged by the address its modem talks to. */
export function mountModeOf(docker: Docker, env: NodeJS.ProcessEnv = process.env): MountMode {
  const modem = docker.modem as { socketPath?: unknown; host?: unknown; protocol?: unknown };
  // A socket path (dockerode may hold a function that finds the default socket) is always this machine.
  if ((typeof modem.socketPath === 'string' && modem.socketPath !== '') || typeof modem.socketPath === 'function') return 'bind';
  const host = typeof modem.host === 'string' ? modem.host.replace(/^\[(.*)\]$/, '$1') : '';
  const location: EngineLocation = LOOPBACK_HOSTS.has(host) ? { kind: 'local-tcp', host, port: 0 } : { kind: 'remote', host };
  return mountModeFor(location, env);
}

/**
 * The Docker client for the engine `DOCKER_HOST` names (dockerode reads it, with DOCKER_TLS_VERIFY and
 * DOCKER_CERT_PATH). Building the client sends nothing.
 */
export function connectDocker(env: NodeJS.ProcessEnv = process.env): Docker {
  const location = usableEngineLocation(env);
  // dockerode applies DOCKER_HOST from the process environment; a caller's own env is passed explicitly.
  if (env === process.env) return new Docker();
  if (location.kind === 'local-socket') return new Docker({ socketPath: location.socketPath });
  const url = new URL(env.DOCKER_HOST ?? '');
  if (location.kind === 'local-tcp') return new Docker({ host: location.host, port: location.port, protocol: url.protocol === 'https:' ? 'https' : 'http' });
  return new Docker({ host: location.host, ...(url.port ? { port: Number(url.port) } : {}), protocol: url.protocol === 'ssh:' ? 'ssh' : url.protocol === 'https:' ? 'https' : 'http', ...(url.username ? { username: url.username } : {}) });
}
