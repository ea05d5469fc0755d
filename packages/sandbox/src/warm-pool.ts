import { createHash } from 'node:crypto';
import { TracemendError } from '@tracemend/contracts';
import { createLogger, type Logger } from '@tracemend/telemetry';
import type { SandboxDriver } from './driver';
import type { PreparedJsTree } from './prepared-js';
import { ResidentHarness } from './replay';

/** Label of a warm-pool container: its pool key (`poolKey`). It also carries `tracemend.sandbox`. */
export const POOL_LABEL = 'tracemend.pool';

/**
 * What a warm container is prepared for: one checkout of a (repository, commit), its dependency
 * folder and, when the harness runs on a prepared JavaScript tree, that tree (it is part of the
 * container's command and mounts, so a container started without it cannot serve a caller with it).
 */
export interface PoolTarget {
  /** The image the container runs; default the pool's `image`. A target's own Node image is part of the key. */
  readonly image?: string;
  readonly repoDir: string;
  readonly depsDir?: string;
  readonly preparedJs?: PreparedJsTree;
}

/** Who took a warm container: the incident it now serves. */
export interface TakeOptions {
  /**
   * The incident the container serves from now on. Docker cannot relabel a running container, so
   * the pool keeps this association itself (`takenFor`) until the container has stopped.
   */
  readonly incidentId?: string;
}

export interface WarmPoolOptions {
  readonly driver: SandboxDriver;
  readonly image: string;
  /** Ready containers kept per (checkout, dependencies); default 1. */
  readonly perKey?: number;
  /** Ready and starting containers across all keys; default 4. */
  readonly total?: number;
  /**
   * A ready container idle longer than this is closed and removed, never handed out, so a taken
   * harness still has most of its lifetime (30 minutes) ahead and an idle one does not hold memory
   * for long; default 10 minutes.
   */
  readonly maxIdleMs?: number;
  /** How often idle and dead containers are swept out in the background; default a quarter of `maxIdleMs`, at most 1 minute. */
  readonly sweepIntervalMs?: number;
  readonly logger?: Logger;
}

interface Warm {
  readonly harness: ResidentHarness;
  readonly readyAt: number;
}

interface Slot {
  readonly target: PoolTarget;
  readonly ready: Warm[];
  starting: number;
}

const DEFAULT_PER_KEY = 1;
const DEFAULT_TOTAL = 4;
const DEFAULT_MAX_IDLE_MS = 10 * 60 * 1000;
const MAX_SWEEP_INTERVAL_MS = 60 * 1000;

/** The pool key of a target: its checkout, dependency folder and prepared tree (one checkout per repository and commit). */
export function poolKey(target: PoolTarget): string {
  return createHash('sha256')
    .update(`${target.repoDir}\0${target.depsDir ?? ''}\0${target.preparedJs?.dir ?? ''}${target.image === undefined ? '' : `\0${target.image}`}`)
    .digest('hex')
    .slice(0, 32);
}

/**
 * Resident harness containers started ahead per (repository, commit), with the checkout and the
 * read-only dependency mount in place and the harness loaded, so a stage skips the container start
 * and the loader's warm-up. Each container is handed out once and never returns to the pool: one
 * incident's replays can leave state in a container (module state, /tmp), which must not reach
 * another incident. Taking one starts its replacement in the background; the pool is bounded per key
 * and in total, and `drain` removes every container it holds. Containers that died or idled past
 * `maxIdleMs` are removed by a background sweep and whenever the pool is asked to warm, and when the
 * total bound is reached a new commit takes the place of the longest-idle ready container of another,
 * so the pool follows the commits incidents arrive for. Warm containers carry `tracemend.sandbox` (so
 * start-up orphan reaping finds them) and `tracemend.pool`, not an incident label, since they are
 * created before any incident is known; `takenFor` tells which incident a taken one serves.
 */
export class WarmPool {
  private readonly slots = new Map<string, Slot>();
  private readonly perKey: number;
  private readonly total: number;
  private readonly maxIdleMs: number;
  private readonly logger: Logger;
  private readonly starts = new Set<Promise<void>>();
  /** Containers handed out, with the incident each serves; forgotten once they stop. */
  private readonly taken = new Map<ResidentHarness, string | undefined>();
  private readonly sweeper: NodeJS.Timeout;
  private draining = false;

  constructor(private readonly options: WarmPoolOptions) {
    this.perKey = options.perKey ?? DEFAULT_PER_KEY;
    this.total = options.total ?? DEFAULT_TOTAL;
    this.maxIdleMs = options.maxIdleMs ?? DEFAULT_MAX_IDLE_MS;
    const sweepIntervalMs = options.sweepIntervalMs ?? Math.min(MAX_SWEEP_INTERVAL_MS, Math.max(1, Math.floor(this.maxIdleMs / 4)));
    for (const [name, value] of [
      ['perKey', this.perKey],
      ['total', this.total],
      ['maxIdleMs', this.maxIdleMs],
      ['sweepIntervalMs', sweepIntervalMs],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) throw new TracemendError('INVALID_INPUT', `warm pool ${name} must be a positive integer, got ${value}`);
    }
    this.logger = options.logger ?? createLogger({ name: 'sandbox-pool' });
    // The sweep only removes containers; it never keeps the worker process alive.
    this.sweeper = setInterval(() => this.sweep(), sweepIntervalMs);
    this.sweeper.unref();
  }

  /** The target as the pool keys it: naming the pool's own image is the same as naming none. */
  private keyed(target: PoolTarget): { key: string; target: PoolTarget } {
    if (target.image !== this.options.image) return { key: poolKey(target), target };
    const { image: _image, ...rest } = target;
    return { key: poolKey(rest), target: rest };
  }

  /** Ready containers for the target (or in all, without one). */
  readyCount(target?: PoolTarget): number {
    if (target !== undefined) return this.slots.get(this.keyed(target).key)?.ready.length ?? 0;
    return [...this.slots.values()].reduce((sum, slot) => sum + slot.ready.length, 0);
  }

  /** Starts containers for the target in the background until it has `perKey` ready, within the total bound. */
  warm(wanted: PoolTarget): void {
    if (this.draining) return;
    this.sweep();
    const { key, target } = this.keyed(wanted);
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = { target, ready: [], starting: 0 };
      this.slots.set(key, slot);
    }
    while (slot.ready.length + slot.starting < this.perKey && (this.held() < this.total || this.evictIdlestOtherThan(key))) {
      slot.starting += 1;
      const started = this.startOne(key, slot).finally(() => this.starts.delete(started));
      this.starts.add(started);
    }
  }

  /** The incident a taken container serves, while it runs; undefined for containers the pool did not hand out. */
  takenFor(containerId: string): string | undefined {
    return this.running().find(([harness]) => harness.containerId === containerId)?.[1];
  }

  /** Ids of the running containers handed out for the incident. */
  containersOf(incidentId: string): string[] {
    return this.running().flatMap(([harness, incident]) => (incident === incidentId ? [harness.containerId] : []));
  }

  /** Taken containers still running; a stopped or closed harness is no longer `usable` and is forgotten. */
  private running(): [ResidentHarness, string | undefined][] {
    for (const harness of this.taken.keys()) if (!harness.usable) this.taken.delete(harness);
    return [...this.taken];
  }

  /**
   * Hands out a ready container for the target, or undefined when none is ready (the caller starts
   * its own). The container leaves the pool for good; a replacement starts in the background.
   */
  take(target: PoolTarget, options: TakeOptions = {}): ResidentHarness | undefined {
    const slot = this.slots.get(this.keyed(target).key);
    let taken: Warm | undefined;
    while (slot !== undefined && (taken = slot.ready.shift()) !== undefined) {
      if (this.fresh(taken)) break;
      this.discard(taken);
      taken = undefined;
    }
    if (taken !== undefined) this.track(taken.harness, options.incidentId);
    this.warm(target);
    return taken?.harness;
  }

  /** Stops replenishing and removes every container the pool holds, including those still starting. */
  async drain(): Promise<void> {
    this.draining = true;
    clearInterval(this.sweeper);
    await Promise.allSettled([...this.starts]);
    const ready = [...this.slots.values()].flatMap((slot) => slot.ready.splice(0));
    await Promise.allSettled(ready.map((warm) => warm.harness.close()));
    this.slots.clear();
  }

  /** Ready and starting containers across all keys (`warm` sweeps the dead and idle ones out first). */
  private held(): number {
    return [...this.slots.values()].reduce((sum, slot) => sum + slot.ready.length + slot.starting, 0);
  }

  private fresh(warm: Warm): boolean {
    return warm.harness.usable && Date.now() - warm.readyAt <= this.maxIdleMs;
  }

  private discard(warm: Warm): void {
    void warm.harness.close().catch((error: unknown) => this.logger.warn({ err: error }, 'removing a warm sandbox container failed'));
  }

  /** Closes ready containers that died or idled past `maxIdleMs` and forgets keys that hold nothing. */
  private sweep(): void {
    for (const [key, slot] of this.slots) {
      const keep = slot.ready.filter((warm) => this.fresh(warm));
      for (const warm of slot.ready) if (!keep.includes(warm)) this.discard(warm);
      slot.ready.splice(0, slot.ready.length, ...keep);
      if (slot.ready.length === 0 && slot.starting === 0) this.slots.delete(key);
    }
  }

  /** At the total bound, closes the longest-idle ready container of another key to make room; false when there is none. */
  private evictIdlestOtherThan(key: string): boolean {
    let idlest: { slot: Slot; warm: Warm } | undefined;
    for (const [other, slot] of this.slots) {
      if (other === key) continue;
      for (const warm of slot.ready) if (idlest === undefined || warm.readyAt < idlest.warm.readyAt) idlest = { slot, warm };
    }
    if (idlest === undefined) return false;
    idlest.slot.ready.splice(idlest.slot.ready.indexOf(idlest.warm), 1);
    this.discard(idlest.warm);
    return true;
  }

  /** Remembers whom a taken container serves until it stops. */
  private track(harness: ResidentHarness, incidentId: string | undefined): void {
    this.running();
    this.taken.set(harness, incidentId);
  }

  private async startOne(key: string, slot: Slot): Promise<void> {
    try {
      const harness = await ResidentHarness.start({
        driver: this.options.driver,
        image: slot.target.image ?? this.options.image,
        repoDir: slot.target.repoDir,
        ...(slot.target.depsDir === undefined ? {} : { depsDir: slot.target.depsDir }),
        ...(slot.target.preparedJs === undefined ? {} : { preparedJs: slot.target.preparedJs }),
        labels: { [POOL_LABEL]: key },
        logger: this.logger,
      });
      if (this.draining) {
        await harness.close();
        return;
      }
      slot.ready.push({ harness, readyAt: Date.now() });
    } catch (error) {
      // A failed warm start costs nothing but the head start; the stage starts its own container.
      this.logger.warn({ err: error, key }, 'starting a warm sandbox container failed');
    } finally {
      slot.starting -= 1;
    }
  }
}
