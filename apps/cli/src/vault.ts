import { resolve } from 'node:path';
import { TracemendError } from '@tracemend/contracts';
import { privacyStateFiles } from '@tracemend/privacy-gate';
import { openVaultReader, type RevealedValue } from '@tracemend/privacy-gate/vault';
import { cliStateDir, type CliConfig } from './env';
import type { CliIo } from './io';
import { VAULT_USAGE } from './usage';


interface RevealArgs {
  token: string;
  vault?: string;
  json: boolean;
}

function parseRevealArgs(args: readonly string[]): RevealArgs {
  const [action, ...rest] = args;
  if (action !== 'reveal') throw new Error(action === undefined ? 'missing action "reveal"' : `unknown action "${action}"`);
  let token: string | undefined;
  let vault: string | undefined;
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--vault') {
      vault = rest[++i];
      if (vault === undefined) throw new Error('--vault needs a file');
    } else if (arg === '--json') json = true;
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else if (token === undefined) token = arg;
    else throw new Error(`unexpected argument "${arg}"`);
  }
  if (token === undefined || token === '') throw new Error('missing the token to reveal');
  return { token, json, ...(vault ? { vault } : {}) };
}

function formatRevealed(values: readonly RevealedValue[]): string {
  return values
    .map((value) =>
      [
        `${value.token} -> ${value.raw}`,
        `  type: ${value.type}`,
        `  token key: ${value.keyId}`,
        `  incidents: ${value.incidentIds.length === 0 ? '(none)' : value.incidentIds.join(', ')}`,
        `  first recorded: ${value.firstSeen}`,
      ].join('\n'),
    )
    .join('\n');
}

/**
 * `tracemend vault reveal <token>`: the operator's way back from a token to the raw value, opened
 * with TRACEMEND_VAULT_KEY. Exit codes: 0 found, 1 not in the vault, 2 a usage, key or vault error.
 */
export async function runVault(args: readonly string[], config: CliConfig, root: string, io: CliIo): Promise<number> {
  let parsed: RevealArgs;
  try {
    parsed = parseRevealArgs(args);
  } catch (error) {
    io.err(`tracemend vault: ${(error as Error).message}\n${VAULT_USAGE}`);
    return 2;
  }
  if (config.vaultKey === undefined) {
    io.err('tracemend vault: TRACEMEND_VAULT_KEY is not set: the vault opens only with the operator key it was written with');
    return 2;
  }
  const file = parsed.vault ? resolve(parsed.vault) : privacyStateFiles(cliStateDir(config, root)).vault;
  let values: RevealedValue[];
  try {
    const reader = await openVaultReader({ file, key: config.vaultKey });
    try {
      values = reader.reveal(parsed.token);
    } finally {
      reader.close();
    }
  } catch (error) {
    if (!(error instanceof TracemendError)) throw error;
    io.err(`tracemend vault: ${error.code}: ${error.message}`);
    return 2;
  }
  if (values.length === 0) {
    io.err(`tracemend vault: no record of token ${parsed.token} in ${file}`);
    return 1;
  }
  io.out(parsed.json ? JSON.stringify(values, null, 2) : formatRevealed(values));
  return 0;
}
