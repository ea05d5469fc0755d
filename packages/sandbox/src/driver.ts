/** What to run in a sandbox and under which limits. */
export interface RunSpec {
  /** Image tag, e.g. `sandboxImageTag()`. */
  readonly image: string;
  /** Absolute host path mounted at /work (the working directory); read-write unless `workReadOnly`. */
  readonly workDir: string;
  /**
   * Mount /work read-only. For runs over a checkout that other runs share (the workspace's one
   * checkout per repository and commit), so no run can change what a later one sees; scratch space
   * is /tmp. With `depsDir`, the mount point `node_modules` must already exist in `workDir`.
   */
  readonly workReadOnly?: boolean;
  /** Absolute host path mounted read-only at /work/node_modules. */
  readonly depsDir?: string;
  /** argv of the process to run; no shell is involved. */
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Wall-clock limit; the container is killed when it passes. */
  readonly timeoutMs: number;
  /** Memory limit; swap is not granted on top of it. */
  readonly memoryBytes: number;
  /** Maximum number of processes and threads. */
  readonly pids: number;
  /** CPU quota in units of 1e-9 CPUs (1e9 = one CPU). */
  readonly nanoCpus: number;
  /** Extra container labels, e.g. `tracemend.incident`. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Written to the process's stdin, which is then closed. */
  readonly stdin?: string;
  /** Size of the /tmp tmpfs; defaults to 64 MiB. */
  readonly tmpfsBytes?: number;
  /** Bytes kept of each of stdout and stderr; defaults to 1 MiB. */
  readonly outputLimitBytes?: number;
  /**
   * Extra host directories mounted read-only (e.g. the replay harness at /harness). The driver refuses
   * the host root, anything under /proc, /sys, /dev, /run, /var/run and /etc, and sockets or devices.
   */
  readonly readOnlyMounts?: readonly ReadOnlyMount[];
}

/** A host directory mounted read-only into the sandbox. */
export interface ReadOnlyMount {
  /** Absolute host path; must be readable by the sandbox user. */
  readonly source: string;
  /** Absolute container path, outside /work. */
  readonly target: string;
  /**
   * Container paths (absolute, e.g. `/work`) that symbolic links in this tree may name: such links
   * resolve in the container, not on the host. Only for trees tracemend builds itself (the prepared
   * JavaScript tree links back into the checkout); when the engine gets the tree as a volume they are
   * uploaded as written instead of being refused as links out of the tree.
   */
  readonly containerLinks?: readonly string[];
}

/** What `start` needs: a run spec without one-shot stdin (the process's stdin stays open). */
export type StartSpec = Omit<RunSpec, 'stdin' | 'outputLimitBytes'>;

/** A running sandbox process with open stdio. */
export interface SandboxProcess {
  readonly containerId: string;
  /** The process's stdin; ending it closes the process's stdin. */
  readonly stdin: NodeJS.WritableStream;
  readonly stdout: NodeJS.ReadableStream;
  readonly stderr: NodeJS.ReadableStream;
  /** Settles when the container has stopped, with its exit code and whether the wall-clock limit killed it. */
  readonly exited: Promise<{ exitCode: number; timedOut: boolean; oomKilled: boolean }>;
  /** Kills the container (idempotent) and removes it once stopped. */
  kill(): Promise<void>;
}

/** What a sandboxed run produced. */
export interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutTruncated: boolean;
  readonly stderrTruncated: boolean;
  readonly timedOut: boolean;
  readonly oomKilled: boolean;
  readonly durationMs: number;
  /** Set when the spec's stdin could not be written whole (the process closed its input first). */
  readonly stdinError?: string;
}

export interface RunOptions {
  /**
   * Aborting kills and removes the container: `run` then rejects with the abort reason, a started
   * process's `exited` settles. The worker passes the activity's cancellation signal here.
   */
  readonly signal?: AbortSignal;
}

export interface ReapOptions {
  /** Only containers created at least this long ago; defaults to 15 minutes. */
  readonly olderThanMs?: number;
  /** Only containers that also carry these labels. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** Limits that suit a single test replay; callers override per run. */
export const DEFAULT_RUN_LIMITS = {
  timeoutMs: 60_000,
  memoryBytes: 512 * 1024 * 1024,
  pids: 256,
  nanoCpus: 1_000_000_000,
} as const satisfies Pick<RunSpec, 'timeoutMs' | 'memoryBytes' | 'pids' | 'nanoCpus'>;

/** The seam between stages and the container engine. */
export interface SandboxDriver {
  /** Runs one command in a fresh, hardened container and removes the container afterwards. */
  run(spec: RunSpec, options?: RunOptions): Promise<RunResult>;
  /** Starts one long-lived process with open stdio in a fresh, hardened container; aborting the signal kills it. */
  start(spec: StartSpec, options?: RunOptions): Promise<SandboxProcess>;
  /** Removes leftover tracemend sandbox containers; returns their ids. */
  reapOrphans(options?: ReapOptions): Promise<string[]>;
}

/** What Node prints on stderr when V8 stops the process at its own heap limit, before the container's memory limit. */
const V8_HEAP_EXHAUSTED = /JavaScript heap out of memory|FATAL ERROR: .*heap limit/;

/**
 * Whether a sandboxed Node process's output shows it died at V8's heap limit (exit 134, SIGABRT under
 * the container's init). Such a death is a memory limit like an OOM kill: callers report both as
 * SANDBOX_RESOURCE_LIMIT, never as an internal error.
 */
export function nodeHeapExhausted(output: string): boolean {
  return V8_HEAP_EXHAUSTED.test(output);
}
