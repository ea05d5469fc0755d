// One way to run a child process with some input and collect what it prints. A child that exits
// before reading its input makes the write fail (EPIPE); that, a missing binary, a timeout and an
// abort all become the result or the rejection of the call, never an uncaught stream error.
import { spawn } from 'node:child_process';

/** A numeric user and group to run a child as (needs root). */
export interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

export interface RunCommandOptions {
  readonly cwd?: string;
  /** The child's whole environment; the caller's is inherited when left out. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Written to the child's standard input, which is then closed; without it stdin is closed at once. */
  readonly input?: string | Uint8Array;
  readonly user?: RunAs;
  /** Kill the child after this long (the result says `timedOut`). */
  readonly timeoutMs?: number;
  /** Aborting kills the child; the call rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Bytes kept of each of stdout and stderr, the end kept; 16 MiB by default. */
  readonly outputLimitBytes?: number;
  /**
   * Start the child in its own process group and kill the whole group on timeout or abort, for
   * tools (git, npm) that start helpers of their own.
   */
  readonly processGroup?: boolean;
}

/** How a child ended and what it printed. Exit codes are results, not errors. */
export interface CommandResult {
  /** The exit code, or null when a signal ended the child. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly timedOut: boolean;
  /**
   * Set when the input could not be written whole: the child closed its standard input first
   * (EPIPE) or the pipe failed otherwise. The child's exit still says what happened to it.
   */
  readonly inputError?: string;
}

/** What a finished child reports in one line: `git apply exited with code 1`, `… killed after 5000 ms`. */
export function describeExit(file: string, result: CommandResult, timeoutMs?: number): string {
  if (result.timedOut) return `${file} was killed after ${timeoutMs ?? '?'} ms`;
  if (result.code === null) return `${file} was killed by ${result.signal ?? 'a signal'}`;
  return `${file} exited with code ${result.code}`;
}

/** Keeps the last `limit` bytes written to it. */
class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}
  push = (chunk: Buffer): void => {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.limit && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
  };
  bytes(): Buffer {
    const all = Buffer.concat(this.chunks);
    return all.length > this.limit ? all.subarray(all.length - this.limit) : all;
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('The command was aborted', 'AbortError');
}

/** A writable stream as Node's streams and dockerode's attach streams both are. */
export type WritableEnd = NodeJS.WritableStream & { readonly destroyed?: boolean; readonly writableEnded?: boolean; readonly writableFinished?: boolean };

/**
 * Writes `data` to a stream the caller does not own and closes it. Resolves when written, or with the
 * error's text when the stream failed (a reader that went away): the failure is the caller's to
 * report, and the stream keeps an error listener so a late error cannot go uncaught.
 */
export function endStream(stream: WritableEnd, data?: string | Uint8Array): Promise<string | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (error?: Error | null): void => {
      if (settled) return;
      settled = true;
      resolve(error ? `${(error as NodeJS.ErrnoException).code ?? error.name}: ${error.message}` : undefined);
    };
    stream.on('error', done);
    if (stream.destroyed || stream.writableEnded) {
      done(stream.destroyed && !stream.writableFinished ? new Error('the stream was closed before the input was written') : null);
      return;
    }
    // Node calls the end callback with the error when the write failed; the typing says no argument.
    const onEnd = (error?: Error | null): void => done(error);
    stream.end(data ?? '', onEnd);
  });
}

/**
 * Runs `file` with `args` without a shell and resolves with its exit and output once it has ended
 * and its output is drained. Rejects only when the child cannot start (e.g. ENOENT) or on abort.
 */
export function runCommand(file: string, args: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  const limit = options.outputLimitBytes ?? 16 * 1024 * 1024;
  return new Promise<CommandResult>((resolve, reject) => {
    const child = spawn(file, [...args], {
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      env: options.env === undefined ? process.env : { ...options.env },
      ...(options.user === undefined ? {} : { uid: options.user.uid, gid: options.user.gid }),
      detached: options.processGroup === true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout = new Tail(limit);
    const stderr = new Tail(limit);
    child.stdout.on('data', stdout.push);
    child.stderr.on('data', stderr.push);
    // Output streams are ours to read; an error on them ends the reading, not the process.
    child.stdout.on('error', () => undefined);
    child.stderr.on('error', () => undefined);
    let inputError: string | undefined;
    const hasInput = options.input !== undefined && options.input.length > 0;
    // With nothing to write, a child that is gone before its stdin is closed lost nothing.
    const input = endStream(child.stdin, hasInput ? options.input : undefined).then((error) => {
      if (hasInput) inputError = error;
    });
    let timedOut = false;
    let aborted = false;
    const kill = (): void => {
      if (child.pid === undefined) return;
      try {
        if (options.processGroup === true) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const onAbort = (): void => {
      aborted = true;
      kill();
    };
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            kill();
          }, options.timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    child.once('error', (error) => {
      settle();
      reject(aborted && signal ? abortReason(signal) : error);
    });
    child.once('close', (code, killedBy) => {
      settle();
      // The group may still hold helpers that outlived the leader.
      if ((aborted || timedOut) && options.processGroup === true) kill();
      if (aborted && signal) {
        reject(abortReason(signal));
        return;
      }
      void input.then(() =>
        resolve({
          code,
          signal: killedBy,
          stdout: stdout.bytes(),
          stderr: stderr.bytes(),
          timedOut,
          ...(inputError === undefined ? {} : { inputError }),
        }),
      );
    });
  });
}
