import { readFileSync } from 'node:fs';

/** One report or output file a real runner produced (see generate.mjs beside it), as text. */
export function runnerReport(name: string): string {
  return readFileSync(new URL(`./${name}`, import.meta.url), 'utf8');
}
