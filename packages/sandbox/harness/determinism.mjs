// Controls time, randomness, locale and the environment per job. Installed once; `beginJob` re-arms it.
import nodeCrypto from 'node:crypto';
import nodeTimers from 'node:timers';
import timersPromises from 'node:timers/promises';
import { promisify } from 'node:util';
import { patch, syncBuiltins } from './patches.mjs';

const RealDate = globalThis.Date;
const realTimers = {
  setTimeout: globalThis.setTimeout,
  setInterval: globalThis.setInterval,
  promisesSetTimeout: timersPromises.setTimeout,
  promisesSetInterval: timersPromises.setInterval,
};
// Node 18 has Web Crypto only as node:crypto's `webcrypto`; from Node 19 it is also `globalThis.crypto`, the same object.
const webCrypto = globalThis.crypto ?? nodeCrypto.webcrypto;
const realCrypto = {
  randomBytes: nodeCrypto.randomBytes,
  randomFill: nodeCrypto.randomFill,
  randomFillSync: nodeCrypto.randomFillSync,
  randomInt: nodeCrypto.randomInt,
  getRandomValues: webCrypto.getRandomValues,
};
const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;
const MAX_RANDOM_VALUES_BYTES = 65_536;

let recordedMs = RealDate.now();
// Virtual milliseconds since the job started; only a timer callback of the current job moves it.
let virtualMs = 0;
let jobEpoch = 0;
let nextRandom = mulberry32(1);
let nextUuidRandom = mulberry32(2);
let nextByteRandom = mulberry32(3);
let defaultLocale;

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

// The clock is frozen at the recorded instant: real elapsed time never moves it. When a timer of the
// current job fires, the clock first moves to that timer's virtual due time (the virtual time when it
// was scheduled plus its delay, never backwards), so `await sleep(100)` reads exactly 100 ms later and
// two runs read the same values as long as their timers fire in the same order.
const replayNow = () => recordedMs + Math.floor(virtualMs);

function advanceTo(epoch, dueMs) {
  if (epoch === jobEpoch && dueMs > virtualMs) virtualMs = dueMs;
}

// Node's own rule: a delay below 1 ms, above the 32-bit limit or not a number becomes 1 ms.
const TIMEOUT_MAX = 2 ** 31 - 1;
function effectiveDelay(delay) {
  const ms = Number(delay);
  return ms >= 1 && ms <= TIMEOUT_MAX ? ms : 1;
}

// `refresh()` restarts a timer with its delay from now, so its due time moves with it.
function trackRefresh(timer, reschedule) {
  if (typeof timer?.refresh !== 'function') return timer;
  const realRefresh = timer.refresh;
  Object.defineProperty(timer, 'refresh', {
    value() {
      reschedule();
      return realRefresh.call(this);
    },
    writable: true,
    configurable: true,
  });
  return timer;
}

function replaySetTimeout(callback, delay, ...args) {
  if (typeof callback !== 'function') return realTimers.setTimeout(callback, delay, ...args);
  const epoch = jobEpoch;
  const ms = effectiveDelay(delay);
  let due = virtualMs + ms;
  const timer = realTimers.setTimeout(function replayTimeout() {
    advanceTo(epoch, due);
    return callback.apply(this, args);
  }, delay);
  return trackRefresh(timer, () => (due = virtualMs + ms));
}

function replaySetInterval(callback, delay, ...args) {
  if (typeof callback !== 'function') return realTimers.setInterval(callback, delay, ...args);
  const epoch = jobEpoch;
  const ms = effectiveDelay(delay);
  let last = virtualMs;
  const timer = realTimers.setInterval(function replayInterval() {
    last += ms;
    advanceTo(epoch, last);
    return callback.apply(this, args);
  }, delay);
  return trackRefresh(timer, () => (last = virtualMs));
}

function promisesSetTimeout(delay, value, options) {
  const epoch = jobEpoch;
  const due = virtualMs + effectiveDelay(delay);
  return realTimers.promisesSetTimeout(delay, value, options).then((result) => {
    advanceTo(epoch, due);
    return result;
  });
}

function promisesSetInterval(delay, value, options) {
  const epoch = jobEpoch;
  const ms = effectiveDelay(delay);
  let last = virtualMs;
  const ticks = realTimers.promisesSetInterval(delay, value, options);
  const step = (result) => {
    if (!result.done) {
      last += ms;
      advanceTo(epoch, last);
    }
    return result;
  };
  return {
    next: () => ticks.next().then(step),
    return: (result) => ticks.return(result),
    throw: (error) => ticks.throw(error),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

replaySetTimeout[promisify.custom] = promisesSetTimeout;
Object.defineProperty(replaySetTimeout, 'name', { value: 'setTimeout' });
Object.defineProperty(replaySetInterval, 'name', { value: 'setInterval' });

function installTimers() {
  for (const target of [globalThis, nodeTimers]) {
    patch(target, 'setTimeout', replaySetTimeout);
    patch(target, 'setInterval', replaySetInterval);
  }
  patch(timersPromises, 'setTimeout', promisesSetTimeout);
  patch(timersPromises, 'setInterval', promisesSetInterval);
  if (typeof timersPromises.scheduler?.wait === 'function') {
    patch(timersPromises.scheduler, 'wait', (delay, options) => promisesSetTimeout(delay, undefined, options));
  }
}

function ReplayDate(...args) {
  if (!new.target) return new RealDate(replayNow()).toString();
  return Reflect.construct(RealDate, args.length === 0 ? [replayNow()] : args, new.target === ReplayDate ? RealDate : new.target);
}
ReplayDate.prototype = RealDate.prototype;
ReplayDate.now = replayNow;
ReplayDate.parse = RealDate.parse;
ReplayDate.UTC = RealDate.UTC;
Object.defineProperty(ReplayDate, 'name', { value: 'Date' });

function hrtimeBigint() {
  return BigInt(recordedMs) * NS_PER_MS + BigInt(Math.round(virtualMs * 1e6));
}

function hrtime(previous) {
  const now = hrtimeBigint();
  let seconds = Number(now / NS_PER_S);
  let nanos = Number(now % NS_PER_S);
  if (Array.isArray(previous)) {
    seconds -= previous[0];
    nanos -= previous[1];
    if (nanos < 0) {
      seconds -= 1;
      nanos += 1e9;
    }
  }
  return [seconds, nanos];
}
hrtime.bigint = hrtimeBigint;

function fillRandom(bytes) {
  for (let index = 0; index < bytes.length; index++) bytes[index] = Math.floor(nextByteRandom() * 256);
  return bytes;
}

function bytesOf(target) {
  if (target instanceof ArrayBuffer) return new Uint8Array(target);
  return ArrayBuffer.isView(target) ? new Uint8Array(target.buffer, target.byteOffset, target.byteLength) : undefined;
}

function deterministicUuid() {
  const bytes = new Uint8Array(16);
  for (let index = 0; index < 16; index++) bytes[index] = Math.floor(nextUuidRandom() * 256);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// Arguments outside the simple shapes go to the real function, which throws Node's own error for them.
function randomBytes(size, callback) {
  if (!Number.isSafeInteger(size) || size < 0 || (callback !== undefined && typeof callback !== 'function')) return realCrypto.randomBytes(size, callback);
  const buffer = fillRandom(Buffer.alloc(size));
  if (callback === undefined) return buffer;
  process.nextTick(callback, null, buffer);
  return undefined;
}

function fillRange(target, offset = 0, size) {
  const bytes = bytesOf(target);
  const unit = target?.BYTES_PER_ELEMENT ?? 1;
  const start = offset * unit;
  const length = size === undefined ? (bytes?.length ?? 0) - start : size * unit;
  if (bytes === undefined || !Number.isSafeInteger(start) || !Number.isSafeInteger(length) || start < 0 || length < 0 || start + length > bytes.length) return false;
  fillRandom(bytes.subarray(start, start + length));
  return true;
}

function randomFillSync(target, offset, size) {
  return fillRange(target, offset, size) ? target : realCrypto.randomFillSync(target, offset, size);
}

function randomFill(target, ...rest) {
  const callback = rest.pop();
  if (typeof callback !== 'function' || !fillRange(target, ...rest)) return realCrypto.randomFill(target, ...rest, callback);
  process.nextTick(callback, null, target);
  return undefined;
}

function randomInt(...args) {
  const callback = typeof args.at(-1) === 'function' ? args.pop() : undefined;
  const [min, max] = args.length === 1 ? [0, args[0]] : args;
  if (args.length > 2 || !Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max <= min || max - min > 2 ** 48) {
    return realCrypto.randomInt(...args, ...(callback ? [callback] : []));
  }
  const value = min + Math.floor(nextByteRandom() * (max - min));
  if (callback === undefined) return value;
  process.nextTick(callback, null, value);
  return undefined;
}

function getRandomValues(array) {
  const integers = ArrayBuffer.isView(array) && !(array instanceof DataView) && !(array instanceof Float32Array) && !(array instanceof Float64Array);
  if (!integers || array.byteLength > MAX_RANDOM_VALUES_BYTES) return realCrypto.getRandomValues.call(webCrypto, array);
  fillRandom(bytesOf(array));
  return array;
}

/** The envelope's locale as a BCP 47 tag (`sv_SE.UTF-8` becomes `sv-SE`), or undefined when it is not one. */
export function toLanguageTag(locale) {
  if (typeof locale !== 'string') return undefined;
  const tag = locale.replace(/[.@].*$/, '').replace(/_/g, '-');
  if (tag === '' || tag === 'C' || tag === 'POSIX') return undefined;
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
}

// Node has no API to change ICU's default locale after start, so every entry point that takes
// `locales` gets the job's locale when the caller passes none.
const INTL_CONSTRUCTORS = ['Collator', 'DateTimeFormat', 'DisplayNames', 'ListFormat', 'NumberFormat', 'PluralRules', 'RelativeTimeFormat', 'Segmenter'];
const LOCALE_METHODS = [
  [Date.prototype, 'toLocaleString', 0],
  [Date.prototype, 'toLocaleDateString', 0],
  [Date.prototype, 'toLocaleTimeString', 0],
  [Number.prototype, 'toLocaleString', 0],
  [BigInt.prototype, 'toLocaleString', 0],
  [Array.prototype, 'toLocaleString', 0],
  [String.prototype, 'localeCompare', 1],
  [String.prototype, 'toLocaleLowerCase', 0],
  [String.prototype, 'toLocaleUpperCase', 0],
];

function withLocale(args, index) {
  if (defaultLocale === undefined || args[index] !== undefined) return args;
  const copy = [...args];
  copy[index] = defaultLocale;
  return copy;
}

function installLocale() {
  for (const name of INTL_CONSTRUCTORS) {
    const Real = Intl[name];
    if (typeof Real !== 'function') continue;
    function Localized(...args) {
      return Reflect.construct(Real, withLocale(args, 0), new.target === undefined || new.target === Localized ? Real : new.target);
    }
    Localized.prototype = Real.prototype;
    Localized.supportedLocalesOf = Real.supportedLocalesOf;
    Object.defineProperty(Localized, 'name', { value: name });
    patch(Intl, name, Localized);
  }
  for (const [prototype, name, index] of LOCALE_METHODS) {
    const real = prototype[name];
    const localized = {
      [name](...args) {
        return real.apply(this, withLocale(args, index));
      },
    }[name];
    patch(prototype, name, localized);
  }
}

/**
 * Replaces Date, performance.now, process.hrtime, setTimeout and setInterval (global, node:timers and
 * node:timers/promises, so their callbacks move the frozen clock), Math.random, the random functions of
 * node:crypto and Web Crypto, and the default locale of Intl with job-controlled versions.
 */
export function installDeterminism() {
  patch(globalThis, 'Date', ReplayDate);
  patch(performance, 'now', () => virtualMs);
  patch(performance, 'timeOrigin', { get: () => recordedMs }, { descriptor: true });
  patch(process, 'hrtime', hrtime);
  patch(Math, 'random', () => nextRandom());
  // node:crypto's own getRandomValues (a fixed accessor) calls the Web Crypto one patched below.
  for (const [name, value] of Object.entries({ randomUUID: deterministicUuid, randomBytes, randomFill, randomFillSync, randomInt })) patch(nodeCrypto, name, value);
  for (const [name, value] of [['randomUUID', deterministicUuid], ['getRandomValues', getRandomValues]]) patch(webCrypto, name, value);
  installTimers();
  installLocale();
  // ESM importers of node:crypto and node:timers(/promises) see the patched exports only after this.
  syncBuiltins();
}

/** The real Date, for the harness's own timing. */
export const realNow = () => RealDate.now();

/**
 * Arms the job: the clock is set to `timing.recordedAt` (performance.now() at 0) and frozen there,
 * timers left over from earlier jobs no longer move it, randomness is seeded
 * from `timing.randomSeed` or else from a hash of `recordedAt` (so every candidate of one incident sees
 * the same sequences), the default locale becomes `environment.locale`, and `process.env` is replaced by
 * the job's env (the host wrote the feature flags into it) plus TZ and LANG.
 */
export function beginJob(job) {
  const recorded = RealDate.parse(job.timing?.recordedAt ?? '');
  recordedMs = Number.isFinite(recorded) ? recorded : 0;
  const seed = Number.isInteger(job.timing?.randomSeed) ? job.timing.randomSeed >>> 0 : hashSeed(String(job.timing?.recordedAt ?? job.id));
  nextRandom = mulberry32(seed);
  nextUuidRandom = mulberry32(seed ^ 0x9e3779b9);
  nextByteRandom = mulberry32(seed ^ 0x85ebca6b);

  const environment = job.environment ?? {};
  defaultLocale = toLanguageTag(environment.locale);
  const env = { ...(environment.env ?? {}) };
  if (environment.locale && env.LANG === undefined) env.LANG = environment.locale;
  env.TZ = environment.timezone ?? env.TZ ?? 'UTC';
  // The real process.env object is kept: assigning TZ on it is what makes Node reset its timezone cache.
  for (const key of Object.keys(process.env)) delete process.env[key];
  for (const [key, value] of Object.entries(env)) process.env[key] = String(value);
  virtualMs = 0;
  jobEpoch++;
}
