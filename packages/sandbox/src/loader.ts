import { access, readFile, realpath } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { TracemendError } from '@tracemend/contracts';
import type { ReadOnlyMount } from './driver';

/** Where tracemend's own TypeScript loader is mounted when the repository does not bring one. */
export const TOOLCHAIN_NODE_MODULES = '/opt/tracemend/node_modules';

/** How the sandboxed node process loads TypeScript: the `--import` argument and any mounts it needs. */
export interface TypeScriptLoader {
  /** Value of `node --import`: `tsx` (the repository's own) or a file URL of the mounted one. */
  readonly importSpecifier: string;
  readonly mounts: readonly ReadOnlyMount[];
  readonly source: 'repository' | 'tracemend';
}

interface PackageManifest {
  name: string;
  exports?: unknown;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function readManifest(dir: string): Promise<PackageManifest> {
  return JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as PackageManifest;
}

/** Real directories of a host package and its (optional) dependencies that resolve on this platform. */
async function packageClosure(name: string, from: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const visit = async (packageName: string, parentFile: string): Promise<void> => {
    if (found.has(packageName)) return;
    let manifestPath: string;
    try {
      manifestPath = createRequire(parentFile).resolve(`${packageName}/package.json`);
    } catch {
      // Optional dependencies for other platforms are absent.
      return;
    }
    const dir = await realpath(dirname(manifestPath));
    found.set(packageName, dir);
    const manifest = await readManifest(dir);
    for (const dependency of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
      await visit(dependency, join(dir, 'package.json'));
    }
  };
  await visit(name, from);
  return found;
}

function importEntry(exportsField: unknown): string | undefined {
  const root = typeof exportsField === 'object' && exportsField !== null && '.' in exportsField ? (exportsField as Record<string, unknown>)['.'] : exportsField;
  if (typeof root === 'string') return root;
  if (typeof root === 'object' && root !== null) {
    const conditions = root as Record<string, unknown>;
    for (const key of ['import', 'default']) {
      const value = conditions[key];
      if (typeof value === 'string') return value;
      const nested = importEntry(value);
      if (nested !== undefined) return nested;
    }
  }
  return undefined;
}

/**
 * The repository's own `tsx` when its dependencies hold one; otherwise tracemend's `tsx` (with
 * esbuild and its platform binary) mounted read-only under /opt/tracemend/node_modules.
 */
export async function resolveTypeScriptLoader(depsDir: string | undefined): Promise<TypeScriptLoader> {
  if (depsDir !== undefined && (await exists(join(depsDir, 'tsx', 'package.json')))) {
    return { importSpecifier: 'tsx', mounts: [], source: 'repository' };
  }
  const closure = await packageClosure('tsx', import.meta.filename);
  const tsxDir = closure.get('tsx');
  const entry = tsxDir === undefined ? undefined : importEntry((await readManifest(tsxDir)).exports);
  if (entry === undefined) throw new TracemendError('INTERNAL', 'tracemend cannot locate its own tsx loader to mount into the sandbox');
  const mounts = [...closure].map(([name, dir]) => ({ source: dir, target: `${TOOLCHAIN_NODE_MODULES}/${name}` }));
  return { importSpecifier: `file://${TOOLCHAIN_NODE_MODULES}/tsx/${entry.replace(/^\.\//, '')}`, mounts, source: 'tracemend' };
}
