import { TracemendError } from '@tracemend/contracts';

/** The package managers whose lockfiles the sandbox installs from. */
export type PackageManagerName = 'npm' | 'pnpm' | 'yarn';

/** The lockfiles a checkout may hold, in the order they are preferred when several are present. */
export const LOCKFILES = ['npm-shrinkwrap.json', 'package-lock.json', 'pnpm-lock.yaml', 'yarn.lock'] as const;
export type LockfileName = (typeof LOCKFILES)[number];

const MANAGER_OF: Record<LockfileName, PackageManagerName> = {
  'npm-shrinkwrap.json': 'npm',
  'package-lock.json': 'npm',
  'pnpm-lock.yaml': 'pnpm',
  'yarn.lock': 'yarn',
};

/** What a checkout says about how its dependencies are installed. */
export interface CheckoutManifests {
  /** The text of package.json. */
  readonly packageJson: string;
  /** The lockfiles present, by name, with their text. */
  readonly lockfiles: Partial<Record<LockfileName, string>>;
  /** File names under `.yarn/releases` (a committed yarn berry release), if any. */
  readonly yarnReleases?: readonly string[];
}

/** How to install a checkout's dependencies: which manager, which version of it, from which lockfile. */
export interface PackageManagerPlan {
  readonly manager: PackageManagerName;
  /** `berry` for yarn 2 and later (a lockfile with `__metadata:`), `classic` for yarn 1. */
  readonly flavour?: 'classic' | 'berry';
  /**
   * The version to fetch from the npm registry: exact from `packageManager`, else a major version
   * that reads the lockfile. Undefined for npm, which is the worker's own.
   */
  readonly version?: string;
  /** The committed berry release to run (a file name under `.yarn/releases`), when there is one. */
  readonly yarnRelease?: string;
  /** The lockfile installed from; null when the checkout has none (npm resolves by date). */
  readonly lockfile: LockfileName | null;
}

const SUPPORTED = 'npm, pnpm or yarn, as name@x.y.z (for example pnpm@9.12.0 or yarn@4.5.0)';

/** The `packageManager` field of package.json split into a manager and an exact version, if set. */
function requestedManager(packageJson: string): { manager: PackageManagerName; version: string } | undefined {
  let manifest: unknown;
  try {
    manifest = JSON.parse(packageJson);
  } catch (error) {
    throw new TracemendError('INVALID_INPUT', `package.json is not valid JSON (${(error as Error).message}); fix it in the repository`, { cause: error });
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
    throw new TracemendError('INVALID_INPUT', 'package.json must hold a JSON object');
  }
  const field = (manifest as Record<string, unknown>).packageManager;
  if (field === undefined) return undefined;
  // A Corepack-style hash suffix (`pnpm@9.12.0+sha512.…`) pins the download; the registry's own integrity check does that here.
  const match = typeof field === 'string' ? /^(npm|pnpm|yarn)@(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)(?:\+.*)?$/.exec(field) : null;
  if (match === null) {
    const shown = (JSON.stringify(field) ?? 'not JSON').slice(0, 80);
    throw new TracemendError('INVALID_INPUT', `package.json "packageManager" is ${shown}: supported are ${SUPPORTED}`, { details: { packageManager: shown } });
  }
  return { manager: match[1] as PackageManagerName, version: match[2] as string };
}

/** A pnpm major that reads a `pnpm-lock.yaml` of the given `lockfileVersion`. */
function pnpmMajorFor(lockfile: string): string {
  const declared = /^lockfileVersion:\s*['"]?(\d+)(?:\.(\d+))?/m.exec(lockfile);
  if (declared === null) throw new TracemendError('INVALID_INPUT', 'pnpm-lock.yaml has no lockfileVersion; regenerate it with pnpm or set "packageManager" in package.json');
  const major = Number(declared[1]);
  const minor = Number(declared[2] ?? 0);
  if (major >= 9) return '9';
  if (major === 6) return '8';
  if (major === 5 && minor >= 4) return '7';
  if (major === 5) return '6';
  throw new TracemendError('INVALID_INPUT', `pnpm-lock.yaml lockfileVersion ${declared[1]}.${minor} is older than pnpm 6 reads; set "packageManager" in package.json to the pnpm that wrote it`);
}

/** Whether a yarn.lock was written by yarn 2 or later. */
export function isBerryLockfile(lockfile: string): boolean {
  return /^__metadata:/m.test(lockfile);
}

/**
 * Picks the package manager for a checkout from its lockfiles and its `packageManager` field. The field
 * chooses among several lockfiles and gives the version; a manager whose lockfile is missing is not
 * used (a frozen install needs it). Without any lockfile the answer is npm, which resolves by date.
 * Throws INVALID_INPUT for a `packageManager` other than npm, pnpm or yarn.
 */
export function detectPackageManager(checkout: CheckoutManifests): PackageManagerPlan {
  const requested = requestedManager(checkout.packageJson);
  const present = LOCKFILES.filter((name) => checkout.lockfiles[name] !== undefined);
  const lockfile = present.find((name) => MANAGER_OF[name] === requested?.manager) ?? present[0];
  if (lockfile === undefined) return { manager: 'npm', lockfile: null };
  const manager = MANAGER_OF[lockfile];
  const pinned = requested?.manager === manager ? requested.version : undefined;
  const text = checkout.lockfiles[lockfile] ?? '';
  switch (manager) {
    case 'npm':
      return { manager, lockfile, ...(pinned === undefined ? {} : { version: pinned }) };
    case 'pnpm':
      return { manager, lockfile, version: pinned ?? pnpmMajorFor(text) };
    case 'yarn': {
      // A version of the other flavour than the lockfile's cannot install it frozen; the lockfile decides.
      const pinnedClassic = pinned?.startsWith('1.') ? pinned : undefined;
      if (!isBerryLockfile(text)) return { manager, flavour: 'classic', lockfile, version: pinnedClassic ?? '1' };
      const pinnedBerry = pinnedClassic === undefined ? pinned : undefined;
      const releases = (checkout.yarnReleases ?? []).filter((name) => /^yarn-[\w.-]+\.c?js$/.test(name)).sort();
      const release = (pinnedBerry === undefined ? undefined : releases.find((name) => name.startsWith(`yarn-${pinnedBerry}.`))) ?? releases.at(-1);
      const releaseVersion = release === undefined ? undefined : /^yarn-(.+)\.c?js$/.exec(release)?.[1];
      return {
        manager,
        flavour: 'berry',
        lockfile,
        version: pinnedBerry ?? releaseVersion ?? '4',
        ...(release === undefined ? {} : { yarnRelease: release }),
      };
    }
  }
}
