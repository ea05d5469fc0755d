import { isTestFile } from '@tracemend/test-runners';

/** An identifier: property accesses, destructured names, shorthand members. */
const IDENTIFIER = /[A-Za-z_$][\w$]*/g;
/** A quoted string on one line: bracket accesses (`event['detail-type']`), quoted keys, key lists. */
const QUOTED = /'((?:\\.|[^'\\\n])*)'|"((?:\\.|[^"\\\n])*)"|`((?:\\.|[^`\\$\n])*)`/g;
/** A longer string is text, not a key. */
const MAX_KEY_CHARS = 128;

/**
 * Every name the service's own code could read a field by: its identifiers and the short strings it
 * quotes, from its sources without its tests (which name the fields of their fixtures, not of what the
 * service reads) and without tracemend's own emitted tests. Comments count too: a field a comment
 * describes is kept, which costs a line of the test at most.
 */
export function namesInCode(sources: ReadonlyMap<string, string>): Set<string> {
  const names = new Set<string>();
  for (const [path, text] of sources) {
    if (isTestFile(path) || /(?:^|\/)tracemend-[^/]*$/.test(path)) continue;
    for (const [name] of text.matchAll(IDENTIFIER)) names.add(name);
    for (const match of text.matchAll(QUOTED)) {
      const quoted = match[1] ?? match[2] ?? match[3] ?? '';
      if (quoted !== '' && quoted.length <= MAX_KEY_CHARS) names.add(quoted.includes('\\') ? unescape(quoted) : quoted);
    }
  }
  return names;
}

/** The text of a quoted string with simple escapes resolved (`'it\'s'` is `it's`). */
function unescape(quoted: string): string {
  return quoted.replace(/\\(.)/g, '$1');
}
