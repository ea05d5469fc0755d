import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** AES-256-GCM parts of one sealed value. */
export interface Sealed {
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

export const SEAL_NONCE_BYTES = 12;
export const SEAL_TAG_BYTES = 16;

/** A purpose-bound AES-256 key derived from a secret with HKDF-SHA256 (`salt` names the store, `info` the purpose). */
export function deriveSealingKey(secret: Uint8Array, salt: string, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, salt, info, 32));
}

/** Seals `plaintext` under `key` with a fresh nonce; `aad` is bound to it, so the value cannot be moved elsewhere. */
export function seal(key: Buffer, plaintext: Uint8Array | string, aad: string): Sealed {
  const nonce = randomBytes(SEAL_NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: SEAL_TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
  return { nonce, ciphertext, tag: cipher.getAuthTag() };
}

/** The plaintext, or undefined when the tag does not verify (wrong key, other associated data, or altered). */
export function unseal(key: Buffer, sealed: Sealed, aad: string): Buffer | undefined {
  if (sealed.nonce.length !== SEAL_NONCE_BYTES || sealed.tag.length !== SEAL_TAG_BYTES) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.nonce, { authTagLength: SEAL_TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.tag);
  try {
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch {
    return undefined;
  }
}
