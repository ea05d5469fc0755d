// Which Docker engine the sandbox talks to. The driver bind-mounts the per-run work folder and the
// dependency cache into containers, so the engine has to see this machine's filesystem.
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

/**
 * The engine location of `env`, refusing an engine on another machine unless TRACEMEND_DOCKER_SHARED_FS=1
 * says it mounts this machine's state folder at the same path: its containers would otherwise get empty
 * bind mounts, and replays would fail in ways that look like bugs of the service.
 */
export function usableEngineLocation(env: NodeJS.ProcessEnv = process.env): EngineLocation {
  const location = engineLocation(env.DOCKER_HOST);
  if (location.kind === 'remote' && env[SHARED_FILESYSTEM_ENV] !== '1') {
    throw new TracemendError(
      'INVALID_INPUT',
      `DOCKER_HOST names the engine on ${location.host}, but the sandbox bind-mounts folders of this machine into its containers; ` +
        `run the engine here (a local socket or tcp://127.0.0.1), or set ${SHARED_FILESYSTEM_ENV}=1 if ${location.host} mounts the state folder at the same path`,
    );
  }
  return location;
}

/**
 * The Docker client for the engine `DOCKER_HOST` names (dockerode reads it, with DOCKER_TLS_VERIFY and
 * DOCKER_CERT_PATH), once `usableEngineLocation` accepts it. Building the client sends nothing.
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
