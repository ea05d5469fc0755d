// Where the repository's modules load from: the checkout at /work (through a TypeScript loader), or a
// prepared JavaScript tree (`--prepared=<dir>`) holding each .ts file compiled beside a link to it, so
// plain `node` runs it. Paths in the prepared tree are reported as the checkout paths they stand for.
import { existsSync } from 'node:fs';

const FLAG = '--prepared=';
const COMPILED = /\.(?:[cm]?ts|tsx)\.[cm]js$/;
const given = process.argv.find((arg) => arg.startsWith(FLAG));
if (given !== undefined) process.argv.splice(process.argv.indexOf(given), 1);

/** The prepared tree's root with a trailing slash, or undefined when modules load from the checkout. */
export const PREPARED_ROOT = given === undefined ? undefined : `${given.slice(FLAG.length).replace(/\/+$/, '')}/`;

/** The file to import for a repo-relative module: its compiled form when prepared, else the checkout's file. */
export function moduleFile(repoRoot, modulePath) {
  if (PREPARED_ROOT !== undefined) {
    for (const extension of ['.mjs', '.cjs']) {
      const compiled = PREPARED_ROOT + modulePath + extension;
      if (existsSync(compiled)) return compiled;
    }
  }
  return repoRoot + modulePath;
}

/** The checkout path a prepared file stands for (`<root>src/a.ts.mjs` is `/work/src/a.ts`); other paths unchanged. */
export function checkoutPath(path, repoRoot) {
  if (PREPARED_ROOT === undefined || !path.startsWith(PREPARED_ROOT)) return path;
  const relative = path.slice(PREPARED_ROOT.length);
  return repoRoot + (COMPILED.test(relative) ? relative.slice(0, -'.mjs'.length) : relative);
}
