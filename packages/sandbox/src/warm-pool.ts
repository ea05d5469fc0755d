import { createHash } from 'node:crypto';
import { TracemendError } from '@tracemend/contracts';
import { createLogger, type Logger } from '@tracemend/telemetry';
import type { SandboxDriver } from './driver';
import { ResidentHarness } from './replay';

/** Label of a warm-pool container: the hash of its (checkout, dependencies) key. It also carries `tracemend.sandbox`. */
export const POOL_LABEL = 'tracemend.pool';

/** What a warm container is prepared for: one checkout of a (repository, commit) and its dependency folder. */
export interface PoolTarget {
  readonly repoDir: string;
  readonly depsDir?: string;
}

export interface WarmPoolOptions {
  readonly driver: SandboxDriver;
  readonly image: string;
  /** Ready containers kept per (checkout, dependencies); default 1. */
  readonly perKey?: number;
  /** Ready and starting containers across all keys; default 4. */
  readonly total?: number;
  /**
   * A ready container older than this is discarded instead of handed out, so a taken harness still
   * has most of its lifetime (30 minutes) ahead; default 10 minutes.
   */
  readonly maxIdleMs?: number;
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

/** The pool key of a target: its checkout and dependency folders (one checkout per repository and commit). */
export function poolKey(target: PoolTarget): string {
  return createHash('sha256').update(`${target.repoDir}\0${target.depsDir ?? ''}`).digest('hex').slice(0, 32);
}

/**
 * Resident harness containers started ahead per (repository, commit), with the checkout and the
 * read-only dependency mount in place and the harness loaded, so a stage skips the container start
 * and the loader's warm-up. Each container is handed out once and never returns to the pool: one
 * incident's replays can leave state in a container (module state, /tmp), which must not reach
 * another incident. Taking one starts its replacement in the background; the pool is bounded per key
 * and in total, and `drain` removes every container it holds. Warm containers carry `tracemend.sandbox`
 * (so start-up orphan reaping finds them) and `tracemend.pool`, not an incident label, since they are
 * created before any incident is known.
 */
export class WarmPool {
  private readonly slots = new Map<string, Slot>();
  private readonly perKey: number;
  private readonly total: number;
  private readonly maxIdleMs: number;
  private readonly logger: Logger;
  private readonly starts = new Set<Promise<void>>();
  private draining = false;

  constructor(private readonly options: WarmPoolOptions) {
    this.perKey = options.perKey ?? DEFAULT_PER_KEY;
    this.total = options.total ?? DEFAULT_TOTAL;
    this.maxIdleMs = options.maxIdleMs ?? DEFAULT_MAX_IDLE_MS;
    for (const [name, value] of [
      ['perKey', this.perKey],
      ['total', this.total],
      ['maxIdleMs', this.maxIdleMs],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) throw new TracemendError('INVALID_INPUT', `warm pool ${name} must be a positive integer, got ${value}`);
    }
    this.logger = options.logger ?? createLogger({ name: 'sandbox-pool' });
  }

  /** Ready containers for the target (or in all, without one). */
  readyCount(target?: PoolTarget): number {
    if (target !== undefined) return this.slots.get(poolKey(target))?.ready.length ?? 0;
    return [...this.slots.values()].reduce((sum, slot) => sum + slot.ready.length, 0);
  }

  /** Starts containers for the target in the background until it has `perKey` ready, within the total bound. */
  warm(target: PoolTarget): void {
    if (this.draining) return;
    const key = poolKey(target);
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = { target, ready: [], starting: 0 };
      this.slots.set(key, slot);
    }
    while (slot.ready.length + slot.starting < this.perKey && this.held() < this.total) {
      slot.starting += 1;
      const started = this.startOne(key, slot).finally(() => this.starts.delete(started));
      this.starts.add(started);
    }
  }

  /**
   * Hands out a ready container for the target, or undefined when none is ready (the caller starts
   * its own). The container leaves the pool for good; a replacement starts in the background.
   */
  take(target: PoolTarget): ResidentHarness | undefined {
    const slot = this.slots.get(poolKey(target));
    let taken: Warm | undefined;
    while (slot !== undefined && (taken = slot.ready.shift()) !== undefined) {
      if (taken.harness.usable && Date.now() - taken.readyAt <= this.maxIdleMs) break;
      void taken.harness.close();
      taken = undefined;
    }
    this.warm(target);
    return taken?.harness;
  }

  /** Stops replenishing and removes every container the pool holds, including those still starting. */
  async drain(): Promise<void> {
    this.draining = true;
    await Promise.allSettled([...this.starts]);
    const ready = [...this.slots.values()].flatMap((slot) => slot.ready.splice(0));
    await Promise.allSettled(ready.map((warm) => warm.harness.close()));
    this.slots.clear();
  }

  private held(): number {
    return [...this.slots.values()].reduce((sum, slot) => sum + slot.ready.length + slot.starting, 0);
  }

  private async startOne(key: string, slot: Slot): Promise<void> {
    try {
      const harness = await ResidentHarness.start({
        driver: this.options.driver,
        image: this.options.image,
        repoDir: slot.target.repoDir,
        ...(slot.target.depsDir === undefined ? {} : { depsDir: slot.target.depsDir }),
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
