// Freezes time, seeds randomness and swaps the environment per job. Installed once; `beginJob` re-arms it.
import nodeCrypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';

const RealDate = globalThis.Date;
let frozenMs = RealDate.now();
let nextRandom = mulberry32(1);
let nextUuidRandom = mulberry32(2);

/** mulberry32: a small, fast PRNG with a 32-bit state; good enough for replay, not for secrets. */
export function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over a string, as an unsigned 32-bit seed. */
export function hashSeed(text) {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function FrozenDate(...args) {
  if (!new.target) return new RealDate(frozenMs).toString();
  return Reflect.construct(RealDate, args.length === 0 ? [frozenMs] : args, new.target === FrozenDate ? RealDate : new.target);
}
FrozenDate.prototype = RealDate.prototype;
FrozenDate.now = () => frozenMs;
FrozenDate.parse = RealDate.parse;
FrozenDate.UTC = RealDate.UTC;
Object.defineProperty(FrozenDate, 'name', { value: 'Date' });

function deterministicUuid() {
  const bytes = new Uint8Array(16);
  for (let index = 0; index < 16; index++) bytes[index] = Math.floor(nextUuidRandom() * 256);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Replaces Date, Math.random and randomUUID (node:crypto and Web Crypto) with job-controlled versions. */
export function installDeterminism() {
  globalThis.Date = FrozenDate;
  Math.random = () => nextRandom();
  nodeCrypto.randomUUID = deterministicUuid;
  if (globalThis.crypto) {
    Object.defineProperty(globalThis.crypto, 'randomUUID', { value: deterministicUuid, configurable: true, writable: true });
  }
  // ESM importers of node:crypto see the patched export only after this.
  syncBuiltinESMExports();
}

/** The real Date, for the harness's own timing. */
export const realNow = () => RealDate.now();

/**
 * Arms the job: time frozen at `timing.recordedAt`, randomness seeded from `timing.randomSeed` or else
 * from a hash of `recordedAt` (so every candidate of one incident sees the same sequence), and
 * `process.env` replaced by the job's env plus TZ and FEATURE_FLAGS.
 */
export function beginJob(job) {
  const recorded = RealDate.parse(job.timing?.recordedAt ?? '');
  frozenMs = Number.isFinite(recorded) ? recorded : 0;
  const seed = Number.isInteger(job.timing?.randomSeed) ? job.timing.randomSeed >>> 0 : hashSeed(String(job.timing?.recordedAt ?? job.id));
  nextRandom = mulberry32(seed);
  nextUuidRandom = mulberry32(seed ^ 0x9e3779b9);

  const environment = job.environment ?? {};
  const env = { ...(environment.env ?? {}) };
  const flags = environment.featureFlags ?? {};
  if (env.FEATURE_FLAGS === undefined && Object.keys(flags).length > 0) env.FEATURE_FLAGS = JSON.stringify(flags);
  if (environment.locale && env.LANG === undefined) env.LANG = environment.locale;
  env.TZ = environment.timezone ?? env.TZ ?? 'UTC';
  // The real process.env object is kept: assigning TZ on it is what makes Node reset its timezone cache.
  for (const key of Object.keys(process.env)) delete process.env[key];
  for (const [key, value] of Object.entries(env)) process.env[key] = String(value);
}
