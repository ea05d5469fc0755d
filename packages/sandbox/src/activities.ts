import { join } from 'node:path';
import type Docker from 'dockerode';
import type { RepoTarget, ReproduceInput, Reproduction } from '@tracemend/contracts';
import type { Logger } from '@tracemend/telemetry';
import { commitDateOf, prepareCheckout } from './checkout';
import { describeDependencies, installDependencies } from './dependencies';
import type { SandboxDriver } from './driver';
import { entryHandlersOf } from './invocation';
import { ensureNodeImage } from './node-runtime';
import { describeRequirementSource, resolveNodeVersion, type NodeChoice } from './node-version';
import { ResidentHarness, type ResidentHarnessOptions } from './replay';
import { reproduce } from './reproduce';
import type { WarmPool } from './warm-pool';

/** A prepared checkout of a target's commit and its read-only dependency folder. */
export interface PreparedTarget {
  repoDir: string;
  depsDir: string;
  /** How the dependencies were installed, for the reproduction and the pull request (`describeDependencies`). */
  dependencyNote?: string;
  /**
   * The sandbox image with the Node the checkout asks for, when the host's Node does not satisfy it;
   * every stage runs this instead of its default image (`imageFor`).
   */
  image?: string;
}

/** The image a stage runs a prepared target in: the target's own Node image, else the stage's default. */
export function imageFor(prepared: Pick<PreparedTarget, 'image'>, defaultImage: string): string {
  return prepared.image ?? defaultImage;
}

/** Checkouts and dependency installs per (repository, commit), made once and shared by the sandbox stages. */
export interface Workspace {
  /**
   * The target's checkout and dependencies. Aborting `signal` makes this call reject with its reason;
   * the shared preparation itself stops (git or npm killed, nothing half-made kept) once every caller
   * waiting for it has aborted, so one incident's cancel never fails another's preparation.
   */
  prepare(target: RepoTarget, signal?: AbortSignal): Promise<PreparedTarget>;
}

/** One preparation in progress (or done), shared by every caller for its (repository, commit). */
interface SharedPreparation {
  readonly promise: Promise<PreparedTarget>;
  readonly controller: AbortController;
  /** Callers still waiting; without a signal a caller waits for good. */
  waiting: number;
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('The workspace preparation was aborted', 'AbortError');
}

/** Waits for a shared preparation as one caller; the last caller to abort aborts the preparation. */
function follow(shared: SharedPreparation, signal: AbortSignal | undefined): Promise<PreparedTarget> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  shared.waiting += 1;
  if (signal === undefined) return shared.promise;
  return new Promise<PreparedTarget>((resolve, reject) => {
    const onAbort = (): void => {
      shared.waiting -= 1;
      if (shared.waiting === 0) shared.controller.abort(signal.reason);
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    shared.promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * The folder of checkouts under a workspace root, versioned by how checkouts are made. Version 2
 * checkouts are cloned without hard links and written by the unprivileged host user; a checkout of an
 * earlier version (a plain local clone hard-links `.git/objects`) would be refused by the link checks
 * of every copy, so it is not reused. Earlier folders are caches and can be deleted.
 */
export const CHECKOUTS_FOLDER = 'checkouts-v2';

/** The folder under a workspace root that keeps Node binaries (`<version>/bin/node`) and the list of published versions. */
export const NODE_FOLDER = 'node';

export interface WorkspaceOptions {
  readonly root: string;
  readonly logger: Logger;
  /**
   * Whether a checkout that asks for another Node than the host's (`.nvmrc`, `.node-version`,
   * `engines.node`) gets an image with that Node (default true). False when the operator named the
   * image: it then serves every target as it is.
   */
  readonly matchNode?: boolean;
  /** The engine the Node images are built on; default `connectDocker()`. */
  readonly docker?: Docker;
}

function describeNodeChoice(choice: NodeChoice): string {
  const asked = choice.requirement === undefined ? 'no Node version named' : `${describeRequirementSource(choice.requirement.file)}: ${choice.requirement.value}`;
  return `Node ${choice.version} (${asked}${choice.host ? ", the worker's own" : ''})`;
}

/**
 * A workspace under `root`: `checkouts-v2/<owner>-<name>-<sha12>`, `deps/<cache key>` (see
 * `installDependencies`) and `node/<version>` (see `ensureNodeBinary`).
 */
export function createWorkspace(options: WorkspaceOptions): Workspace {
  const inflight = new Map<string, SharedPreparation>();
  // One image build per Node version at a time, whichever targets ask for it. It takes no caller's
  // signal: one incident's cancel must not fail another's build; a cancelled caller stops after it.
  const images = new Map<string, Promise<string>>();
  const nodeImage = async (version: string, signal: AbortSignal): Promise<string> => {
    let image = images.get(version);
    if (image === undefined) {
      image = ensureNodeImage({ cacheDir: join(options.root, NODE_FOLDER), version, ...(options.docker === undefined ? {} : { docker: options.docker }) }).then((built) => {
        options.logger.info({ tag: built.tag, status: built.status, downloaded: built.binary.downloaded, durationMs: built.durationMs }, 'sandbox image for the Node a repository asks for');
        return built.tag;
      });
      images.set(version, image);
      image.catch(() => images.delete(version));
    }
    const tag = await image;
    signal.throwIfAborted();
    return tag;
  };
  return {
    prepare(target, signal) {
      const key = `${target.repository.cloneUrl}@${target.sha}`;
      let shared = inflight.get(key);
      // Every caller of that preparation cancelled it: it is ending, and a new caller starts afresh
      // rather than wait for a cancellation that was never its own.
      if (shared?.controller.signal.aborted) shared = undefined;
      if (shared === undefined) {
        const controller = new AbortController();
        const promise = (async () => {
          const repoDir = await prepareCheckout({
            cloneUrl: target.repository.cloneUrl,
            sha: target.sha,
            root: join(options.root, CHECKOUTS_FOLDER),
            name: `${target.repository.owner}-${target.repository.name}`,
            signal: controller.signal,
          });
          // Before the install: a repository whose Node no image can have fails at once.
          const node = options.matchNode === false ? undefined : await resolveNodeVersion({ repoDir, cacheDir: join(options.root, NODE_FOLDER), signal: controller.signal });
          const image = node === undefined || node.host ? undefined : await nodeImage(node.version, controller.signal);
          // A checkout without a lockfile is installed with the versions of its commit's day.
          const commitDate = await commitDateOf(repoDir);
          const deps = await installDependencies({
            repoDir,
            cacheRoot: join(options.root, 'deps'),
            ...(commitDate === undefined ? {} : { commitDate }),
            signal: controller.signal,
          });
          const dependencyNote = describeDependencies(deps);
          const nodeNote = node === undefined ? undefined : describeNodeChoice(node);
          options.logger.info(
            { service: target.service, sha: target.sha.slice(0, 12), installed: deps.installed, manager: deps.manager, dependencyNote, node: nodeNote, image },
            'workspace ready',
          );
          return { repoDir, depsDir: deps.depsDir, dependencyNote, ...(image === undefined ? {} : { image }) };
        })();
        const created: SharedPreparation = { promise, controller, waiting: 0 };
        shared = created;
        inflight.set(key, created);
        promise.catch(() => {
          if (inflight.get(key) === created) inflight.delete(key);
        });
      }
      return follow(shared, signal);
    },
  };
}

export interface SandboxStageDeps {
  driver: SandboxDriver;
  image: string;
  workspace: Workspace;
  logger: Logger;
  /** Replays per reproduction (default 5). */
  runs?: number;
  /** Matching share a reproduction needs (default 0.8). */
  threshold?: number;
  /** Warm containers per (repository, commit); without it every harness starts cold. */
  pool?: WarmPool;
}

/** The label naming the incident a sandbox container serves. */
export const INCIDENT_LABEL = 'tracemend.incident';

/**
 * A harness for the options' checkout: a warm one from the pool when there is one, else a freshly
 * started one. Either way the checkout, which other incidents and stages share, is mounted read-only.
 * A warm harness is made the caller's: it was started for the same checkout, dependencies and prepared
 * JavaScript tree (the pool key), takes the caller's job timeout, is tied to the caller's signal, and
 * the pool records the incident it now serves (its container keeps the pool's labels: Docker cannot
 * relabel a running container). A caller asking for other container limits always starts its own.
 */
export async function startHarnessFrom(pool: WarmPool | undefined, options: ResidentHarnessOptions): Promise<ResidentHarness> {
  const incidentId = options.labels?.[INCIDENT_LABEL];
  const warm =
    options.limits === undefined
      ? pool?.take(
          {
            image: options.image,
            repoDir: options.repoDir,
            ...(options.depsDir === undefined ? {} : { depsDir: options.depsDir }),
            ...(options.preparedJs === undefined ? {} : { preparedJs: options.preparedJs }),
          },
          incidentId === undefined ? {} : { incidentId },
        )
      : undefined;
  if (warm === undefined) return ResidentHarness.start(options);
  try {
    if (options.jobTimeoutMs !== undefined) warm.useJobTimeout(options.jobTimeoutMs);
  } catch (error) {
    await warm.close();
    throw error;
  }
  if (options.signal !== undefined) warm.cancelOn(options.signal);
  options.logger?.debug({ containerId: warm.containerId.slice(0, 12), incidentId }, 'took a warm sandbox container');
  return warm;
}

/** What the worker hands every stage call besides its input: the activity's cancellation. */
export interface StageCallContext {
  /** Aborts when the activity is cancelled (the workflow was cancelled); sandbox work stops and its containers are removed. */
  readonly signal?: AbortSignal;
}

/** Starts a resident harness over a prepared target, labelled with the incident; the signal cancels it. */
export function harnessStarter(deps: Pick<SandboxStageDeps, 'driver' | 'image' | 'logger' | 'pool'>) {
  return (prepared: PreparedTarget, incidentId: string, signal?: AbortSignal): Promise<ResidentHarness> =>
    startHarnessFrom(deps.pool, {
      driver: deps.driver,
      image: imageFor(prepared, deps.image),
      repoDir: prepared.repoDir,
      depsDir: prepared.depsDir,
      labels: { [INCIDENT_LABEL]: incidentId },
      logger: deps.logger,
      ...(signal === undefined ? {} : { signal }),
    });
}

/** The reproduce stage: replays the gated envelope in the hardened sandbox. */
export function createSandboxActivities(deps: SandboxStageDeps) {
  return {
    reproduce: async (input: ReproduceInput, context: StageCallContext = {}): Promise<Reproduction> => {
      const prepared = await deps.workspace.prepare(input.target, context.signal);
      const reproduction = await reproduce({
        driver: deps.driver,
        image: imageFor(prepared, deps.image),
        repoDir: prepared.repoDir,
        depsDir: prepared.depsDir,
        envelope: input.gated.envelope,
        handlers: entryHandlersOf(input.target),
        ...(deps.runs === undefined ? {} : { runs: deps.runs }),
        ...(deps.threshold === undefined ? {} : { threshold: deps.threshold }),
        labels: { [INCIDENT_LABEL]: input.incidentId },
        logger: deps.logger,
        ...(context.signal === undefined ? {} : { signal: context.signal }),
        startHarness: (options) => startHarnessFrom(deps.pool, options),
      });
      return prepared.dependencyNote === undefined ? reproduction : { ...reproduction, dependencyNote: prepared.dependencyNote };
    },
  };
}
