import { createHash } from 'node:crypto';
import { chown, mkdir, readFile, readdir, readlink, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { TracemendError } from '@tracemend/contracts';
import { baseHostEnv, moveIntoPlace, privateStaging, removeStaging, runHostCommand, untrustedWorkUser, type HostUser } from './host-command';
import { detectPackageManager, isBerryLockfile, LOCKFILES, type LockfileName, type PackageManagerName, type PackageManagerPlan } from './package-manager';
import { isInsideTree, readFileInside, resolveInside } from '@tracemend/process';

export interface InstallDependenciesOptions {
  /** Host checkout of the target repository; must hold package.json, and a lockfile or a `commitDate`. */
  readonly repoDir: string;
  /** Host directory of the dependency cache, one entry per lockfile, manager and version. */
  readonly cacheRoot: string;
  /**
   * When the checked-out commit was made (ISO 8601, as `git log -1 --format=%cI`). A checkout without
   * a lockfile is installed with the versions the registry offered then; without a lockfile it is required.
   */
  readonly commitDate?: string;
  /** Limit for the install itself; defaults to 10 minutes. */
  readonly timeoutMs?: number;
  /** Who runs the package manager; defaults to `untrustedWorkUser()` (the sandbox user when the worker is root). */
  readonly user?: HostUser;
  /** Aborting kills the package manager and removes its staging folder; no cache entry is left behind. */
  readonly signal?: AbortSignal;
}

/** How a cache entry was installed: kept beside its node_modules so a cache hit can say so too. */
const InstallRecord = z.object({
  manager: z.enum(['npm', 'pnpm', 'yarn']),
  version: z.string().optional(),
  lockfile: z.enum(LOCKFILES).nullable(),
  resolvedBefore: z.string().optional(),
});
type InstallRecord = z.infer<typeof InstallRecord>;

export interface InstalledDependencies {
  /** `<cacheRoot>/<lockHash>/node_modules`, ready to mount read-only at /work/node_modules. */
  readonly depsDir: string;
  /** The cache key: sha256 of the lockfile with the manager and its version, or of package.json with the date it was resolved at. */
  readonly lockHash: string;
  /** True when this call ran the install and placed the result; false on a cache hit. */
  readonly installed: boolean;
  /** The package manager that installed the folder. */
  readonly manager: PackageManagerName;
  /** Its version, when it was fetched for the install (pnpm, yarn); npm is the worker's own. */
  readonly version?: string;
  /** The lockfile installed from, or null when the checkout has none. */
  readonly lockfile: LockfileName | null;
  /** Without a lockfile: the date (ISO 8601) the registry's versions were taken as of. */
  readonly resolvedBefore?: string;
}

const DEFAULT_INSTALL_TIMEOUT_MS = 10 * 60 * 1000;
/** Fetching the package manager itself from the registry. */
const TOOL_INSTALL_TIMEOUT_MS = 3 * 60 * 1000;
/** Lockfiles of large monorepos run to tens of MiB; anything far beyond is not a manifest. */
const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;
/** A committed yarn berry release is a few MiB of JavaScript. */
const MAX_YARN_RELEASE_BYTES = 64 * 1024 * 1024;
/**
 * Variables of the worker the package manager may see: where the registry is, how to reach it and
 * which certificate authorities to trust (pnpm and yarn read no npm config for that). Nothing else, no token.
 */
const NPM_PASSED_ENV = ['npm_config_registry', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy', 'NODE_EXTRA_CA_CERTS'] as const;
/** The npm package each manager is fetched as. */
const TOOL_PACKAGE = { pnpm: 'pnpm', classic: 'yarn', berry: '@yarnpkg/cli-dist' } as const;
/** Lines of a failed install's output an error message keeps from its start and from its end. */
const ERROR_OUTPUT_LINES = 10;

/** The package manager's whole environment: a search path, a private home and cache, the registry settings above. */
export function managerEnv(home: string): Record<string, string> {
  const passed = Object.fromEntries(NPM_PASSED_ENV.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]]])));
  return { ...baseHostEnv(home), ...passed, npm_config_cache: join(home, '.npm'), npm_config_update_notifier: 'false' };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Reads a file of the (untrusted) checkout without following a link out of it; undefined when it is absent. */
async function readOptional(repoDir: string, name: string, maxBytes = MAX_MANIFEST_BYTES): Promise<Buffer | undefined> {
  try {
    return await readFileInside(repoDir, name, { maxBytes });
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The file names under a checkout's `.yarn/releases`, without following a link out of the checkout. */
async function yarnReleasesOf(repoDir: string): Promise<string[]> {
  const folder = await resolveInside(repoDir, '.yarn/releases');
  if (!folder.exists) return [];
  const entries = await readdir(folder.path, { withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
}

/**
 * Refuses a finished node_modules with a symbolic link that is absolute or points out of it: the cache
 * entry is moved and mounted elsewhere, where such a link would dangle or reach the host.
 */
async function assertLinksInside(dir: string, manager: PackageManagerName): Promise<void> {
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isSymbolicLink()) continue;
    const path = join(entry.parentPath, entry.name);
    const target = await readlink(path);
    if (isAbsolute(target) || !isInsideTree(dir, resolve(dirname(path), target))) {
      throw new TracemendError('INTERNAL', `${manager} left node_modules/${relative(dir, path)} linking to ${target}, outside node_modules; it could not be mounted elsewhere`, {
        details: { link: relative(dir, path), target },
      });
    }
  }
}

/**
 * The reason in a failed command's output: its first and last lines, since npm states the reason
 * before a page of usage text and pnpm and yarn state it last (pnpm on stdout).
 */
export function outputExcerpt(error: unknown): string {
  const { stderr = '', stdout = '' } = error as { stderr?: string; stdout?: string };
  const lines = ([stdout.trim(), stderr.trim()].filter(Boolean).join('\n') || String(error)).split('\n');
  const kept = lines.length <= ERROR_OUTPUT_LINES * 2 ? lines : [...lines.slice(0, ERROR_OUTPUT_LINES), '…', ...lines.slice(-ERROR_OUTPUT_LINES)];
  return kept.map((line) => line.slice(0, 300)).join('\n');
}

/** One install's inputs: what was read from the checkout and what the plan made of it. */
interface InstallInputs {
  readonly plan: PackageManagerPlan;
  readonly manifest: Buffer;
  readonly lock: Buffer | undefined;
  readonly yarnRelease: Buffer | undefined;
  readonly resolvedBefore: string | undefined;
}

async function readInputs(options: InstallDependenciesOptions): Promise<InstallInputs> {
  const manifest = await readOptional(options.repoDir, 'package.json');
  if (manifest === undefined) {
    throw new TracemendError('INVALID_INPUT', `No package.json in ${options.repoDir}: only Node repositories get their dependencies installed`, {
      details: { repoDir: options.repoDir, missing: 'package.json' },
    });
  }
  const lockfiles: Partial<Record<LockfileName, string>> = {};
  const locks = new Map<LockfileName, Buffer>();
  for (const name of LOCKFILES) {
    const content = await readOptional(options.repoDir, name);
    if (content === undefined) continue;
    locks.set(name, content);
    lockfiles[name] = content.toString('utf8');
  }
  const berry = lockfiles['yarn.lock'] !== undefined && isBerryLockfile(lockfiles['yarn.lock']);
  const plan = detectPackageManager({ packageJson: manifest.toString('utf8'), lockfiles, yarnReleases: berry ? await yarnReleasesOf(options.repoDir) : [] });
  const yarnRelease = plan.yarnRelease === undefined ? undefined : await readFileInside(options.repoDir, `.yarn/releases/${plan.yarnRelease}`, { maxBytes: MAX_YARN_RELEASE_BYTES });
  if (plan.lockfile !== null) return { plan, manifest, lock: locks.get(plan.lockfile), yarnRelease, resolvedBefore: undefined };
  if (options.commitDate === undefined || Number.isNaN(Date.parse(options.commitDate))) {
    throw new TracemendError(
      'INVALID_INPUT',
      `${options.repoDir} has no lockfile (${LOCKFILES.join(', ')}), so its dependencies are resolved as of its commit's date: pass commitDate as an ISO 8601 date (got ${String(options.commitDate)})`,
      { details: { repoDir: options.repoDir, missing: 'lockfile' } },
    );
  }
  return { plan, manifest, lock: undefined, yarnRelease, resolvedBefore: new Date(options.commitDate).toISOString() };
}

/** The cache key: what was installed from, with the manager and version that installed it. */
function cacheKey(inputs: InstallInputs): string {
  const hash = createHash('sha256');
  const { plan } = inputs;
  if (inputs.lock === undefined) {
    hash.update(`npm install --before=${inputs.resolvedBefore ?? ''}\0`).update(inputs.manifest);
  } else {
    // npm keeps the bare lockfile hash, so entries installed before other managers were supported stay valid.
    if (plan.manager !== 'npm') hash.update(`${plan.manager}@${plan.yarnRelease ?? plan.version ?? ''}\0`);
    hash.update(inputs.lock);
  }
  return hash.digest('hex');
}

/** A command of the install, for running and for naming in an error. */
interface InstallCommand {
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  /** How an error names it: the manager and its arguments, without staging paths. */
  readonly shown: string;
  readonly version?: string;
}

type Runner = (file: string, args: readonly string[], cwd: string, env: Record<string, string>, timeoutMs: number) => Promise<unknown>;

/**
 * Fetches pnpm or yarn from the npm registry into the staging folder's `tools` (scripts off), or takes
 * the checkout's committed berry release, and answers how to run it with node.
 */
async function fetchManager(inputs: InstallInputs, staging: { dir: string; home: string }, run: Runner, signal: AbortSignal | undefined): Promise<{ bin: string; version: string }> {
  const { plan } = inputs;
  const tools = join(staging.dir, 'tools');
  if (inputs.yarnRelease !== undefined && plan.yarnRelease !== undefined) {
    const bin = join(tools, plan.yarnRelease);
    await writeFile(bin, inputs.yarnRelease);
    return { bin, version: plan.version ?? plan.yarnRelease };
  }
  const name = plan.manager === 'pnpm' ? TOOL_PACKAGE.pnpm : plan.flavour === 'berry' ? TOOL_PACKAGE.berry : TOOL_PACKAGE.classic;
  const spec = `${name}@${plan.version ?? 'latest'}`;
  // A project folder of its own rather than --prefix, which would also move where npm looks for its global config.
  const args = ['install', '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', spec];
  try {
    await run('npm', args, tools, managerEnv(staging.home), TOOL_INSTALL_TIMEOUT_MS);
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new TracemendError('INVALID_INPUT', `cannot fetch ${plan.manager} as \`npm install ${spec}\` from the npm registry; if packageManager in package.json names a version that was never published, correct it:\n${outputExcerpt(error)}`, {
      cause: error,
      details: { manager: plan.manager, spec },
    });
  }
  const packageDir = join(tools, 'node_modules', name);
  const tool = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as { version: string; bin?: string | Record<string, string> };
  const binName = plan.manager === 'pnpm' ? 'pnpm' : 'yarn';
  const bin = typeof tool.bin === 'string' ? tool.bin : tool.bin?.[binName];
  if (bin === undefined) throw new TracemendError('INTERNAL', `${spec} from the registry has no ${binName} executable in its package.json`);
  return { bin: join(packageDir, bin), version: tool.version };
}

/** The install command of the plan, run in `project` with the manager's bin (for pnpm and yarn). */
function installCommand(inputs: InstallInputs, home: string, manager: { bin: string; version: string } | undefined): InstallCommand {
  const env = managerEnv(home);
  const { plan } = inputs;
  if (plan.manager === 'npm') {
    const args =
      inputs.resolvedBefore === undefined
        ? ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error']
        : ['install', `--before=${inputs.resolvedBefore}`, '--ignore-scripts', '--no-audit', '--no-fund', '--package-lock=false', '--loglevel=error'];
    return { file: 'npm', args, env, shown: `npm ${args.join(' ')}` };
  }
  if (manager === undefined) throw new TracemendError('INTERNAL', `${plan.manager} was not fetched before its install`);
  const withBin = (args: string[], extraEnv: Record<string, string> = {}): InstallCommand => ({
    file: process.execPath,
    args: [manager.bin, ...args],
    env: { ...env, ...extraEnv },
    shown: `${plan.manager}@${manager.version} ${args.map((arg) => (arg.startsWith(home) ? `<private home>${arg.slice(home.length)}` : arg)).join(' ')}`,
    version: manager.version,
  });
  if (plan.manager === 'pnpm') {
    // Hoisted and copied: a plain node_modules with relative links only and no hard link into pnpm's store.
    return withBin([
      'install',
      '--frozen-lockfile',
      '--ignore-scripts',
      '--config.node-linker=hoisted',
      '--config.package-import-method=copy',
      '--config.package-manager-strict=false',
      '--config.manage-package-manager-versions=false',
      '--reporter=append-only',
      '--store-dir',
      join(home, 'pnpm-store'),
    ]);
  }
  if (plan.flavour === 'berry') {
    const registry = process.env.npm_config_registry;
    return withBin(['install', '--immutable'], {
      YARN_NODE_LINKER: 'node-modules',
      YARN_ENABLE_SCRIPTS: 'false',
      YARN_ENABLE_TELEMETRY: 'false',
      YARN_ENABLE_GLOBAL_CACHE: 'false',
      YARN_ENABLE_PROGRESS_BARS: 'false',
      YARN_ENABLE_IMMUTABLE_INSTALLS: 'true',
      YARN_IGNORE_PATH: '1',
      YARN_CACHE_FOLDER: join(home, 'yarn-cache'),
      YARN_GLOBAL_FOLDER: join(home, 'yarn-global'),
      ...(registry === undefined ? {} : { YARN_NPM_REGISTRY_SERVER: registry }),
    });
  }
  // Engines are not enforced: the sandbox runs one Node whatever the packages ask for, as npm does by default.
  return withBin(['install', '--frozen-lockfile', '--ignore-scripts', '--ignore-engines', '--non-interactive', '--no-progress', '--cache-folder', join(home, 'yarn-cache')], {
    YARN_IGNORE_PATH: '1',
  });
}

async function readRecord(entryDir: string): Promise<InstallRecord | undefined> {
  try {
    return InstallRecord.parse(JSON.parse(await readFile(join(entryDir, 'install.json'), 'utf8')));
  } catch {
    return undefined;
  }
}

function result(depsDir: string, lockHash: string, installed: boolean, record: InstallRecord): InstalledDependencies {
  return {
    depsDir,
    lockHash,
    installed,
    manager: record.manager,
    lockfile: record.lockfile,
    ...(record.version === undefined ? {} : { version: record.version }),
    ...(record.resolvedBefore === undefined ? {} : { resolvedBefore: record.resolvedBefore }),
  };
}

/**
 * Installs a repository's dependencies once per lockfile (with its manager and version), on the host
 * (the sandbox has no network), with install scripts disabled: npm, pnpm or yarn as the checkout's
 * lockfile and `packageManager` field say, frozen to the lockfile; without a lockfile npm with the
 * versions the registry offered at `commitDate`. The manager runs as `user` (the sandbox user when the
 * worker is root) in a private staging folder, with an environment of its own: the worker's tokens and
 * other variables never reach it. The result moves into the cache only when the install succeeded; on
 * failure or abort the staging folder is removed and no cache entry exists. Concurrent calls for one
 * key are safe: the first to place its result wins and the others reuse it.
 */
export async function installDependencies(options: InstallDependenciesOptions): Promise<InstalledDependencies> {
  const inputs = await readInputs(options);
  const { plan } = inputs;
  const lockHash = cacheKey(inputs);
  const entryDir = join(options.cacheRoot, lockHash);
  const depsDir = join(entryDir, 'node_modules');
  const planned: InstallRecord = {
    manager: plan.manager,
    lockfile: plan.lockfile,
    ...(plan.version === undefined ? {} : { version: plan.version }),
    ...(inputs.resolvedBefore === undefined ? {} : { resolvedBefore: inputs.resolvedBefore }),
  };
  if (await isDirectory(depsDir)) return result(depsDir, lockHash, false, (await readRecord(entryDir)) ?? planned);

  await mkdir(options.cacheRoot, { recursive: true });
  const user = 'user' in options ? options.user : untrustedWorkUser();
  const staging = await privateStaging(`tracemend-deps-${lockHash.slice(0, 12)}`, user);
  const run: Runner = (file, args, cwd, env, timeoutMs) =>
    runHostCommand(file, args, {
      cwd,
      env,
      ...(user === undefined ? {} : { user }),
      timeoutMs,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  try {
    const project = join(staging.dir, 'project');
    const entry = join(staging.dir, 'entry');
    await mkdir(project);
    await mkdir(entry);
    const written = [project, join(project, 'package.json')];
    await writeFile(join(project, 'package.json'), inputs.manifest);
    if (plan.lockfile !== null && inputs.lock !== undefined) {
      await writeFile(join(project, plan.lockfile), inputs.lock);
      written.push(join(project, plan.lockfile));
    }
    let manager: { bin: string; version: string } | undefined;
    if (plan.manager !== 'npm') {
      await mkdir(join(staging.dir, 'tools'));
      await writeFile(join(staging.dir, 'tools', 'package.json'), '{"private":true}\n');
      written.push(join(staging.dir, 'tools'));
    }
    if (user !== undefined) for (const path of written) await chown(path, user.uid, user.gid);
    if (plan.manager !== 'npm') manager = await fetchManager(inputs, staging, run, options.signal);
    const command = installCommand(inputs, staging.home, manager);
    try {
      await run(command.file, command.args, project, command.env, options.timeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const from = plan.lockfile === null ? `package.json without a lockfile, resolved as of ${inputs.resolvedBefore ?? ''}` : plan.lockfile;
      throw new TracemendError('INTERNAL', `${plan.manager} failed to install ${from} (cache key ${lockHash.slice(0, 12)}): \`${command.shown}\`\n${outputExcerpt(error)}`, {
        cause: error,
        details: { lockHash, manager: plan.manager, command: command.shown },
      });
    }
    const staged = join(project, 'node_modules');
    if (!(await isDirectory(staged))) await mkdir(staged);
    // The sandbox mounts node_modules read-only, and ava fails a run whose cache folder it cannot create.
    if (await isDirectory(join(staged, 'ava'))) await mkdir(join(staged, '.cache', 'ava'), { recursive: true });
    await assertLinksInside(staged, plan.manager);
    options.signal?.throwIfAborted();
    const record: InstallRecord = { ...planned, ...(command.version === undefined ? {} : { version: command.version }) };
    await writeFile(join(entry, 'install.json'), `${JSON.stringify(record)}\n`);
    await rename(staged, join(entry, 'node_modules'));
    const installed = await moveIntoPlace(entry, entryDir, () => isDirectory(depsDir));
    return result(depsDir, lockHash, installed, installed ? record : ((await readRecord(entryDir)) ?? planned));
  } finally {
    await removeStaging(staging.dir);
  }
}

/** A short line for a reviewer on how the dependencies were installed; it leads with a missing lockfile. */
export function describeDependencies(installed: Pick<InstalledDependencies, 'manager' | 'version' | 'lockfile' | 'resolvedBefore'>): string {
  if (installed.lockfile === null) return `no lockfile: dependencies resolved as of ${installed.resolvedBefore ?? 'an unknown date'} with npm install --before`;
  return `installed from ${installed.lockfile} with ${installed.manager}${installed.version === undefined ? '' : `@${installed.version}`}, scripts off`;
}
