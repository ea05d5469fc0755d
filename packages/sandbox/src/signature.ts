import { createHash } from 'node:crypto';
import { normalizeErrorMessage, type FailureSignature } from '@tracemend/contracts';

/** A stack frame as the envelope's symptom and the harness report it. */
export interface SignatureFrame {
  readonly function: string;
  readonly file: string;
  readonly inApp: boolean;
}

export interface SignatureInput {
  readonly errorType: string;
  readonly message: string;
  readonly frames: readonly SignatureFrame[];
}

/** How many in-app frames, from the top, take part in a signature. */
export const SIGNATURE_FRAMES = 3;

/**
 * The signature of a failure: error type, normalized message and the top in-app frames (function and
 * file, no line numbers, so a fix elsewhere in the file keeps the signature); `hash` is the sha256 of
 * those fields.
 */
export function failureSignature(input: SignatureInput): FailureSignature {
  const normalizedMessage = normalizeErrorMessage(input.message);
  const frames = input.frames
    .filter((frame) => frame.inApp)
    .slice(0, SIGNATURE_FRAMES)
    .map((frame) => ({ function: frame.function, file: frame.file }));
  const hash = createHash('sha256')
    .update(JSON.stringify([input.errorType, normalizedMessage, frames.map((frame) => [frame.function, frame.file])]))
    .digest('hex');
  return { errorType: input.errorType, normalizedMessage, frames, hash };
}

/** Whether two signatures describe the same failure. */
export function signaturesMatch(a: FailureSignature, b: FailureSignature): boolean {
  return a.hash === b.hash;
}

/** A short human description of a signature, e.g. `TypeError "Cannot read…" at normalizePreferences (src/users.ts)`. */
export function describeSignature(signature: FailureSignature): string {
  const top = signature.frames[0];
  return `${signature.errorType} "${signature.normalizedMessage}"${top ? ` at ${top.function} (${top.file})` : ' outside the repository code'}`;
}
