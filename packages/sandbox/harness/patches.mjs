// Replaced properties and how to put them back. The sandbox harness never restores them (its process
// ends with the replays); a regression test replays inside the test runner's process, which goes on.
import { syncBuiltinESMExports } from 'node:module';

const undo = [];

/**
 * Makes ESM imports of builtins (`import { request } from 'node:http'`) see the patched properties.
 * The one import of it: the support bundle keeps every name as written, where a second import would be
 * renamed with a digit suffix that the egress guard takes for a secret.
 */
export function syncBuiltins() {
  syncBuiltinESMExports();
}

/** Sets `target[name]` (a value, or a full property descriptor) and remembers what was there. */
export function patch(target, name, value, { descriptor = false } = {}) {
  const had = Object.getOwnPropertyDescriptor(target, name);
  const next = descriptor ? { configurable: true, ...value } : { value, writable: true, configurable: true, enumerable: had?.enumerable ?? false };
  try {
    Object.defineProperty(target, name, next);
  } catch {
    // A non-configurable but writable property (some module exports) still takes an assignment.
    target[name] = descriptor ? value.value : value;
  }
  undo.push(() => {
    try {
      if (had === undefined) delete target[name];
      else Object.defineProperty(target, name, had);
    } catch {
      if (had !== undefined && 'value' in had) target[name] = had.value;
    }
  });
}

/** Puts back everything `patch` replaced, newest first. */
export function restorePatches() {
  while (undo.length > 0) undo.pop()();
}
