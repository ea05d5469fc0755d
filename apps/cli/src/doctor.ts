import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES, TASK_QUEUES } from '@tracemend/contracts';
import type Docker from 'dockerode';
import type { CliConfig } from './env';
import { temporalCliPath } from '@tracemend/infra';
import { SHARED_FILESYSTEM_ENV, mountModeFor, usableEngineLocation, type EngineLocation } from '@tracemend/sandbox';
import { rootManifest, runCommand } from './local-stack';

export type CheckStatus = 'ok' | 'warn' | 'fail';

/** One line of `tracemend doctor`. */
export interface CheckResult {
  name: string;
  status: CheckStatus;
  /** Missing required parts make doctor exit non-zero; optional ones only warn. */
  required: boolean;
  detail: string;
  /** What to do about it; present unless the check passed. */
  fix?: string;
}

export interface DoctorDeps {
  config: CliConfig;
  root: string;
  docker: Docker;
  /** Milliseconds each network probe may take (default 5 s). */
  timeoutMs?: number;
}

const BOOTSTRAP_FIX = 'run `npm run bootstrap` from the repository root';

function compareVersions(a: string, b: string): number {
  const pa = a.replace(/^v/, '').split('.').map(Number);
  const pb = b.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] ?? String(error) : String(error);
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function checkNode(root: string): CheckResult {
  const wanted = rootManifest(root).engines?.node ?? '>=20.3';
  const minimum = wanted.replace(/^>=\s*/, '');
  const ok = compareVersions(process.versions.node, minimum) >= 0;
  return {
    name: 'node',
    status: ok ? 'ok' : 'fail',
    required: true,
    detail: `v${process.versions.node} (needs ${wanted})`,
    ...(ok ? {} : { fix: `install Node ${wanted}` }),
  };
}

async function checkPnpm(root: string): Promise<CheckResult> {
  const pinned = rootManifest(root).packageManager?.replace(/^pnpm@/, '') ?? 'unknown';
  const result = await runCommand('pnpm', ['--version'], { cwd: root });
  const version = result.stdout.trim();
  if (!result.ok) return { name: 'pnpm', status: 'fail', required: true, detail: result.error ?? 'pnpm --version failed', fix: BOOTSTRAP_FIX };
  const ok = version === pinned;
  return {
    name: 'pnpm',
    status: ok ? 'ok' : 'fail',
    required: true,
    detail: ok ? version : `${version}, but package.json pins ${pinned}`,
    ...(ok ? {} : { fix: BOOTSTRAP_FIX }),
  };
}

async function checkTemporalCli(root: string): Promise<CheckResult> {
  const cli = temporalCliPath(root);
  const result = await runCommand(cli, ['--version']);
  if (!result.ok) return { name: 'temporal CLI', status: 'fail', required: true, detail: result.error ?? 'temporal --version failed', fix: BOOTSTRAP_FIX };
  return { name: 'temporal CLI', status: 'ok', required: true, detail: result.stdout.trim().split('\n')[0] ?? '' };
}

async function checkTemporal(config: CliConfig, timeoutMs: number): Promise<CheckResult[]> {
  const name = 'temporal server';
  const fix = 'start it with `bash infra/temporal-dev.sh start` (or set TRACEMEND_TEMPORAL_ADDRESS)';
  let connection: Connection | undefined;
  try {
    connection = await withTimeout(Connection.connect({ address: config.temporalAddress, connectTimeout: timeoutMs }), timeoutMs, config.temporalAddress);
    const namespace = config.temporalNamespace;
    const attributes = await connection.operatorService.listSearchAttributes({ namespace });
    const registered = new Set(Object.keys(attributes.customAttributes ?? {}));
    const missing = Object.values(SEARCH_ATTRIBUTES)
      .map((attribute) => attribute.name)
      .filter((attribute) => !registered.has(attribute));
    const queue = await connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name: TASK_QUEUES.workflows } });
    const pollers = queue.pollers?.length ?? 0;
    return [
      { name, status: 'ok', required: true, detail: `${config.temporalAddress}, namespace ${namespace}, UI ${config.temporalUiUrl}` },
      missing.length === 0
        ? { name: 'search attributes', status: 'ok', required: true, detail: Object.values(SEARCH_ATTRIBUTES).map((a) => a.name).join(', ') }
        : {
            name: 'search attributes',
            status: 'fail',
            required: true,
            detail: `missing ${missing.join(', ')}`,
            fix: 'restart the dev server with `bash infra/temporal-dev.sh stop && bash infra/temporal-dev.sh start`, which registers them',
          },
      pollers > 0
        ? { name: 'worker', status: 'ok', required: false, detail: `${pollers} poller(s) on ${TASK_QUEUES.workflows}` }
        : {
            name: 'worker',
            status: 'warn',
            required: false,
            detail: `nobody polls ${TASK_QUEUES.workflows}`,
            fix: 'start one with `pnpm --filter @tracemend/worker start` (the demo starts it for you)',
          },
    ];
  } catch (error) {
    return [{ name, status: 'fail', required: true, detail: `${config.temporalAddress} unreachable: ${message(error)}`, fix }];
  } finally {
    await connection?.close();
  }
}

/** How the sandbox gives containers the host's folders on this engine, as doctor reports it. */
function mountModeDetail(location: EngineLocation): string {
  if (mountModeFor(location, { [SHARED_FILESYSTEM_ENV]: process.env[SHARED_FILESYSTEM_ENV] }) === 'volume') {
    return `mounts: volumes (${location.kind === 'remote' ? location.host : 'the engine'} does not share this machine's files: checkout, dependencies and harness are uploaded over the engine API and /work is copied back)`;
  }
  return location.kind === 'remote'
    ? `mounts: bind (${SHARED_FILESYSTEM_ENV}=1: ${location.host} mounts the state folder at the same path)`
    : 'mounts: bind (the engine runs on this machine)';
}

async function checkDocker(deps: DoctorDeps, timeoutMs: number): Promise<CheckResult[]> {
  const where = deps.config.dockerHost ?? 'the local socket';
  let location: EngineLocation;
  try {
    location = usableEngineLocation({ DOCKER_HOST: deps.config.dockerHost });
  } catch (error) {
    return [{ name: 'docker engine', status: 'fail', required: true, detail: message(error), fix: 'set DOCKER_HOST to unix:///path/to/docker.sock, tcp://host:port or ssh://user@host, or unset it' }];
  }
  let version: { Version?: string; ApiVersion?: string };
  try {
    version = await withTimeout(deps.docker.version(), timeoutMs, 'the Docker engine');
  } catch (error) {
    return [
      {
        name: 'docker engine',
        status: 'fail',
        required: true,
        detail: `not reachable at ${where}: ${message(error)}`,
        fix: `${BOOTSTRAP_FIX} (it installs docker.io and starts dockerd), or point DOCKER_HOST at an engine`,
      },
    ];
  }
  const engine: CheckResult = {
    name: 'docker engine',
    status: 'ok',
    required: true,
    detail: `${version.Version ?? '?'} (API ${version.ApiVersion ?? '?'}) at ${where}; ${mountModeDetail(location)}`,
  };
  try {
    const image = await withTimeout(deps.docker.getImage(deps.config.sandboxImage).inspect(), timeoutMs, 'the Docker engine');
    const hash = image.Config?.Labels?.['tracemend.content-hash'];
    const size = `${Math.round(image.Size / 1024 / 1024)} MiB`;
    return [engine, { name: 'sandbox image', status: 'ok', required: true, detail: `${deps.config.sandboxImage}${hash ? ` (${hash.slice(0, 12)})` : ''}, ${size}` }];
  } catch (error) {
    return [
      engine,
      {
        name: 'sandbox image',
        status: 'fail',
        required: true,
        detail: `${deps.config.sandboxImage} missing: ${message(error)}`,
        fix: `${BOOTSTRAP_FIX} (it builds the image offline), or set TRACEMEND_SANDBOX_IMAGE`,
      },
    ];
  }
}

async function probe(url: string, headers: Record<string, string>, timeoutMs: number): Promise<{ status: number } | { error: string }> {
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return { status: response.status };
  } catch (error) {
    return { error: message(error) };
  }
}

async function checkGitHub(config: CliConfig, timeoutMs: number): Promise<CheckResult> {
  if (config.github === undefined) {
    return {
      name: 'github target',
      status: 'warn',
      required: false,
      detail: 'none configured: a worker started this way ends incidents failed at the pr stage (`tracemend demo` starts the GitHub API emulator and points its worker at it)',
      fix: 'set TRACEMEND_GITHUB_API_URL and TRACEMEND_GITHUB_TOKEN',
    };
  }
  const { apiUrl, token } = config.github;
  const fix = 'check TRACEMEND_GITHUB_API_URL and TRACEMEND_GITHUB_TOKEN';
  if (token === undefined) return { name: 'github target', status: 'fail', required: true, detail: `${apiUrl} configured without a token`, fix };
  const answer = await probe(apiUrl.replace(/\/+$/, '') + '/user', { authorization: `Bearer ${token}`, accept: 'application/vnd.github+json' }, timeoutMs);
  if ('error' in answer) return { name: 'github target', status: 'fail', required: true, detail: `${apiUrl} unreachable: ${answer.error}`, fix };
  if (answer.status >= 400) return { name: 'github target', status: 'fail', required: true, detail: `${apiUrl} answered ${answer.status}`, fix };
  return { name: 'github target', status: 'ok', required: true, detail: `${apiUrl} (token accepted)` };
}

async function checkLlm(config: CliConfig, timeoutMs: number): Promise<CheckResult> {
  if (config.llm === undefined) {
    return { name: 'llm provider', status: 'ok', required: false, detail: 'templates only (set TRACEMEND_LLM_PROVIDER to add model candidates)' };
  }
  const { provider, baseUrl, apiKey } = config.llm;
  const fix = 'check TRACEMEND_LLM_BASE_URL and TRACEMEND_LLM_API_KEY; repair falls back to templates only';
  const base = baseUrl ?? (provider === 'anthropic' ? 'https://api.anthropic.com/v1' : undefined);
  if (base === undefined) return { name: 'llm provider', status: 'warn', required: false, detail: `${provider} without TRACEMEND_LLM_BASE_URL`, fix };
  const headers: Record<string, string> =
    provider === 'anthropic' ? { 'x-api-key': apiKey ?? '', 'anthropic-version': '2023-06-01' } : apiKey ? { authorization: `Bearer ${apiKey}` } : {};
  const answer = await probe(base.replace(/\/+$/, '') + '/models', headers, timeoutMs);
  if ('error' in answer) return { name: 'llm provider', status: 'warn', required: false, detail: `${provider} at ${base} unreachable: ${answer.error}`, fix };
  if (answer.status >= 400) return { name: 'llm provider', status: 'warn', required: false, detail: `${provider} at ${base} answered ${answer.status}`, fix };
  // The provider answers, but no stage asks a model yet: say so rather than imply it is in use.
  return { name: 'llm provider', status: 'warn', required: false, detail: `${provider} at ${base} answers, but repair does not use a model yet (templates only)` };
}

/** Checks everything tracemend needs on this machine, in the order an operator would fix it. */
export async function runDoctor(deps: DoctorDeps): Promise<CheckResult[]> {
  const timeoutMs = deps.timeoutMs ?? 5_000;
  const [pnpm, temporalCliResult, temporal, docker, github, llm] = await Promise.all([
    checkPnpm(deps.root),
    checkTemporalCli(deps.root),
    checkTemporal(deps.config, timeoutMs),
    checkDocker(deps, timeoutMs),
    checkGitHub(deps.config, timeoutMs),
    checkLlm(deps.config, timeoutMs),
  ]);
  return [checkNode(deps.root), pnpm, temporalCliResult, ...temporal, ...docker, github, llm];
}

/** True when every required check passed. */
export function doctorPassed(results: CheckResult[]): boolean {
  return results.every((result) => result.status !== 'fail' || !result.required);
}

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

/** One line per check: status, name, detail and, when something is wrong, the fix. */
export function formatDoctor(results: CheckResult[]): string {
  const width = Math.max(...results.map((result) => result.name.length));
  return results
    .map((result) => `${MARK[result.status]}  ${result.name.padEnd(width)}  ${result.detail}${result.fix ? ` (fix: ${result.fix})` : ''}`)
    .join('\n');
}
