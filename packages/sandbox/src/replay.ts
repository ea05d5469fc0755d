import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { TracemendError, type DownstreamCall, type Entry, type FeatureFlagsConfig, type RepoTarget } from '@tracemend/contracts';
import { createLogger, type Logger } from '@tracemend/telemetry';
import { DEFAULT_RUN_LIMITS, nodeHeapExhausted, type ReadOnlyMount, type SandboxDriver, type SandboxProcess, type StartSpec } from './driver';
import { resolveTypeScriptLoader } from './loader';
import { PREPARED_JS_ROOT, type PreparedJsTree } from './prepared-js';
import { flagEnvironment } from './flags';
import { invocationOf } from './invocation';
import { ensureDependencyMountPoint } from './shared-checkout';

/** The in-container harness files (plain ESM, Node builtins only), mounted read-only at /harness. */
export const HARNESS_DIR = fileURLToPath(new URL('../harness/', import.meta.url));

/** How the harness loads the repository's TypeScript: a loader per process, or a tree compiled once. */
export type HarnessLoader = 'repository' | 'tracemend' | 'prepared';

/** The harness process as a container command, with the read-only mounts it needs. */
export interface HarnessLaunch {
  readonly command: readonly string[];
  readonly readOnlyMounts: readonly ReadOnlyMount[];
  /** `prepared`: plain `node` on a `prepareJsTree` tree; otherwise where the tsx loader came from. */
  readonly loader: HarnessLoader;
}

/**
 * The command that runs the replay harness, shared by the resident harness and anything that execs it
 * into a sandbox. With a prepared tree the harness runs on plain `node` (no loader: a few hundred
 * milliseconds less per process); without, tsx transforms the TypeScript as it loads.
 */
export async function harnessLaunch(options: { readonly depsDir?: string | undefined; readonly preparedJs?: PreparedJsTree | undefined }): Promise<HarnessLaunch> {
  const harnessMount = { source: HARNESS_DIR, target: '/harness' };
  if (options.preparedJs !== undefined) {
    return {
      command: ['node', '--enable-source-maps', '/harness/replay.mjs', `--prepared=${PREPARED_JS_ROOT}`],
      readOnlyMounts: [harnessMount, options.preparedJs.mount],
      loader: 'prepared',
    };
  }
  const loader = await resolveTypeScriptLoader(options.depsDir);
  return {
    command: ['node', '--enable-source-maps', '--import', loader.importSpecifier, '/harness/replay.mjs'],
    readOnlyMounts: [harnessMount, ...loader.mounts],
    loader: loader.source,
  };
}

/** Prefix of every harness line on stdout; everything else there is the service's own output. */
export const RESULT_MARKER = '\u001eTRACEMEND\u001e';

/** Where the HTTP app of a service is built: `module` (repo-relative) exports a factory of the app, `args` its arguments. */
export type HttpApp = NonNullable<RepoTarget['httpApp']>;

/**
 * One replay: what to drive, under which environment, time, randomness and recorded downstream calls.
 * A function or message entry names its module (`resolveEntry` fills it from the catalog when telemetry could not).
 */
export interface ReplayJob {
  readonly id: string;
  readonly entry: Entry;
  readonly httpApp?: HttpApp;
  readonly environment: {
    readonly featureFlags: Readonly<Record<string, boolean | string | number>>;
    readonly env: Readonly<Record<string, string>>;
    readonly locale?: string;
    readonly timezone?: string;
  };
  readonly timing: { readonly recordedAt: string; readonly randomSeed?: number };
  readonly downstream: readonly DownstreamCall[];
  /** Where the service reads its feature flags (the catalog's `featureFlags`); `flagEnvironment` applies it. */
  readonly flags?: FeatureFlagsConfig;
  /** Also collect V8 precise coverage of the repository's scripts. */
  readonly coverage?: boolean;
  /**
   * The limit the harness enforces inside the container: past it the harness reports a timeout and
   * kills itself, even when no host is left to do so. Defaults to the `judge` timeout.
   */
  readonly timeoutMs?: number;
}

/**
 * The stdin line the harness reads for a job. The call (argument list, Lambda event and context, kafkajs
 * payload) is built here from the entry, so a job whose entry a minimizer replaced is called as it now reads.
 */
export function harnessJobLine(job: ReplayJob): string {
  const invocation = job.entry.kind === 'http' ? {} : { invocation: invocationOf(job.entry) };
  const { flags, ...rest } = job;
  const environment = { ...job.environment, env: flagEnvironment(job.environment, flags) };
  return `${JSON.stringify({ ...rest, environment, ...invocation })}\n`;
}

const HarnessFrame = z.object({
  function: z.string(),
  file: z.string(),
  line: z.number().int(),
  column: z.number().int(),
  inApp: z.boolean(),
});

/** The failure a replay observed: the error's type (its name), message and source-mapped frames. */
export const ObservedError = z.object({ type: z.string(), message: z.string(), frames: z.array(HarnessFrame) });
export type ObservedError = z.infer<typeof ObservedError>;

/**
 * V8 precise coverage of one repository script; `source` is the generated JavaScript with its inline
 * source map (tsx's, or the prepared tree's), `file` the repo-relative TypeScript path either way, and
 * `original` that file's text when it differs from `source` (the map's `sourcesContent` may be empty).
 */
export const ScriptCoverage = z.object({
  file: z.string(),
  url: z.string(),
  scriptId: z.string(),
  functions: z.array(
    z.object({
      functionName: z.string(),
      isBlockCoverage: z.boolean(),
      ranges: z.array(z.object({ startOffset: z.number().int(), endOffset: z.number().int(), count: z.number().int() })),
    }),
  ),
  source: z.string().optional(),
  original: z.string().optional(),
  sourceOmitted: z.string().optional(),
});
export type ScriptCoverage = z.infer<typeof ScriptCoverage>;

const JudgedResult = z.object({
  id: z.string(),
  outcome: z.enum(['threw', 'returned', 'http']),
  httpStatus: z.number().int().optional(),
  /** The response body (first 16 KiB) of an http entry. */
  httpBody: z.string().optional(),
  /** What a function or message entry returned, when JSON and at most 16 KiB. */
  value: z.unknown().optional(),
  valueOmitted: z.enum(['not-json', 'too-large']).optional(),
  error: ObservedError.optional(),
  unrecordedCalls: z.array(z.string()),
  appExceptions: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
  coverage: z.array(ScriptCoverage).optional(),
});
const HarnessErrorResult = z.object({
  id: z.string().nullable(),
  outcome: z.literal('harness-error'),
  message: z.string(),
  durationMs: z.number().nonnegative().optional(),
});
/** The harness's watchdog ended a job that ran past its limit; the process is gone right after. */
const TimeoutMessage = z.object({ id: z.string().nullable(), outcome: z.literal('timeout'), timeoutMs: z.number().nonnegative() });
const ReadyMessage = z.object({ ready: z.literal(true), node: z.string() });
const HarnessMessage = z.union([ReadyMessage, JudgedResult, HarnessErrorResult, TimeoutMessage]);

/** What the harness answered for one job. */
export type ReplayResult = z.infer<typeof JudgedResult> | (z.infer<typeof HarnessErrorResult> & { id: string });

export interface ResidentHarnessOptions {
  readonly driver: SandboxDriver;
  readonly image: string;
  /** Host checkout mounted read-only at /work; must be readable by uid 10001. Scratch space is the container's /tmp. */
  readonly repoDir: string;
  /** Host dependency directory from `installDependencies`, mounted read-only at /work/node_modules. */
  readonly depsDir?: string;
  /**
   * The checkout compiled by `prepareJsTree`: the harness then runs on plain `node`, without a
   * TypeScript loader. Without it, tsx loads the TypeScript in the container.
   */
  readonly preparedJs?: PreparedJsTree;
  /**
   * Per-job limit, defaults to 30 s. The harness enforces it inside the container (it reports the
   * timeout and exits); the host kills the container 2 s later if the harness did not.
   * Either way `judge` rejects with SANDBOX_TIMEOUT and the harness is no longer usable.
   */
  readonly jobTimeoutMs?: number;
  /** Limit for the harness to load and report ready. Defaults to 60 s. */
  readonly startTimeoutMs?: number;
  /** Limits of the container; `timeoutMs` bounds its whole life (default 30 minutes). */
  readonly limits?: Partial<Pick<StartSpec, 'timeoutMs' | 'memoryBytes' | 'pids' | 'nanoCpus' | 'tmpfsBytes'>>;
  readonly labels?: Readonly<Record<string, string>>;
  readonly logger?: Logger;
  /**
   * Cancels the harness: aborting kills and removes its container at once, and a pending `judge`
   * (or `start` itself) rejects with the signal's reason.
   */
  readonly signal?: AbortSignal;
}

const DEFAULT_JOB_TIMEOUT_MS = 30_000;
/** How much longer than the in-container limit the host waits, so the harness's own report normally arrives first. */
const HOST_GRACE_MS = 2_000;
const DEFAULT_START_TIMEOUT_MS = 60_000;
const DEFAULT_LIFETIME_MS = 30 * 60 * 1000;
const OUTPUT_TAIL_BYTES = 8 * 1024;
const MAX_LINE_BYTES = 64 * 1024 * 1024;

interface Pending {
  readonly id: string;
  readonly resolve: (result: ReplayResult) => void;
  readonly reject: (error: Error) => void;
}

/**
 * One hardened container running the replay harness, judging jobs one after another over its
 * stdin/stdout, so a minimizer pays one container start for hundreds of candidates.
 */
export class ResidentHarness {
  private readonly sourceCache = new Map<string, { source: string; original?: string }>();
  private buffer = '';
  private outputTail = '';
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private failure: Error | undefined;
  private readyWaiter: { resolve: () => void; reject: (error: Error) => void } | undefined;

  private constructor(
    private readonly child: SandboxProcess,
    private jobTimeoutMs: number,
    private readonly logger: Logger,
    /** How TypeScript is loaded: the repository's own tsx, tracemend's, or a prepared JavaScript tree. */
    readonly loader: HarnessLoader,
  ) {}

  /** Starts the container and waits until the harness has loaded. */
  static async start(options: ResidentHarnessOptions): Promise<ResidentHarness> {
    const logger = options.logger ?? createLogger({ name: 'sandbox-harness' });
    const launch = await harnessLaunch(options);
    // The checkout is shared by every incident on its commit: the harness only reads it.
    if (options.depsDir !== undefined) await ensureDependencyMountPoint(options.repoDir);
    const spec: StartSpec = {
      image: options.image,
      workDir: options.repoDir,
      workReadOnly: true,
      ...(options.depsDir === undefined ? {} : { depsDir: options.depsDir }),
      command: launch.command,
      env: {},
      ...DEFAULT_RUN_LIMITS,
      timeoutMs: DEFAULT_LIFETIME_MS,
      ...options.limits,
      ...(options.labels === undefined ? {} : { labels: options.labels }),
      readOnlyMounts: launch.readOnlyMounts,
    };
    const { signal } = options;
    const child = await options.driver.start(spec, signal === undefined ? {} : { signal });
    const harness = new ResidentHarness(child, options.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS, logger, launch.loader);
    harness.failOnAbort(signal);
    try {
      await harness.waitReady(options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
    } catch (error) {
      // The caller never gets this harness to close: the container is removed before the error returns.
      await child.kill();
      throw error;
    }
    return harness;
  }

  /** False once the container has stopped or a job failed it; such a harness judges nothing more. */
  get usable(): boolean {
    return this.failure === undefined;
  }

  /** The container this harness runs in. */
  get containerId(): string {
    return this.child.containerId;
  }

  /**
   * Ties an already started harness (one taken from a warm pool) to a signal: aborting kills and
   * removes its container and rejects the pending and later jobs with the signal's reason.
   */
  cancelOn(signal: AbortSignal): void {
    this.failOnAbort(signal, () => void this.child.kill());
  }

  /** The driver kills the container on abort; this makes the waiting caller see the abort reason, not the exit. */
  private failOnAbort(signal: AbortSignal | undefined, alsoOnAbort?: () => void): void {
    if (signal === undefined) return;
    const onAbort = (): void => {
      this.fail(signal.reason instanceof Error ? signal.reason : new DOMException('The replay harness was aborted', 'AbortError'));
      alsoOnAbort?.();
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    void this.child.exited.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => undefined);
  }

  /**
   * Sets the limit of later jobs that name none: a harness taken from a warm pool was started before
   * its caller's options were known and takes the caller's limit this way.
   */
  useJobTimeout(timeoutMs: number): void {
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new TracemendError('INVALID_INPUT', `jobTimeoutMs must be a positive integer, got ${timeoutMs}`);
    this.jobTimeoutMs = timeoutMs;
  }

  /** Sends one job and resolves with the harness's result for it; jobs run one at a time, in call order. */
  judge(job: ReplayJob, options: { timeoutMs?: number } = {}): Promise<ReplayResult> {
    const run = this.queue.then(() => this.send(job, options.timeoutMs ?? this.jobTimeoutMs));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Closes stdin, lets the harness exit and removes the container. */
  async close(): Promise<void> {
    this.failure ??= new TracemendError('INTERNAL', 'the resident harness is closed');
    this.child.stdin.end();
    await Promise.race([this.child.exited.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
    await this.child.kill();
  }

  private waitReady(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        void this.child.kill();
        reject(new TracemendError('SANDBOX_TIMEOUT', `the replay harness did not start within ${timeoutMs} ms: ${this.outputTail.slice(-2_000)}`));
      }, timeoutMs);
      this.readyWaiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.child.stdout.setEncoding('utf8');
      this.child.stdout.on('data', (chunk: string) => this.onStdout(chunk));
      this.child.stderr.setEncoding('utf8');
      this.child.stderr.on('data', (chunk: string) => this.keepTail(chunk));
      // Whatever ends the process, its container goes at once: a harness that died on its own
      // (before it was ready, or mid-job) may have no owner left to close it.
      void this.child.exited
        .then(
          ({ exitCode, timedOut, oomKilled }) => this.exitError(exitCode, timedOut, oomKilled),
          (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
        )
        .then((error) => {
          this.fail(error);
          void this.child.kill();
        });
      if (this.failure) this.fail(this.failure);
    });
  }

  private exitError(exitCode: number, timedOut: boolean, oomKilled: boolean): TracemendError {
    if (oomKilled) return new TracemendError('SANDBOX_RESOURCE_LIMIT', `the replay harness ran out of memory: the container's memory limit killed it (exit ${exitCode})`, { details: { exitCode } });
    if (nodeHeapExhausted(this.outputTail)) {
      return new TracemendError('SANDBOX_RESOURCE_LIMIT', `the replay harness ran out of memory: V8 stopped it at its heap limit (exit ${exitCode})`, { details: { exitCode } });
    }
    if (timedOut) return new TracemendError('SANDBOX_TIMEOUT', 'the resident harness container reached its lifetime limit');
    return new TracemendError('INTERNAL', `the replay harness exited with code ${exitCode}: ${this.outputTail.slice(-2_000).trim()}`, { details: { exitCode } });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.readyWaiter?.reject(this.failure);
    this.readyWaiter = undefined;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(this.failure);
  }

  private keepTail(text: string): void {
    this.outputTail = (this.outputTail + text).slice(-OUTPUT_TAIL_BYTES);
  }

  private onStdout(chunk: string): void {
    this.buffer += chunk;
    if (this.buffer.length > MAX_LINE_BYTES) {
      this.fail(new TracemendError('SANDBOX_RESOURCE_LIMIT', 'the replay harness wrote an oversized line'));
      void this.child.kill();
      return;
    }
    let newline = this.buffer.indexOf('\n');
    while (newline >= 0) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      this.onLine(line);
      newline = this.buffer.indexOf('\n');
    }
  }

  private onLine(line: string): void {
    if (!line.startsWith(RESULT_MARKER)) {
      if (line !== '') this.keepTail(`${line}\n`);
      return;
    }
    let message: z.infer<typeof HarnessMessage>;
    try {
      message = HarnessMessage.parse(JSON.parse(line.slice(RESULT_MARKER.length)));
    } catch (error) {
      this.logger.warn({ err: error }, 'unreadable harness line');
      return;
    }
    if ('ready' in message) {
      this.readyWaiter?.resolve();
      this.readyWaiter = undefined;
      return;
    }
    if (message.outcome === 'timeout') {
      const jobId = message.id ?? this.pending?.id ?? null;
      this.fail(new TracemendError('SANDBOX_TIMEOUT', `replay job ${jobId} did not finish within ${message.timeoutMs} ms; the harness ended it inside the container`, { details: { jobId } }));
      void this.child.kill();
      return;
    }
    const pending = this.pending;
    if (pending === undefined || (message.id !== null && message.id !== pending.id)) {
      this.logger.warn({ id: message.id }, 'harness result for no pending job');
      return;
    }
    this.pending = undefined;
    if (message.outcome === 'harness-error') {
      pending.resolve({ ...message, id: pending.id });
      return;
    }
    pending.resolve(this.withSources(message));
  }

  /** The harness sends a script's source once per container; later results get it from the cache. */
  private withSources(result: z.infer<typeof JudgedResult>): ReplayResult {
    if (result.coverage === undefined) return result;
    const coverage = result.coverage.map((script) => {
      if (script.source !== undefined) {
        this.sourceCache.set(script.url, { source: script.source, ...(script.original === undefined ? {} : { original: script.original }) });
        return script;
      }
      const cached = this.sourceCache.get(script.url);
      return cached === undefined ? script : { ...script, ...cached };
    });
    return { ...result, coverage };
  }

  private send(job: ReplayJob, timeoutMs: number): Promise<ReplayResult> {
    if (this.failure) return Promise.reject(this.failure);
    const containerLimitMs = job.timeoutMs ?? timeoutMs;
    if (!Number.isSafeInteger(containerLimitMs) || containerLimitMs <= 0) {
      return Promise.reject(new TracemendError('INVALID_INPUT', `replay job ${job.id}: timeoutMs must be a positive integer, got ${containerLimitMs}`));
    }
    return new Promise<ReplayResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new TracemendError('SANDBOX_TIMEOUT', `replay job ${job.id} did not finish within ${timeoutMs} ms; the container was killed`, { details: { jobId: job.id } }));
        void this.child.kill();
      }, Math.max(timeoutMs, containerLimitMs) + HOST_GRACE_MS);
      this.pending = {
        id: job.id,
        resolve: (result) => {
          clearTimeout(timer);
          resolve(result);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      // A harness that died closes its end: the write fails, and that failure is this job's answer.
      this.child.stdin.write(harnessJobLine({ ...job, timeoutMs: containerLimitMs }), (error) => {
        if (error) this.fail(new TracemendError('INTERNAL', `replay job ${job.id} could not be sent to the harness: ${error.message}; ${this.outputTail.slice(-1_000)}`, { cause: error }));
      });
    });
  }
}
