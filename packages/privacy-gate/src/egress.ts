import { createHash } from 'node:crypto';
import { detect } from './detectors';

/** One egress finding: which detector and where — never the value. */
export interface LeakFinding {
  detector: string;
  offset: number;
  length: number;
}

/** SHA-256 (hex) of a raw value, as `gateEnvelopeDetailed` reports them; the set stays inside the worker. */
export function hashRawValue(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

const WORD = /[^\s"'`,;()[\]{}<>]+/g;
const MAX_WORDS_PER_VALUE = 4;

/**
 * Scans outgoing text (an LLM prompt, a PR body, a test file, a log line) for anything the gate
 * would not have let through, plus any exact raw value whose hash the gate reported. An empty result
 * means the text may leave; callers block on any finding.
 */
export function scanForLeaks(text: string, options: { knownRawValueHashes?: ReadonlySet<string> } = {}): LeakFinding[] {
  const findings: LeakFinding[] = detect(text).map((match) => ({
    detector: match.detector,
    offset: match.start,
    length: match.end - match.start,
  }));
  const known = options.knownRawValueHashes;
  if (known !== undefined && known.size > 0) {
    const words = [...text.matchAll(WORD)].map((match) => ({ start: match.index, end: match.index + match[0].length }));
    for (let i = 0; i < words.length; i++) {
      for (let j = i; j < Math.min(words.length, i + MAX_WORDS_PER_VALUE); j++) {
        const start = words[i]?.start ?? 0;
        const end = words[j]?.end ?? 0;
        if (known.has(hashRawValue(text.slice(start, end)))) {
          findings.push({ detector: 'known-raw-value', offset: start, length: end - start });
        }
      }
    }
  }
  return findings.sort((a, b) => a.offset - b.offset || b.length - a.length);
}
