// The compatibility suite's OpenTelemetry Collector: the Go program in test/collector (OTLP receiver,
// batch processor, otlphttp exporter), built with the Go toolchain from the module proxy once per
// version of its sources and cached, since a build takes minutes of CPU.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, constants, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const COLLECTOR_SOURCE_DIR = fileURLToPath(new URL('./collector/', import.meta.url));
const SOURCES = ['go.mod', 'go.sum', 'main.go'] as const;
const BUILD_TIMEOUT_MS = 40 * 60_000;

/** A Collector binary ready to start, and what it took to get it. */
export interface CollectorBinary {
  path: string;
  /** False when a binary built from the same sources was already cached. */
  built: boolean;
  buildMs: number;
}

/** The cache key: a hash of go.mod, go.sum and main.go. */
async function collectorSourceHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const name of SOURCES) hash.update(`${name}\0`).update(await readFile(join(COLLECTOR_SOURCE_DIR, name))).update('\0');
  return hash.digest('hex').slice(0, 16);
}

function cacheRoot(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tracemend');
}

async function executable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/**
 * The cached Collector binary for the current sources, built with `go build` when missing (GOFLAGS
 * gains -mod=mod; GOPROXY and the rest of the Go environment are the caller's). Rejects naming what
 * to install when Go is absent, and with the compiler's output when the build fails.
 */
export async function buildCollector(): Promise<CollectorBinary> {
  const dir = join(cacheRoot(), `otelcol-compat-${await collectorSourceHash()}`);
  const path = join(dir, 'otelcol-compat');
  if (await executable(path)) return { path, built: false, buildMs: 0 };
  await mkdir(dir, { recursive: true });
  // Built under a name of its own and renamed, so an interrupted or concurrent build never leaves a partial binary at `path`.
  const partial = `${path}.${process.pid}.partial`;
  const started = performance.now();
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(
        'go',
        // The binary is identified by its sources' hash, not by the checkout's commit: no VCS stamp.
        ['build', '-trimpath', '-buildvcs=false', '-o', partial, '.'],
        {
          cwd: COLLECTOR_SOURCE_DIR,
          env: { ...process.env, GOFLAGS: [process.env.GOFLAGS, '-mod=mod'].filter(Boolean).join(' ') },
          timeout: BUILD_TIMEOUT_MS,
          maxBuffer: 16 * 1024 * 1024,
        },
        (error, _stdout, stderr) => {
          if (!error) return resolve();
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
            return reject(new Error('building the OpenTelemetry Collector needs Go 1.26 or later on PATH (https://go.dev/dl/); or set TRACEMEND_OTELCOL_BIN to a built collector', { cause: error }));
          }
          reject(new Error(`go build of the OpenTelemetry Collector in ${COLLECTOR_SOURCE_DIR} failed (is the Go module proxy in GOPROXY reachable?):\n${stderr.slice(-4_000)}`, { cause: error }));
        },
      );
    });
    await rename(partial, path);
  } finally {
    await rm(partial, { force: true });
  }
  return { path, built: true, buildMs: Math.round(performance.now() - started) };
}
