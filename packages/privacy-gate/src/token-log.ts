import { issuedTokenSet, type IssuedTokenCheck } from './detectors';
import type { Tokenizer, TokenType } from './tokenize';

/** One token the gate issued and the raw value behind it; held in memory until the vault encrypts it. */
export interface TokenMapping {
  token: string;
  type: TokenType;
  raw: string;
}

/** A tokenizer that remembers every token it issues, so the gate can report what it tokenized. */
export interface TokenLog {
  readonly tokenizer: Tokenizer;
  /** The distinct mappings issued so far, in issue order. */
  mappings(): TokenMapping[];
  /** Confirms a token this log's tokenizer issued, so the gate never takes its own tokens for raw values. */
  readonly issuedTokens: IssuedTokenCheck;
}

/**
 * Wraps `tokenizer` so each `token` and `numberToken` call is remembered. Keyed hashes are not:
 * the `hash` action is one-way by contract, so nothing can reveal it.
 */
export function createTokenLog(tokenizer: Tokenizer): TokenLog {
  const issued = new Map<string, TokenMapping>();
  const tokens = issuedTokenSet();
  const remember = (mapping: TokenMapping): void => {
    const key = `${mapping.type}\u0000${mapping.token}\u0000${mapping.raw}`;
    if (!issued.has(key)) issued.set(key, mapping);
    tokens.add(mapping.type, mapping.token);
  };
  return {
    tokenizer: {
      ...tokenizer,
      token(value, type) {
        const token = tokenizer.token(value, type);
        remember({ token, type, raw: value });
        return token;
      },
      numberToken(value) {
        const token = tokenizer.numberToken(value);
        remember({ token: String(token), type: 'number', raw: String(value) });
        return token;
      },
    },
    mappings: () => [...issued.values()],
    issuedTokens: tokens.has,
  };
}
