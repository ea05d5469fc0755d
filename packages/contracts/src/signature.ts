/**
 * An error message without the parts that vary between occurrences of one bug: quoted values,
 * UUIDs, hex ids, emails, query strings and numbers become placeholders. Ingest groups alerts by it
 * and the sandbox compares replayed failures by it, so both sides normalize the same way.
 */
export function normalizeErrorMessage(message: string): string {
  return message
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>')
    .replace(/[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g, '<email>')
    .replace(/\b(?:0x)?[0-9a-f]{12,}\b/gi, '<hex>')
    .replace(/"(?:[^"\\]|\\.)*"/g, '"<v>"')
    .replace(/`(?:[^`\\]|\\.)*`/g, '`<v>`')
    // Single quotes hold values, except in V8's own "(reading 'push')", which names the property.
    .replace(/(?<!reading )'(?:[^'\\]|\\.)*'/g, "'<v>'")
    .replace(/\?[^\s]*/g, '?<query>')
    .replace(/\b\d+(?:\.\d+)?\b/g, '<n>')
    .trim();
}
