import { realpath, stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import type Docker from 'dockerode';
import { connectDocker, mountModeOf, type MountMode } from './engine';
import { reapVolumes, VolumeMounts, type StagedVolumes } from './remote-volumes';
import type { ExtractLimits } from './tar-extract';
import { TracemendError } from '@tracemend/contracts';
import { endStream } from '@tracemend/process';
import { createLogger, type Logger } from '@tracemend/telemetry';
import type { ReadOnlyMount, ReapOptions, RunOptions, RunResult, RunSpec, SandboxDriver, SandboxProcess, StartSpec } from './driver';
import { IMAGE_TIMEOUT_BIN, SANDBOX_GID, SANDBOX_UID } from './image/build-base-image';

/** Label every sandbox container carries; `reapOrphans` selects on it. */
export const SANDBOX_LABEL = 'tracemend.sandbox';

const DEFAULT_TMPFS_BYTES = 64 * 1024 * 1024;
const DEFAULT_OUTPUT_LIMIT_BYTES = 1024 * 1024;
const DEFAULT_REAP_AGE_MS = 15 * 60 * 1000;
/** The in-container timeout fires this much later than the driver's own kill; it only matters if the driver dies. */
const INNER_TIMEOUT_GRACE_MS = 5_000;
/** How long to wait for buffered output after the process exited. */
const OUTPUT_DRAIN_MS = 2_000;
const NOFILE_LIMIT = 1024;

/** A sink that keeps the first `limit` bytes and counts the rest. */
class BoundedSink extends Writable {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  truncated = false;

  constructor(private readonly limit: number) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    const room = this.limit - this.kept;
    if (chunk.length > room) this.truncated = true;
    if (room > 0) {
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.chunks.push(part);
      this.kept += part.length;
    }
    callback();
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

function statusCodeOf(error: unknown): number | undefined {
  return (error as { statusCode?: number } | undefined)?.statusCode;
}

function isEngineUnreachable(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  return code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EACCES' || code === 'ECONNRESET';
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('The sandbox run was aborted', 'AbortError');
}

function assertSpec(spec: StartSpec): void {
  const problems: string[] = [];
  if (spec.command.length === 0 || spec.command.some((arg) => typeof arg !== 'string')) problems.push('command must be a non-empty argv');
  if (!isAbsolute(spec.workDir)) problems.push('workDir must be an absolute path');
  if (spec.depsDir !== undefined && !isAbsolute(spec.depsDir)) problems.push('depsDir must be an absolute path');
  for (const [name, value] of [
    ['timeoutMs', spec.timeoutMs],
    ['memoryBytes', spec.memoryBytes],
    ['pids', spec.pids],
    ['nanoCpus', spec.nanoCpus],
  ] as const) {
    if (!Number.isInteger(value) || value <= 0) problems.push(`${name} must be a positive integer`);
  }
  for (const key of Object.keys(spec.env)) {
    if (key === '' || key.includes('=') || key.includes('\0')) problems.push(`invalid env name ${JSON.stringify(key)}`);
  }
  for (const mount of spec.readOnlyMounts ?? []) {
    if (!isAbsolute(mount.source) || !isAbsolute(mount.target)) problems.push(`mount ${mount.target} needs absolute paths`);
    if (mount.target === '/work' || mount.target.startsWith('/work/') || mount.target === '/' || mount.target === '/tmp') problems.push(`mount target ${mount.target} is reserved`);
  }
  if (spec.labels && SANDBOX_LABEL in spec.labels) problems.push(`label ${SANDBOX_LABEL} is reserved`);
  if (problems.length > 0) {
    throw new TracemendError('INVALID_INPUT', `Invalid sandbox run spec: ${problems.join('; ')}`, { details: { problems } });
  }
}

async function resolveMounts(mounts: readonly ReadOnlyMount[] = []): Promise<ReadOnlyMount[]> {
  return Promise.all(
    mounts.map(async (mount) => ({
      source: await hostDirectory(mount.source, `mount ${mount.target}`),
      target: mount.target,
      ...(mount.containerLinks === undefined ? {} : { containerLinks: mount.containerLinks }),
    })),
  );
}

/**
 * Host folders no sandbox mount may be or lie under: kernel and device interfaces, runtime sockets
 * (the Docker socket among them) and the host's configuration. The host's root `/` is refused too.
 */
export const FORBIDDEN_MOUNT_SOURCES = ['/proc', '/sys', '/dev', '/run', '/var/run', '/etc'] as const;

function forbiddenSource(path: string): string | undefined {
  if (path === '/') return 'the host root';
  const root = FORBIDDEN_MOUNT_SOURCES.find((forbidden) => path === forbidden || path.startsWith(`${forbidden}/`));
  return root === undefined ? undefined : `under ${root}`;
}

/**
 * The real host path behind a mount source, refused when it (or what a link in it leads to) is the
 * host root, lies under a forbidden folder or is a socket or device (the Docker socket anywhere).
 */
async function hostDirectory(path: string, name: string): Promise<string> {
  let resolved: string;
  try {
    resolved = await realpath(path);
  } catch (error) {
    throw new TracemendError('INVALID_INPUT', `Sandbox ${name} does not exist: ${path}`, { cause: error });
  }
  const forbidden = forbiddenSource(path) ?? forbiddenSource(resolved);
  const info = await stat(resolved);
  const special = info.isSocket() ? 'a socket' : info.isCharacterDevice() || info.isBlockDevice() ? 'a device' : info.isFIFO() ? 'a FIFO' : undefined;
  const why = forbidden ?? special;
  if (why !== undefined) {
    const shown = resolved === path ? path : `${path} (${resolved})`;
    throw new TracemendError('INVALID_INPUT', `Sandbox ${name} may not mount ${shown}: it is ${why}`, { details: { path, resolved, reason: why } });
  }
  return resolved;
}

interface ResolvedDirs {
  readonly workDir: string;
  readonly depsDir: string | undefined;
  readonly mounts: readonly ReadOnlyMount[];
  /** `once`: stdin is written and closed; `stream`: stdin stays open; `none`: no stdin. */
  readonly stdin: 'once' | 'stream' | 'none';
  /** In volume mode, the volumes standing in for the bind mounts. */
  readonly volumeMounts?: Docker.MountConfig;
}

/** The one place that defines a sandbox container: hardening, limits, mounts and labels. */
function containerOptions(spec: StartSpec, dirs: ResolvedDirs): Docker.ContainerCreateOptions {
  const { workDir, depsDir } = dirs;
  const hasStdin = dirs.stdin !== 'none';
  const innerSeconds = Math.ceil((spec.timeoutMs + INNER_TIMEOUT_GRACE_MS) / 1000);
  const labels = { ...spec.labels, [SANDBOX_LABEL]: '1' };
  return {
    Image: spec.image,
    Cmd: [IMAGE_TIMEOUT_BIN, '-s', 'KILL', String(innerSeconds), ...spec.command],
    Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
    WorkingDir: '/work',
    // Always the image's unprivileged sandbox user: a spec has no way to name another.
    User: `${SANDBOX_UID}:${SANDBOX_GID}`,
    Labels: labels,
    Hostname: 'sandbox',
    NetworkDisabled: true,
    AttachStdin: hasStdin,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: hasStdin,
    StdinOnce: hasStdin,
    Tty: false,
    StopTimeout: 1,
    HostConfig: {
      NetworkMode: 'none',
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': `rw,nosuid,nodev,size=${spec.tmpfsBytes ?? DEFAULT_TMPFS_BYTES},mode=1777` },
      Mounts: dirs.volumeMounts ?? [
        { Type: 'bind', Source: workDir, Target: '/work', ReadOnly: spec.workReadOnly === true },
        ...(depsDir === undefined ? [] : [{ Type: 'bind' as const, Source: depsDir, Target: '/work/node_modules', ReadOnly: true }]),
        ...dirs.mounts.map((mount) => ({ Type: 'bind' as const, Source: mount.source, Target: mount.target, ReadOnly: true })),
      ],
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      // 'none' gives a private IPC namespace without a writable /dev/shm: /work and /tmp stay the only writable places.
      IpcMode: 'none',
      CgroupnsMode: 'private',
      PidsLimit: spec.pids,
      Memory: spec.memoryBytes,
      MemorySwap: spec.memoryBytes,
      NanoCpus: spec.nanoCpus,
      Ulimits: [
        { Name: 'nofile', Soft: NOFILE_LIMIT, Hard: NOFILE_LIMIT },
        { Name: 'core', Soft: 0, Hard: 0 },
      ],
      // An init process reaps zombies and forwards the kill to the whole process tree.
      Init: true,
      AutoRemove: false,
      // Output reaches the driver over attach only; nothing accumulates in engine log files.
      LogConfig: { Type: 'none', Config: {} },
    },
  } as Docker.ContainerCreateOptions;
}

export interface DockerSandboxDriverOptions {
  readonly docker?: Docker;
  readonly logger?: Logger;
  /**
   * `bind` mounts host folders (the engine shares this machine's files); `volume` copies them into
   * Docker volumes over the engine API and copies /work back after each container. Defaults to what
   * the engine's address implies (`mountModeOf`).
   */
  readonly mountMode?: MountMode;
  /** Volume mode: labels put on every volume and helper container the driver creates. */
  readonly volumeLabels?: Readonly<Record<string, string>>;
  /** Volume mode: bounds of what a container may hand back under /work. */
  readonly copyBackLimits?: ExtractLimits;
}

/** Runs commands in hardened Docker containers: no network, read-only root, no capabilities, bounded resources. */
export class DockerSandboxDriver implements SandboxDriver {
  private readonly docker: Docker;
  private readonly logger: Logger;
  /** Whether containers get bind mounts or volumes filled over the engine API. */
  readonly mountMode: MountMode;
  private readonly volumes: VolumeMounts | undefined;

  constructor(options: DockerSandboxDriverOptions = {}) {
    this.docker = options.docker ?? connectDocker();
    this.logger = options.logger ?? createLogger({ name: 'sandbox' });
    this.mountMode = options.mountMode ?? mountModeOf(this.docker);
    this.volumes =
      this.mountMode === 'volume'
        ? new VolumeMounts({
            docker: this.docker,
            sandboxLabel: SANDBOX_LABEL,
            ...(options.volumeLabels === undefined ? {} : { labels: options.volumeLabels }),
            ...(options.copyBackLimits === undefined ? {} : { copyBackLimits: options.copyBackLimits }),
          })
        : undefined;
  }

  /** Volume mode: the volumes standing in for the spec's host folders; bind mode: undefined. */
  private async stageVolumes(spec: StartSpec, workDir: string, depsDir: string | undefined, mounts: readonly ReadOnlyMount[]): Promise<StagedVolumes | undefined> {
    if (this.volumes === undefined) return undefined;
    try {
      return await this.volumes.stage({ image: spec.image, workDir, workReadOnly: spec.workReadOnly === true, depsDir, mounts, labels: spec.labels ?? {} });
    } catch (error) {
      if (error instanceof TracemendError) throw error;
      throw this.engineError(error, 'Uploading the sandbox folders into engine volumes failed');
    }
  }

  async run(spec: RunSpec, options: RunOptions = {}): Promise<RunResult> {
    assertSpec(spec);
    const { signal } = options;
    if (signal?.aborted) throw abortReason(signal);
    const workDir = await hostDirectory(spec.workDir, 'workDir');
    const depsDir = spec.depsDir === undefined ? undefined : await hostDirectory(spec.depsDir, 'depsDir');
    const hasStdin = spec.stdin !== undefined;
    const innerSeconds = Math.ceil((spec.timeoutMs + INNER_TIMEOUT_GRACE_MS) / 1000);
    const mounts = await resolveMounts(spec.readOnlyMounts);
    const staged = await this.stageVolumes(spec, workDir, depsDir, mounts);

    let container: Docker.Container;
    try {
      container = await this.docker.createContainer(
        containerOptions(spec, { workDir, depsDir, mounts, stdin: hasStdin ? 'once' : 'none', ...(staged === undefined ? {} : { volumeMounts: staged.mounts }) }),
      );
    } catch (error) {
      await staged?.release();
      throw this.engineError(error, `Creating a sandbox container from ${spec.image} failed`);
    }

    const log = this.logger.child({ containerId: container.id.slice(0, 12), incidentId: spec.labels?.['tracemend.incident'] });
    let timedOut = false;
    let aborted = false;
    let timer: NodeJS.Timeout | undefined;
    const kill = (): void => {
      container.kill({ signal: 'SIGKILL' }).catch((error: unknown) => {
        // 404: already removed; 409: not running any more.
        if (statusCodeOf(error) !== 404 && statusCodeOf(error) !== 409) log.warn({ err: error }, 'killing the sandbox container failed');
      });
    };
    const onAbort = (): void => {
      aborted = true;
      kill();
    };

    try {
      await staged?.upload(container);
      const stdout = new BoundedSink(spec.outputLimitBytes ?? DEFAULT_OUTPUT_LIMIT_BYTES);
      const stderr = new BoundedSink(spec.outputLimitBytes ?? DEFAULT_OUTPUT_LIMIT_BYTES);
      const stream = await container.attach({ stream: true, stdout: true, stderr: true, stdin: hasStdin, hijack: hasStdin });
      const streamDone = new Promise<void>((resolve) => {
        stream.once('end', resolve);
        stream.once('close', resolve);
        // `on`, not `once`: a second error (a write after the first failed) must find a listener too.
        stream.on('error', () => resolve());
      });
      this.docker.modem.demuxStream(stream, stdout, stderr);

      signal?.addEventListener('abort', onAbort, { once: true });
      const started = Date.now();
      await container.start();
      timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, spec.timeoutMs);
      if (signal?.aborted) onAbort();
      const stdinWritten = hasStdin ? endStream(stream, spec.stdin) : Promise.resolve(undefined);
      log.debug({ image: spec.image, timeoutMs: spec.timeoutMs }, 'sandbox run started');

      const exit = (await container.wait()) as { StatusCode: number };
      const durationMs = Date.now() - started;
      clearTimeout(timer);
      await Promise.race([streamDone, new Promise((resolve) => setTimeout(resolve, OUTPUT_DRAIN_MS).unref())]);
      const stdinError = await Promise.race([stdinWritten, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), OUTPUT_DRAIN_MS).unref())]);
      if (aborted && signal) throw abortReason(signal);

      const state = (await container.inspect()).State;
      const exitCode = exit.StatusCode;
      const oomKilled = state.OOMKilled;
      // The in-container timeout kills with SIGKILL too; only its duration tells it apart from other kills.
      if (!oomKilled && exitCode === 137 && durationMs >= innerSeconds * 1000) timedOut = true;
      const result: RunResult = {
        exitCode,
        stdout: stdout.text(),
        stderr: stderr.text(),
        stdoutTruncated: stdout.truncated,
        stderrTruncated: stderr.truncated,
        timedOut,
        oomKilled,
        durationMs,
        ...(stdinError === undefined ? {} : { stdinError }),
      };
      log.debug({ exitCode, timedOut, oomKilled, durationMs, ...(stdinError === undefined ? {} : { stdinError }) }, 'sandbox run finished');
      const copied = await staged?.copyBack();
      if (copied !== undefined) log.debug({ written: copied.written.length, bytes: copied.bytes }, 'copied /work back from the engine');
      return result;
    } catch (error) {
      if (aborted && signal) throw abortReason(signal);
      if (error instanceof TracemendError) throw error;
      throw this.engineError(error, 'The sandbox run failed in the container engine');
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      await container.remove({ force: true, v: true }).catch((error: unknown) => {
        if (statusCodeOf(error) !== 404) log.warn({ err: error }, 'removing the sandbox container failed');
      });
      await staged?.release().catch((error: unknown) => log.warn({ err: error }, 'removing the sandbox work volume failed'));
    }
  }

  /**
   * Starts one long-lived process in a fresh hardened container (the same container definition as
   * `run`) with stdin kept open; the caller streams to it and must `kill()` it when done. The spec's
   * `timeoutMs` bounds the container's whole life.
   */
  async start(spec: StartSpec, options: RunOptions = {}): Promise<SandboxProcess> {
    assertSpec(spec);
    const { signal } = options;
    if (signal?.aborted) throw abortReason(signal);
    const workDir = await hostDirectory(spec.workDir, 'workDir');
    const depsDir = spec.depsDir === undefined ? undefined : await hostDirectory(spec.depsDir, 'depsDir');
    const mounts = await resolveMounts(spec.readOnlyMounts);
    const staged = await this.stageVolumes(spec, workDir, depsDir, mounts);
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer(
        containerOptions(spec, { workDir, depsDir, mounts, stdin: 'stream', ...(staged === undefined ? {} : { volumeMounts: staged.mounts }) }),
      );
    } catch (error) {
      await staged?.release();
      throw this.engineError(error, `Creating a sandbox container from ${spec.image} failed`);
    }
    const log = this.logger.child({ containerId: container.id.slice(0, 12), incidentId: spec.labels?.['tracemend.incident'] });
    let timedOut = false;
    let killed: Promise<void> | undefined;
    const remove = async (): Promise<void> => {
      await container.remove({ force: true, v: true }).catch((error: unknown) => {
        if (statusCodeOf(error) !== 404) log.warn({ err: error }, 'removing the sandbox container failed');
      });
      await staged?.release().catch((error: unknown) => log.warn({ err: error }, 'removing the sandbox work volume failed'));
    };
    try {
      await staged?.upload(container);
      const stream = await container.attach({ stream: true, stdout: true, stderr: true, stdin: true, hijack: true });
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      this.docker.modem.demuxStream(stream, stdout, stderr);
      const ended = (): void => {
        stdout.end();
        stderr.end();
      };
      stream.once('end', ended);
      stream.once('close', ended);
      // The caller writes jobs to this stream; a write after the harness died errors here, maybe twice.
      stream.on('error', ended);
      await container.start();
      const timer = setTimeout(() => {
        timedOut = true;
        void kill();
      }, spec.timeoutMs);
      timer.unref();
      const exited = container.wait().then(
        async (exit: { StatusCode: number }) => {
          clearTimeout(timer);
          const state = await container.inspect().then(
            (info) => info.State,
            () => undefined,
          );
          return { exitCode: exit.StatusCode, timedOut, oomKilled: state?.OOMKilled ?? false };
        },
        (error: unknown) => {
          clearTimeout(timer);
          throw this.engineError(error, 'Waiting for the sandbox container failed');
        },
      );
      exited.catch(() => undefined);
      const kill = (): Promise<void> => {
        killed ??= (async () => {
          clearTimeout(timer);
          await container.kill({ signal: 'SIGKILL' }).catch((error: unknown) => {
            if (statusCodeOf(error) !== 404 && statusCodeOf(error) !== 409) log.warn({ err: error }, 'killing the sandbox container failed');
          });
          await exited.catch(() => undefined);
          // kill() is often not awaited: a refused archive is logged, never thrown from here.
          await staged?.copyBack().catch((error: unknown) => log.error({ err: error }, 'copying /work back from the engine was refused'));
          await remove();
        })();
        return killed;
      };
      if (signal !== undefined) {
        const onAbort = (): void => void kill();
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
        void exited.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => undefined);
      }
      log.debug({ image: spec.image, timeoutMs: spec.timeoutMs }, 'resident sandbox started');
      return { containerId: container.id, stdin: stream, stdout, stderr, exited, kill };
    } catch (error) {
      await remove();
      if (error instanceof TracemendError) throw error;
      throw this.engineError(error, 'Starting the sandbox container failed');
    }
  }

  async reapOrphans(options: ReapOptions = {}): Promise<string[]> {
    return reapOrphans({ ...options, docker: this.docker });
  }

  private engineError(error: unknown, message: string): TracemendError {
    if (statusCodeOf(error) === 404) {
      return new TracemendError('SANDBOX_UNAVAILABLE', `${message}: image not present (build it with the sandbox build-image script)`, {
        cause: error,
      });
    }
    const detail = error instanceof Error ? error.message : String(error);
    if (isEngineUnreachable(error)) {
      return new TracemendError('SANDBOX_UNAVAILABLE', `${message}: the Docker engine did not answer (${detail})`, { cause: error });
    }
    return new TracemendError('INTERNAL', `${message}: ${detail}`, { cause: error });
  }
}

/** Removes tracemend sandbox containers (running or not) left behind by crashed runs; returns their ids. */
export async function reapOrphans(options: ReapOptions & { readonly docker?: Docker } = {}): Promise<string[]> {
  const docker = options.docker ?? connectDocker();
  const olderThanMs = options.olderThanMs ?? DEFAULT_REAP_AGE_MS;
  const labelFilters = [`${SANDBOX_LABEL}=1`, ...Object.entries(options.labels ?? {}).map(([key, value]) => `${key}=${value}`)];
  const containers = await docker.listContainers({ all: true, filters: { label: labelFilters } });
  const cutoffSeconds = (Date.now() - olderThanMs) / 1000;
  const removed: string[] = [];
  for (const info of containers) {
    if (info.Created > cutoffSeconds) continue;
    try {
      await docker.getContainer(info.Id).remove({ force: true, v: true });
      removed.push(info.Id);
    } catch (error) {
      if (statusCodeOf(error) !== 404) throw error;
    }
  }
  // Volume mode leaves volumes behind a crash too; ones still mounted by a live container are kept.
  await reapVolumes(docker, labelFilters, olderThanMs);
  return removed;
}
