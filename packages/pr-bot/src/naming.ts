import type { PullRequestInput } from '@tracemend/contracts';

/** Longest slug part of a branch name. */
export const MAX_SLUG_LENGTH = 40;

/** Lowercase kebab-case of `text`: runs of anything but a-z and 0-9 become one `-`, capped at `max` without a dangling `-`. */
export function kebab(text: string, max: number): string {
  const words = text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (words.length <= max) return words;
  const cut = words.slice(0, max);
  const lastDash = cut.lastIndexOf('-');
  // End on a word boundary when that loses little; otherwise cut inside the long word.
  return (lastDash >= max - 12 ? cut.slice(0, lastDash) : cut).replace(/-+$/, '');
}

/** The failing function's name: the signature's top in-app frame, else the top suspect, else `unknown`. */
export function failingFunction(input: PullRequestInput): string {
  const candidates = [
    input.minimal.signature.frames[0]?.function,
    input.reproduction.expected.frames[0]?.function,
    input.gated.envelope.symptom.frames.find((frame) => frame.inApp)?.function,
    input.localization.suspects[0]?.function,
  ];
  return candidates.find((name): name is string => name !== undefined && name.trim() !== '')?.trim() ?? 'unknown';
}

/** The error type the PR is about, as the reproduced signature names it. */
export function errorType(input: PullRequestInput): string {
  return input.minimal.signature.errorType;
}

/** The short fingerprint used in branch names and titles. */
export function shortFingerprint(input: PullRequestInput): string {
  return input.gated.envelope.identity.fingerprint.slice(0, 8);
}

/** `<errorType>-in-<function>` in kebab-case, at most {@link MAX_SLUG_LENGTH} characters; the same input always gives the same slug. */
export function branchSlug(type: string, fn: string): string {
  return kebab(`${type} in ${fn}`, MAX_SLUG_LENGTH) || 'failure';
}

/** `tracemend/<service>/<fingerprint first 8>-<slug>`: one branch per fingerprint, a valid git ref name. */
export function branchName(input: PullRequestInput): string {
  const service = kebab(input.target.service, 64) || 'service';
  return `tracemend/${service}/${shortFingerprint(input)}-${branchSlug(errorType(input), failingFunction(input))}`;
}
